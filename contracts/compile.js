#!/usr/bin/env node
// Compiles src/*.sol offline with solc-js (the exact version in package-lock.json) and writes
// artifacts/<Contract>.json ({contractName, abi, bytecode, deployedBytecode, compiler}), the
// files the Rust code embeds with alloy's `sol!`. `--check` recompiles in memory and fails when
// the committed artifacts differ (drift between sources and what the coordinator deploys).
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const here = __dirname;
const srcDir = path.join(here, 'src');
const outDir = path.join(here, 'artifacts');
const check = process.argv.includes('--check');

const sources = {};
for (const file of fs.readdirSync(srcDir).filter((f) => f.endsWith('.sol')).sort()) {
  sources[file] = { content: fs.readFileSync(path.join(srcDir, file), 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    // No metadata hash: the bytecode then depends on the sources only, not on paths or comments
    // in the metadata JSON, so the drift check is exact and reproducible.
    metadata: { bytecodeHash: 'none', appendCBOR: false },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);

let drift = 0;
if (!check) fs.mkdirSync(outDir, { recursive: true });
for (const file of Object.keys(output.contracts)) {
  for (const [name, c] of Object.entries(output.contracts[file])) {
    // Interfaces have no code: nothing to deploy, nothing to embed.
    if (!c.evm.bytecode.object) continue;
    const artifact = {
      contractName: name,
      sourceName: `src/${file}`,
      compiler: `solc-js ${solc.version()}`,
      abi: c.abi,
      bytecode: `0x${c.evm.bytecode.object}`,
      deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
    };
    const text = `${JSON.stringify(artifact, null, 2)}\n`;
    const target = path.join(outDir, `${name}.json`);
    if (check) {
      const committed = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
      if (committed !== text) {
        console.error(`drift: artifacts/${name}.json differs from a fresh compile of src/${file}`);
        drift += 1;
      }
    } else {
      fs.writeFileSync(target, text);
      console.log(`artifacts/${name}.json (${(artifact.deployedBytecode.length - 2) / 2} bytes runtime)`);
    }
  }
}
if (check) {
  if (drift) {
    console.error('run `node contracts/compile.js` and commit the artifacts');
    process.exit(1);
  }
  console.log('contracts: committed artifacts match the sources');
}
