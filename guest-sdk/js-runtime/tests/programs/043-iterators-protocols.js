class Range {
  constructor(n) { this.n = n; }
  [Symbol.iterator]() { let i = 0; const n = this.n; return { next: () => (i < n ? { value: i++, done: false } : { value: undefined, done: true }) }; }
}
console.log([...new Range(4)], Array.from(new Range(3), (x) => x * 10));
const m = new Map([['a', 1], ['b', 2]]);
for (const [k, v] of m) console.log(k, v);
console.log([...m.entries()], [...m.values()], Object.fromEntries(m));
const s = new Set('hello');
console.log([...s].join(''), s.size);
console.log(Array.prototype.entries.call(['x', 'y']).next());
console.log([..."ab"].entries().next().value);
const arr = [10, 20, 30];
for (const i in arr) console.log(typeof i, i);
for (const k in { p: 1, q: 2 }) console.log(k);
