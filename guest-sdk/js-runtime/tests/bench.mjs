// Start-up benchmark: N fresh instances of notary-js.wasm, each running one
// small program (default: console.log('hello world')), in one node process,
// with the in-memory WASI of mini-wasi.mjs.
//
//   node tests/bench.mjs [N] [program.js ...]
//
// Reports the mean wall time per run (instantiate + _start), after a
// warm-up. V8 is not the production engine (wasmtime); use these numbers to
// compare versions of the runtime and programs, not as absolute throughput.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInMemory } from './mini-wasi.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

// The runtime's stdin: u32le program length, the program, then the input.
function frame(program, input = '') {
  const prog = Buffer.from(program, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(prog.length);
  return Buffer.concat([len, prog, Buffer.from(input, 'utf8')]);
}
const wasmPath = process.env.NOTARY_WASM || path.join(here, '..', 'notary-js.wasm');
const n = Number(process.argv[2] || 500);
const files = process.argv.slice(3);
const programs = files.length ? files.map((f) => [path.basename(f), fs.readFileSync(f, 'utf8')]) :
  [['hello world', "console.log('hello world');\n"]];

const module = new WebAssembly.Module(fs.readFileSync(wasmPath));
for (const [name, program] of programs) {
  const stdin = frame(program);
  const first = runInMemory(module, stdin);
  if (first.code !== 0) throw new Error(`${name}: exit code ${first.code}: ${first.stderr}`);
  for (let i = 0; i < 20; i++) runInMemory(module, stdin); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) runInMemory(module, stdin);
  const dt = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`${name}: ${n} runs, ${(dt / n * 1000).toFixed(0)} us per run (${(n / (dt / 1000)).toFixed(0)} runs/s)`);
}
