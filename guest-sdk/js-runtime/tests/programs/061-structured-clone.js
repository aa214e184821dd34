const src = { n: 1, s: 'x', d: new Date(0), r: /a/g, m: new Map([[1, { a: 1 }]]), set: new Set([1]), arr: [1, [2]], ta: new Uint8Array([1, 2]) };
src.self = src;
const c = structuredClone(src);
console.log(c.self === c, c.d instanceof Date, c.m.get(1), c !== src, c.arr[1] !== src.arr[1]);
console.log(c);
try { structuredClone(() => 1); } catch (e) { console.log(e.name); }
try { structuredClone({ s: Symbol('q') }); } catch (e) { console.log(e.name); }
