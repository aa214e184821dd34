// Differential test: every tests/programs/*.js runs under `node` and under
// notary-js.wasm (through node:wasi); stdout bytes and exit codes must match.
//
//   node tests/diff.mjs [--verbose] [name-filter]
//
// A program may come with NAME.input.json: the job input. The wasm gets it
// on stdin after the program (the host contract); node gets it through
// tests/node-prelude.cjs, which defines inputData / Notary the same way, and
// on its stdin (a program may read its input as node programs read stdin).
//
// The wasm side runs in the product's own sandbox (`notary-worker exec`, see
// product-job.mjs), whose stack limit and clocks do not depend on load.
//
// A program whose output under node depends on timing (node fires timers
// late on a busy machine, and chained timers then reorder) comes with
// NAME.expected: the output of the event-loop order the runtime documents
// (README, "Event loop"), which node gives on an idle machine. The product
// must print exactly that; node's own output is still run and shown when it
// varies, but a busy machine's node is no reference.
//
// KNOWN_DIFFERENCES lists programs that are expected to differ, each with
// the reason; they are run and reported but do not fail the test. Anything
// else that differs fails (exit code 1).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runJob } from './product-job.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const programsDir = path.join(here, 'programs');

// name -> reason
export const KNOWN_DIFFERENCES = {
  '090-known-error-stack.js': 'stack traces are the engine\'s own frames (node\'s contain machine-specific paths)',
  '091-known-intl.js': 'no Intl object',
  '092-known-toplevel-timer-race.js': 'top-level setTimeout(0) vs setImmediate: node depends on script run time, here immediates first',
  '093-known-not-a-function.js': '"x is not a function" names only plain and a.b.c callees (QuickJS keeps no expression text)',
};

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const filter = args.find((a) => !a.startsWith('--'));

const files = fs.readdirSync(programsDir).filter((f) => f.endsWith('.js')).sort()
  .filter((f) => !filter || f.includes(filter));

function firstDiff(a, b) {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  const lineStart = a.lastIndexOf(10, i - 1) + 1;
  const show = (buf) => JSON.stringify(buf.subarray(lineStart, Math.min(buf.length, i + 60)).toString('utf8'));
  return `first difference at byte ${i}:\n      node: ${show(a)}\n      wasm: ${show(b)}`;
}

let matched = 0, failed = 0, known = 0, knownButMatching = 0;
// Run the wasm side two programs ahead (each job is its own node process).
const pending = new Map();
const startWasm = (file) => {
  const full = path.join(programsDir, file);
  const inputFile = full.replace(/\.js$/, '.input.json');
  const input = fs.existsSync(inputFile) ? fs.readFileSync(inputFile, 'utf8') : '';
  pending.set(file, runJob(fs.readFileSync(full, 'utf8'), input));
};
files.slice(0, 2).forEach(startWasm);
for (const [index, file] of files.entries()) {
  if (index + 2 < files.length) startWasm(files[index + 2]);
  const full = path.join(programsDir, file);
  const inputFile = full.replace(/\.js$/, '.input.json');
  const input = fs.existsSync(inputFile) ? fs.readFileSync(inputFile, 'utf8') : '';
  const program = fs.readFileSync(full, 'utf8');

  const env = { ...process.env, NOTARY_INPUT_FILE: fs.existsSync(inputFile) ? inputFile : '' };
  delete env.NODE_OPTIONS;
  // node reads the input on stdin too, from the file as `node prog.js < input` would: the
  // runtime's stdin (fs.readFileSync(0), process.stdin, readline) is the input text
  const stdin = fs.existsSync(inputFile) ? fs.openSync(inputFile, 'r') : 'ignore';
  const node = spawnSync(process.execPath, ['--require', path.join(here, 'node-prelude.cjs'), full], {
    cwd: programsDir, env, maxBuffer: 64 << 20, timeout: 60000, stdio: [stdin, 'pipe', 'pipe'],
  });
  if (typeof stdin === 'number') fs.closeSync(stdin);
  const wasm = await pending.get(file);
  pending.delete(file);

  const expectedFile = full.replace(/\.js$/, '.expected');
  if (fs.existsSync(expectedFile)) {
    const expected = fs.readFileSync(expectedFile);
    if (node.status !== 0 || Buffer.compare(node.stdout, expected) !== 0) {
      console.log(`node varied ${file} (timing under load; judged by ${path.basename(expectedFile)})`);
    }
    node.status = 0;
    node.stdout = expected;
  }
  const same = node.status === wasm.code && Buffer.compare(node.stdout, wasm.stdout) === 0;
  const name = file;
  if (same) {
    if (KNOWN_DIFFERENCES[name]) {
      knownButMatching++;
      console.log(`MATCH (listed as known difference, remove it?) ${name}`);
    } else {
      matched++;
      if (verbose) console.log(`ok      ${name}`);
    }
    continue;
  }
  const detail = node.status !== wasm.code ?
    `exit code node=${node.status} wasm=${wasm.code}` + (wasm.stderr.length ? `\n      wasm stderr: ${wasm.stderr.toString().slice(0, 400)}` : '') :
    firstDiff(node.stdout, wasm.stdout);
  if (KNOWN_DIFFERENCES[name]) {
    known++;
    console.log(`known   ${name}: ${KNOWN_DIFFERENCES[name]}`);
    if (verbose) console.log(`      ${detail}`);
  } else {
    failed++;
    console.log(`FAIL    ${name}\n      ${detail}`);
  }
}
const total = files.length;
console.log(`\n${matched + knownButMatching} of ${total} programs match node exactly ` +
  `(${known} known differences, ${failed} unexpected).`);
console.log(`${matched + known + knownButMatching} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
