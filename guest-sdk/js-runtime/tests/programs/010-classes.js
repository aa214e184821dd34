class A {}
class B extends A {
  constructor() { super(); this.x = 1; this.y = 'y'; }
  method() {}
  get getter() { return 1; }
  static staticMethod() {}
}
class C extends B { #priv = 1; pub = 2; }
console.log(A, B, C);
console.log(new A(), new B(), new C());
console.log([new A(), new B()]);
console.log({ inst: new C() });
console.log(typeof A, A.name, B.name, new C() instanceof A);
class WithStatic { static count = 3; static label = 'x'; }
console.log(WithStatic);
const Anon = class {};
console.log(Anon, new Anon());
console.log(class {});
function OldStyle() { this.v = 1; }
OldStyle.prototype.m = function () {};
console.log(new OldStyle(), OldStyle);
class Tagged { get [Symbol.toStringTag]() { return 'TagName'; } }
console.log(new Tagged());
class E2 extends Array {}
const e2 = new E2(); e2.push(1, 2);
console.log(e2);
class M2 extends Map {}
console.log(new M2([[1, 2]]));
