// Loaded with `node --require` by diff.mjs: gives node programs the same
// globals the notary runtime provides (inputData, Notary), from the file
// named by NOTARY_INPUT_FILE (or none).
'use strict';
const fs = require('fs');
const file = process.env.NOTARY_INPUT_FILE;
const text = file ? fs.readFileSync(file, 'utf8') : '';
const parse = () => (text.length ? JSON.parse(text) : undefined);
const deepFreeze = (v) => {
  if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) deepFreeze(v[k]);
    Object.freeze(v);
  }
  return v;
};
Object.defineProperty(globalThis, 'inputData', { value: parse(), writable: true, configurable: true });
Object.defineProperty(globalThis, 'Notary', {
  value: Object.freeze({ input: deepFreeze(parse()), inputText: text }),
  writable: false, configurable: true,
});
