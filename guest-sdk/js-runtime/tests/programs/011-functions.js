function named() {}
const arrow = () => {};
const anon = function () {};
async function asyncFn() {}
function* gen() {}
async function* agen() {}
const bound = named.bind(null);
console.log(named, arrow, anon, asyncFn, gen, agen, bound);
console.log([named, arrow]);
console.log({ fn: named, method() {}, arrowProp: () => 1 });
named.prop = 1;
console.log(named);
console.log(Math.max, Array.prototype.push, console.log.name);
const o = { get g() { return 1; }, set s(v) {}, get gs() { return 1; }, set gs(v) {} };
console.log(o);
console.log(Object.defineProperty({}, 'hidden', { value: 1, enumerable: false }));
console.log(named.length, arrow.name, anon.name, bound.name);
