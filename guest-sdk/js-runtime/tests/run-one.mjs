// Debug helper: node tests/run-one.mjs program.js [input.json]
// Runs one program through notary-js.wasm, prints its stdout/stderr, exits with its code.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runJob } from './wasi-job.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const wasm = process.env.NOTARY_WASM || path.join(here, '..', 'notary-js.wasm');
const program = fs.readFileSync(process.argv[2], 'utf8');
const input = process.argv[3] ? fs.readFileSync(process.argv[3], 'utf8') : '';
const r = await runJob(wasm, program, input);
process.stdout.write(r.stdout);
process.stderr.write(r.stderr);
process.exitCode = typeof r.code === 'number' ? r.code : 99;
