const data = { name: 'x', list: [1, 2, { a: null }], nested: { t: true, f: false }, num: 1.5e10, neg: -0 };
console.log(JSON.stringify(data));
console.log(JSON.stringify(data, null, 2));
console.log(JSON.stringify(data, ['name', 'num']));
console.log(JSON.stringify({ d: new Date(0), u: undefined, f() {}, s: Symbol('x') }));
console.log(JSON.stringify([undefined, function () {}, NaN, Infinity]));
console.log(JSON.stringify('\u2028\u2029"\\\n\u0001'));
console.log(JSON.parse('{"a":[1,2,{"b":"c"}],"d":1e3}'));
console.log(JSON.parse('[1, "2", true, null]', (k, v) => (typeof v === 'number' ? v * 10 : v)));
console.log(JSON.stringify({ toJSON() { return { replaced: true }; } }));
console.log(JSON.stringify({ big: 12345678901234567890 }));
console.log(JSON.stringify('\ud800'));
console.log(JSON.stringify({ a: 1, b: [1, 2] }, null, '--'));
console.log(JSON.stringify(Object.create({ inherited: 1 })));
try { JSON.stringify({ b: 1n }); } catch (e) { console.log(e.name); }
