// Shared helper: run one JavaScript job in the product's own sandbox,
// `notary-worker exec` (wasmtime with the fleet's determinism profile, fuel,
// fixed wasm stack and the embedded notary-js.wasm), so the comparison with
// node judges what users get. Unlike node:wasi, nothing here depends on how
// busy the machine is: the guest's stack limit and clocks are fixed.
//
// The binary is $NOTARY_WORKER_BIN, else target/debug/notary-worker at the
// repository root (run.sh builds it).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const workerBin = process.env.NOTARY_WORKER_BIN ||
  path.resolve(here, '..', '..', '..', 'target', 'debug', 'notary-worker');

let tmpDir;
function tmp() {
  if (!tmpDir) {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'notary-js-'));
    process.on('exit', () => fs.rmSync(tmpDir, { recursive: true, force: true }));
  }
  return tmpDir;
}

let seq = 0;
// Returns a promise of { code, stdout: Buffer, stderr: Buffer }. `code` is the
// guest's exit code (250 when it trapped, with the reason on stderr).
// `options` are extra `notary-worker exec` flags (e.g. a larger output limit).
export function runJob(program, input = '', options = []) {
  const base = path.join(tmp(), `job-${seq++}`);
  fs.writeFileSync(`${base}.js`, program);
  const args = ['exec', '--js', `${base}.js`, ...options];
  if (input !== '') {
    fs.writeFileSync(`${base}.input`, input);
    args.push('--input', `${base}.input`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(workerBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [], err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      fs.rmSync(`${base}.js`, { force: true });
      fs.rmSync(`${base}.input`, { force: true });
      resolve({ code: signal ? `signal ${signal}` : code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
  });
}
