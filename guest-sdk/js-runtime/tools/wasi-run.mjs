// Run a WASI command module under node's WASI (preview1).
// usage: node wasi-run.mjs module.wasm < stdin > stdout
// Used by build.sh to run tools/compile.wasm (the bytecode compiler).
import { WASI } from 'node:wasi';
import fs from 'node:fs';

const wasi = new WASI({ version: 'preview1', args: ['wasi-run'], env: {}, returnOnExit: true,
  stdin: 0, stdout: 1, stderr: 2 });
const mod = await WebAssembly.compile(fs.readFileSync(process.argv[2]));
const inst = await WebAssembly.instantiate(mod, wasi.getImportObject());
process.exitCode = wasi.start(inst);
