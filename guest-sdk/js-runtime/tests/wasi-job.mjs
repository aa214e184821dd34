// Shared helper: run one job through notary-js.wasm under node's WASI.
// node:wasi reads stdin from a file descriptor, so the framed stdin
// (u32le program length, program, input) is written to a temp file first;
// the job runs in a child process (see wasi-child.mjs for why).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
let tmpDir;
function tmp() {
  if (!tmpDir) {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'notary-js-'));
    process.on('exit', () => fs.rmSync(tmpDir, { recursive: true, force: true }));
  }
  return tmpDir;
}

export function frame(program, input = '') {
  const prog = Buffer.from(program, 'utf8');
  const inp = Buffer.from(input, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(prog.length);
  return Buffer.concat([len, prog, inp]);
}

let seq = 0;
// Returns a promise of { code, stdout: Buffer, stderr: Buffer }.
// The child gets a big V8 stack (--stack-size) because the wasm runs on it:
// deep JS recursion in QuickJS needs a deep native stack.
export function runJob(wasmPath, program, input = '') {
  const inPath = path.join(tmp(), `in-${process.pid}-${seq++}`);
  fs.writeFileSync(inPath, frame(program, input));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath,
      ['--no-warnings', '--stack-size=7600', path.join(here, 'wasi-child.mjs'), wasmPath, inPath],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [], err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      fs.rmSync(inPath, { force: true });
      resolve({ code: signal ? `signal ${signal}` : code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
  });
}
