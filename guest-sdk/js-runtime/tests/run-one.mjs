// Debug helper: node tests/run-one.mjs program.js [input.json]
// Runs one program in the product's sandbox (notary-worker exec), prints its stdout/stderr, exits with its code.
import fs from 'node:fs';
import { runJob } from './product-job.mjs';

const program = fs.readFileSync(process.argv[2], 'utf8');
const input = process.argv[3] ? fs.readFileSync(process.argv[3], 'utf8') : '';
const r = await runJob(program, input);
process.stdout.write(r.stdout);
process.stderr.write(r.stderr);
process.exitCode = typeof r.code === 'number' ? r.code : 99;
