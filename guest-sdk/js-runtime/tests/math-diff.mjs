// Math differential test: the same generated program runs under node and
// under notary-js.wasm; every Math.* result (and **, and number-to-string
// conversions) is printed as its exact bit pattern and compared.
//
//   node tests/math-diff.mjs [count-per-function]    (default 4000)
//
// V8 does not use the C library's libm; vmath.c re-implements its
// algorithms. This test is what keeps them honest.
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import os from 'node:os';
import { runJob } from './product-job.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const count = Number(process.argv[2] || 4000);

// The program: deterministic inputs from a xorshift generator, results as
// hex bit patterns (all NaNs print as NaN: V8 sometimes produces other NaN
// bit patterns than wasm does; only a DataView/Float64Array could see that).
const program = `
const N = ${count};
let s0 = 0x9E3779B9 >>> 0, s1 = 0x7F4A7C15 >>> 0;
function next32() { let t = s0 ^ (s0 << 11); s0 = s1; s1 = (s1 ^ (s1 >>> 19) ^ t ^ (t >>> 8)) >>> 0; return s1; }
const dv = new DataView(new ArrayBuffer(8));
function hex(d) { if (d !== d) return 'NaN'; dv.setFloat64(0, d); return dv.getUint32(0).toString(16).padStart(8, '0') + dv.getUint32(4).toString(16).padStart(8, '0'); }
function anyDouble() { for (;;) { dv.setUint32(0, next32()); dv.setUint32(4, next32()); const d = dv.getFloat64(0); if (d === d) return d; } }
const unit = () => next32() / 4294967296;
const specials = [0, -0, 1, -1, 0.5, -0.5, 2, 3, 10, 100, Infinity, -Infinity, NaN, Math.PI, Math.PI / 2, Math.PI / 4,
  Math.E, 1e-300, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 709.78, 710, -745, 0.1, 1e21,
  1 + 2 ** -52, 1 - 2 ** -53, 2 ** 31, 2 ** 53, 1e-7, 22, -22, 0.34657359027997264, 1e10, 2 ** -28, 2 ** -55];
function input(i) {
  switch (i % 7) {
    case 0: return unit() * 2 - 1;
    case 1: return (unit() - 0.5) * 40;
    case 2: return (unit() < 0.5 ? -1 : 1) * Math.pow(10, (unit() - 0.5) * 40);
    case 3: return (unit() < 0.5 ? -1 : 1) * Math.pow(2, (unit() - 0.5) * 2000);
    case 4: return anyDouble();
    case 5: return Math.round((unit() - 0.5) * 2000) * (Math.PI / 2) * (1 + (unit() - 0.5) * 1e-12);
    default: return Math.round((unit() - 0.5) * 100) / 8;
  }
}
const xs = [...specials];
for (let i = 0; i < N; i++) xs.push(input(i));
const out = [];
const f1 = ['abs', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'cbrt', 'ceil', 'cos', 'cosh', 'exp', 'expm1',
  'floor', 'fround', 'log', 'log1p', 'log10', 'log2', 'round', 'sign', 'sin', 'sinh', 'sqrt', 'tan', 'tanh', 'trunc'];
for (const f of f1) { const fn = Math[f]; let line = f; for (const x of xs) line += ' ' + hex(fn(x)); out.push(line); }
let p = 'pow', pi = 'powint', op = 'starstar', a2 = 'atan2', h2 = 'hypot2', h3 = 'hypot3';
for (let i = 0; i + 2 < xs.length; i++) {
  const x = xs[i], y = xs[i + 1], z = xs[i + 2];
  p += ' ' + hex(Math.pow(Math.abs(x), y / 16));
  pi += ' ' + hex(Math.pow(x, Math.round(y) % 64));
  op += ' ' + hex((i % 20) ** (y % 8));
  a2 += ' ' + hex(Math.atan2(x, y));
  h2 += ' ' + hex(Math.hypot(x, y));
  h3 += ' ' + hex(Math.hypot(x, y, z));
}
out.push(p, pi, op, a2, h2, h3);
let ts = 'toString', tf = 'toFixed', tp = 'toPrecision', te = 'toExponential', pf = 'parseFloat';
for (let i = 0; i < xs.length; i++) {
  const x = xs[i];
  ts += ' ' + String(x) + '|' + x.toString(7);
  const d = i % 21;
  if (Math.abs(x) < 1e21) tf += ' ' + x.toFixed(d);
  tp += ' ' + x.toPrecision(d + 1);
  te += ' ' + x.toExponential(d);
  pf += ' ' + hex(parseFloat(String(x).slice(0, 3 + (i % 17))));
}
out.push(ts, tf, tp, te, pf);
console.log(out.join('\\n'));
`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notary-math-'));
const file = path.join(dir, 'math.js');
fs.writeFileSync(file, program);
const node = spawnSync(process.execPath, [file], { maxBuffer: 256 << 20 });
const wasm = await runJob(program, '', ['--output-limit-bytes', String(256 << 20)]);
fs.rmSync(dir, { recursive: true });
if (node.status !== 0 || wasm.code !== 0) {
  console.log(`run failed: node=${node.status} wasm=${wasm.code}\n${wasm.stderr}`);
  process.exit(1);
}
const nl = node.stdout.toString().trim().split('\n');
const wl = wasm.stdout.toString().trim().split('\n');
let bad = 0, total = 0;
for (let i = 0; i < nl.length; i++) {
  const a = nl[i].split(' '), b = (wl[i] || '').split(' ');
  let diff = 0;
  for (let j = 1; j < a.length; j++) if (a[j] !== b[j]) diff++;
  total += a.length - 1;
  bad += diff;
  if (diff) {
    const j = a.findIndex((v, k) => k > 0 && v !== b[k]);
    console.log(`FAIL ${a[0]}: ${diff} of ${a.length - 1} differ (first at #${j}: node ${a[j]} wasm ${b[j]})`);
  }
}
console.log(`math: ${total - bad} of ${total} results identical to node`);
console.log(`${bad ? 0 : 1} passed, ${bad ? 1 : 0} failed`);
process.exitCode = bad ? 1 : 0;
