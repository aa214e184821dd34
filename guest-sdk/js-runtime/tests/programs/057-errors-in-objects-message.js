const errs = [new Error('e1'), new TypeError('t1'), new RangeError('r1')];
console.log(errs.map((e) => `${e.name}: ${e.message}`));
console.log(errs.map((e) => e instanceof Error), errs.map(String));
class ValidationError extends Error {
  constructor(field) { super(`invalid ${field}`); this.name = 'ValidationError'; this.field = field; }
}
const v = new ValidationError('email');
console.log(v.name, v.message, v.field, Object.keys(v), JSON.stringify(v));
console.log(Object.prototype.toString.call(v), v.toString());
const withCause = new Error('outer', { cause: new Error('inner') });
console.log(withCause.cause.message);
