function counter() {
  let c = 0;
  return { inc: () => ++c, get: () => c };
}
const c1 = counter(), c2 = counter();
c1.inc(); c1.inc(); c2.inc();
console.log(c1.get(), c2.get());
const fns = [];
for (let i = 0; i < 3; i++) fns.push(() => i);
console.log(fns.map((f) => f()));
var vfns = [];
for (var j = 0; j < 3; j++) vfns.push(() => j);
console.log(vfns.map((f) => f()));
const memo = (fn) => { const cache = new Map(); return (n) => cache.has(n) ? cache.get(n) : (cache.set(n, fn(n)), cache.get(n)); };
const fib = memo((n) => (n < 2 ? n : fib(n - 1) + fib(n - 2)));
console.log(fib(90));
const compose = (...fs) => (x) => fs.reduceRight((acc, f) => f(acc), x);
console.log(compose((x) => x + 1, (x) => x * 2)(5));
function curry(fn) { return function c(...a) { return a.length >= fn.length ? fn(...a) : (...b) => c(...a, ...b); }; }
console.log(curry((a, b, c) => a + b + c)(1)(2)(3));
