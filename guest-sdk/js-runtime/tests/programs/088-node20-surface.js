// The builtins are node 20's: QuickJS-ng's newer ones (ES2024+ proposals node 20 does not
// ship) are removed (runner.c, trim_to_node20), so a program using one fails as under node.
const probes = {
  'Object.groupBy': () => Object.groupBy, 'Map.groupBy': () => Map.groupBy, 'Array.fromAsync': () => Array.fromAsync,
  'Promise.withResolvers': () => Promise.withResolvers, 'Promise.try': () => Promise.try, 'Set.prototype.union': () => new Set().union,
  'Set.prototype.isSubsetOf': () => new Set().isSubsetOf, 'Map.prototype.getOrInsert': () => new Map().getOrInsert,
  'Iterator': () => globalThis.Iterator, 'iterator map': () => [1][Symbol.iterator]().map, 'iterator toArray': () => [1].values().toArray,
  'generator take': () => (function* () {})().take, 'RegExp.escape': () => RegExp.escape, 'Error.isError': () => Error.isError,
  'Math.sumPrecise': () => Math.sumPrecise, 'Math.f16round': () => Math.f16round, 'JSON.rawJSON': () => JSON.rawJSON,
  'Float16Array': () => globalThis.Float16Array, 'ArrayBuffer.prototype.transfer': () => new ArrayBuffer(1).transfer,
  'DataView.prototype.getFloat16': () => new DataView(new ArrayBuffer(2)).getFloat16,
  'DisposableStack': () => globalThis.DisposableStack, 'SuppressedError': () => globalThis.SuppressedError,
  'InternalError': () => globalThis.InternalError,
  // node 20 has these
  'Array.prototype.toSorted': () => [].toSorted, 'Array.prototype.findLast': () => [].findLast, 'Object.hasOwn': () => Object.hasOwn,
  'String.prototype.isWellFormed': () => ''.isWellFormed, 'structuredClone': () => structuredClone, 'Array.prototype.at': () => [].at,
};
for (const [name, probe] of Object.entries(probes)) console.log(name, typeof probe());
console.log(Object.getOwnPropertyNames(Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()))));
console.log(Object.prototype.toString.call((function* () {})()), String([].keys()), [...new Map([[1, 2]]).keys()]);
try {
  Object.groupBy([1, 2, 3], (x) => x % 2);
} catch (e) {
  console.log(e.constructor.name, e.message);
}
