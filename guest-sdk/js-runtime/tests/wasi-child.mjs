// Child process: run ONE job through notary-js.wasm under node:wasi.
//   node wasi-child.mjs module.wasm framed-stdin-file
// The module's stdout/stderr are this process's stdout/stderr; the exit
// code is the module's exit code (250 and a "WASM TRAP" line on stderr if
// the module trapped).
//
// One process per job because node v20's WASI is not robust when many
// instances run in one process (it crashes after a few dozen runs once the
// GC kicks in; reproduced with a trivial C module, not specific to this
// runtime).
import { WASI } from 'node:wasi';
import fs from 'node:fs';

const [wasmPath, stdinPath] = process.argv.slice(2);
const fd = fs.openSync(stdinPath, 'r');
const wasi = new WASI({ version: 'preview1', args: ['notary-js'], env: {}, returnOnExit: true,
  stdin: fd, stdout: 1, stderr: 2 });
const module = await WebAssembly.compile(fs.readFileSync(wasmPath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
let code;
try {
  code = wasi.start(instance);
} catch (e) {
  fs.writeSync(2, `\nWASM TRAP: ${e && e.message}\n`);
  code = 250;
}
process.exit(code);
