const tree = { v: 1, children: [{ v: 2, children: [{ v: 3, children: [{ v: 4, children: [] }] }] }] };
console.log(tree);
console.log([[[[[1]]]]]);
console.log({ a: [[{ b: [1] }]] });
console.log(new Map([['k', new Map([['k2', new Map([['k3', new Map([['k4', 1]])]])]])]]));
console.log(new Set([new Set([new Set([new Set([1])])])]));
console.log({ arr: [{ x: { y: { z: 1 } } }] });
console.log([{ a: 1, b: { c: 2 } }, { a: 3, b: { c: 4 } }]);
console.log({ fn: function inner() {}, cls: class K {}, date: new Date(5), re: /x/ });
