const util = require('util');
console.log(util.inspect({ a: { b: { c: { d: {} } } } }, { depth: 0 }));
console.log(util.inspect({ a: { b: { c: { d: {} } } } }, { depth: Infinity }));
console.log(util.inspect('str'), util.inspect(5), util.inspect([1, 'x']));
console.log(util.inspect({ a: 1, b: 2 }, { compact: false }));
console.log(util.inspect({ a: [1, 2, 3], b: { c: 1 } }, { breakLength: 10 }));
console.log(util.inspect(Array.from({ length: 10 }, (_, i) => i), { maxArrayLength: 3 }));
console.log(util.inspect('x'.repeat(30), { maxStringLength: 10 }));
console.log(util.inspect({ z: 1, a: 2, m: 3 }, { sorted: true }));
console.log(util.inspect({ get g() { return 42; } }, { getters: true }));
console.log(util.inspect(1234567.891, { numericSeparator: true }), util.inspect(-1234567n, { numericSeparator: true }));
console.log(util.format('%s=%d', 'x', 5, 'rest'), util.format(1, 2), util.format('%o', [1]));
class Custom { [util.inspect.custom](depth, opts) { return 'Custom<' + depth + '>'; } }
console.log(new Custom(), [new Custom()], { c: new Custom() });
class Custom2 { [Symbol.for('nodejs.util.inspect.custom')]() { return { replaced: [1, 2] }; } }
console.log(new Custom2());
console.log(util.isDeepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), util.isDeepStrictEqual([1], ['1']));
console.log(util.types.isDate(new Date()), util.types.isRegExp(/x/), util.types.isPromise(Promise.resolve()));
console.log(util.inspect(new Map([[1, 2]]), { showHidden: true }));
console.log(util.inspect({ a: 1 }, false, 0), util.inspect.defaultOptions.depth);
