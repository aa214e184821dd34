class Counter {
  static #instances = 0;
  #count = 0;
  static create() { Counter.#instances++; return new Counter(); }
  static get instances() { return Counter.#instances; }
  inc() { this.#count++; return this; }
  get value() { return this.#count; }
  #secret() { return 'secret'; }
  reveal() { return this.#secret(); }
  static { this.initialized = true; }
}
const c = Counter.create().inc().inc();
console.log(c.value, Counter.instances, c.reveal(), Counter.initialized);
class Animal { speak() { return `${this.constructor.name} makes a sound`; } }
class Dog extends Animal { speak() { return super.speak() + ' (woof)'; } }
console.log(new Dog().speak(), Dog.name, Object.getOwnPropertyNames(Dog.prototype));
const mixin = (B) => class extends B { mixed() { return 'mixed'; } };
class Mixed extends mixin(Object) {}
console.log(new Mixed().mixed(), new Mixed());
console.log(Counter, c);
