// Common runtime error messages, printed the usual way.
const tries = [
  () => { const o = undefined; return o.x; },
  () => { const o = null; return o.name; },
  () => { const cfg = {}; return cfg.db.host; },
  () => { let u; u.value = 1; },
  () => { const c = 1; c = 2; },
  () => { notDeclared + 1; },
  () => { x; let x = 1; },
  () => JSON.parse('{bad'),
  () => JSON.parse(''),
  () => JSON.parse('{"a":1,}'),
  () => JSON.parse('[1, 2'),
  () => JSON.parse('{"a" 1}'),
  () => JSON.parse('"abc'),
  () => new Array(-1),
  () => [].reduce((a, b) => a + b),
  () => (1.5).toFixed(101),
  () => (1.5).toPrecision(0),
  () => (1.5).toExponential(-1),
  () => decodeURIComponent('%E0%A4%A'),
  () => decodeURI('%'),
  () => Object.keys(null),
  () => { throw new Error('custom message'); },
  () => { function f(n) { return f(n + 1); } f(0); },
];
for (const t of tries) {
  try {
    t();
    console.log('no error');
  } catch (e) {
    console.log(`${e.name}: ${e.message}`, e instanceof Error);
  }
}
