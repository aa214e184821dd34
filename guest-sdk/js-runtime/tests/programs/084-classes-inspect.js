class Money {
  #cents;
  constructor(cents, cur = 'USD') { this.#cents = cents; this.currency = cur; }
  get amount() { return this.#cents / 100; }
  add(o) { return new Money(this.#cents + o.#cents, this.currency); }
  toString() { return `${this.amount.toFixed(2)} ${this.currency}`; }
  toJSON() { return { amount: this.amount, currency: this.currency }; }
  static zero() { return new Money(0); }
}
class Account {
  static #nextId = 1;
  constructor(owner) { this.id = Account.#nextId++; this.owner = owner; this.balance = Money.zero(); this.history = []; }
  deposit(c) { this.balance = this.balance.add(new Money(c)); this.history.push({ type: 'dep', c }); return this; }
}
const a = new Account('ann').deposit(1050).deposit(199);
console.log(a);
console.log(`${a.balance}`, String(a.balance), a.balance + '', JSON.stringify(a));
console.log([a.balance], { m: a.balance }, Object.keys(a.balance), a.balance.amount);
console.log(Money, Account, Object.getOwnPropertyNames(Money.prototype));
class Node { constructor(v) { this.value = v; this.children = []; } add(c) { this.children.push(c); return this; } }
const tree = new Node(1).add(new Node(2).add(new Node(4))).add(new Node(3));
console.log(tree);
console.log(JSON.stringify(tree, null, 1));
class Temp { constructor(c) { this.c = c; } [Symbol.toPrimitive](hint) { return hint === 'string' ? `${this.c}°C` : this.c; } }
const t = new Temp(21);
console.log(`${t}`, t + 1, t * 2, [t] + '', t);
