const s = Symbol('desc');
console.log(s, Symbol(), Symbol.iterator, Symbol.for('reg'));
console.log({ [s]: 1, normal: 2, [Symbol()]: 3 });
console.log([s]);
console.log(s.toString(), s.description, typeof s);
const o = {};
Object.defineProperty(o, Symbol('hidden'), { value: 1, enumerable: false });
console.log(o);
console.log(Object(Symbol('boxed')));
