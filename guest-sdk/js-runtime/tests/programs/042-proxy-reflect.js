const target = { a: 1, b: 2 };
const logged = [];
const p = new Proxy(target, { get(t, k, r) { logged.push(String(k)); return Reflect.get(t, k, r); } });
console.log(p.a + p.b, logged);
console.log(p);
console.log(Reflect.ownKeys({ x: 1, [Symbol('s')]: 2 }), Reflect.has({ y: 1 }, 'y'));
const neg = new Proxy([1, 2, 3], { get: (t, k) => (typeof k === 'string' && k < 0 ? t[t.length + +k] : t[k]) });
console.log(neg[-1], neg[0]);
const { proxy, revoke } = Proxy.revocable({}, {});
revoke();
try { proxy.x; } catch (e) { console.log(e.name); }
console.log(Reflect.apply(Math.max, null, [1, 9, 3]), Reflect.construct(Date, [0]).getTime());
