function* range(a, b, step = 1) { for (let i = a; i < b; i += step) yield i; }
console.log([...range(0, 10, 3)]);
function* fibG() { let [a, b] = [0, 1]; for (;;) { yield a; [a, b] = [b, a + b]; } }
const it = fibG();
console.log(Array.from({ length: 10 }, () => it.next().value));
function* delegating() { yield 1; const r = yield* inner(); yield r; }
function* inner() { yield 2; return 3; }
console.log([...delegating()]);
const g = range(0, 2);
console.log(g.next(), g.next(), g.next(), g.next());
function* twoWay() { const x = yield 'first'; console.log('got', x); }
const t = twoWay(); t.next(); t.next('sent');
console.log(g[Symbol.iterator]() === g, typeof g.return);
const obj = { *[Symbol.iterator]() { yield 'a'; yield 'b'; } };
console.log([...obj], Array.from(obj).join('-'));
console.log(range(0, 1));
