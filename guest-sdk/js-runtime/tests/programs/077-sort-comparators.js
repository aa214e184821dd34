// Array.prototype.sort with consistent and inconsistent comparators: the
// result (and number of calls) depends on the exact algorithm (V8 TimSort).
let seed = 12345;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const comparators = {
  numeric: (a, b) => a - b,
  boolean: (a, b) => a > b,
  neverZero: (a, b) => (a < b ? -1 : 1),
  lessOrEqual: (a, b) => (a <= b ? -1 : 1),
  reversed: (a, b) => b - a,
  byLastDigit: (a, b) => (a % 10) - (b % 10),
  weird: (a, b) => ((a * 31 + b * 17) % 7) - 3,
  stringy: (a, b) => String(a).localeCompare(String(b)),
  nan: (a, b) => (a === b ? NaN : a - b),
};
for (const size of [0, 1, 2, 3, 5, 10, 31, 32, 33, 63, 64, 65, 100, 257, 1000, 3000]) {
  const base = Array.from({ length: size }, () => rnd(size * 2 + 1));
  const line = [];
  for (const [name, cmp] of Object.entries(comparators)) {
    let calls = 0;
    const sorted = base.slice().sort((a, b) => { calls++; return cmp(a, b); });
    let h = 0;
    for (const v of sorted) h = (Math.imul(h, 31) + v) | 0;
    line.push(`${name}:${calls}:${h}`);
  }
  console.log(size, line.join(' '));
}
const objs = Array.from({ length: 50 }, (_, i) => ({ k: rnd(5), i }));
console.log(objs.slice().sort((a, b) => (a.k < b.k ? -1 : 1)).map((o) => o.i).join(','));
console.log(objs.slice().sort((a, b) => a.k > b.k).map((o) => o.i).join(','));
console.log(objs.toSorted((a, b) => b.k - a.k).map((o) => o.i).join(','));
console.log([3, undefined, 1, , 2, undefined, , 0].sort((a, b) => b - a), [, 'b', undefined, 'a'].toSorted((a, b) => a < b ? -1 : 1));
try { [1, 2, 3].sort((a, b) => { throw new Error('cmp failed'); }); } catch (e) { console.log(e.message); }
const arr = [4, 3, 2, 1];
try { arr.sort((a, b) => { if (a === 1) throw new Error('x'); return a - b; }); } catch { console.log('unchanged', arr); }
try { [1, 2].sort('not a function'); } catch (e) { console.log(e.name, e.message); }
