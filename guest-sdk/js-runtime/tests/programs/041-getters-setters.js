class Temp {
  #c = 20;
  get f() { return this.#c * 9 / 5 + 32; }
  set f(v) { this.#c = (v - 32) * 5 / 9; }
}
const t = new Temp();
t.f = 212;
console.log(t.f, t);
const o = Object.create({}, { ro: { value: 1, enumerable: true }, acc: { get() { return 2; }, enumerable: true } });
console.log(o, Object.getOwnPropertyNames(o));
const frozen = Object.freeze({ a: 1 });
frozen.a = 2;
console.log(frozen, Object.isFrozen(frozen));
'use strict';
const sealed = Object.seal({ s: 1 });
delete sealed.s;
console.log(sealed);
console.log(Object.getOwnPropertyDescriptor({ get x() { return 1; } }, 'x'));
console.log(Object.getOwnPropertyDescriptors({ a: 1 }));
