class Point {
  constructor(x, y) { this.x = x; this.y = y; }
  get len() { return Math.hypot(this.x, this.y); }
  toString() { return `(${this.x}, ${this.y})`; }
}
const p = new Point(3, 4);
console.log(p, p.len, `${p}`, String(p), p + '');
console.log([new Point(1, 2), new Point(3, 4)]);
console.log({ origin: new Point(0, 0) });
class Empty {}
console.log(new Empty(), [new Empty()], { e: new Empty() });
const inst = new (class Named {})();
console.log(inst);
console.log(Object.create(Point.prototype));
class Base { constructor() { this.base = true; } }
class Derived extends Base { constructor() { super(); this.derived = true; } }
console.log(new Derived(), Object.getPrototypeOf(Derived) === Base);
