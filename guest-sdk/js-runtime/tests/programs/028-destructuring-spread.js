const { a, b: { c = 5, ...restB } = {}, ...rest } = { a: 1, b: { d: 2, e: 3 }, f: 4, g: 5 };
console.log(a, c, restB, rest);
const [x, , y = 10, ...zs] = [1, 2, undefined, 4, 5];
console.log(x, y, zs);
const merged = { ...{ p: 1, q: 2 }, ...{ q: 3, r: 4 } };
console.log(merged, [...'abc', ...[1, 2]]);
function f({ opt = 'default', list = [] } = {}) { return `${opt}:${list.length}`; }
console.log(f(), f({ opt: 'set', list: [1] }));
let m = 1, n = 2; [m, n] = [n, m];
console.log(m, n);
console.log(Math.max(...[1, 5, 3]), Object.entries({ k: 1, j: 2 }), Object.fromEntries([['a', 1]]));
const obj = { a: 1, b: undefined, c: null };
console.log(obj?.a, obj?.z?.y, obj.c ?? 'dflt', obj.b ?? 'dflt2', 0 || 'or', 0 ?? 'nc');
let la = null; la ??= 'assigned'; let lb = 1; lb ||= 2; let lc = 1; lc &&= 3;
console.log(la, lb, lc);
