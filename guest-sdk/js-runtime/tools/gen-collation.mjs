// Generate the collation table used by String.prototype.localeCompare in
// lib-extras.js, from node's ICU (root/en collation), and write it into the
// block between the "BEGIN/END GENERATED COLLATION" markers of lib-extras.js.
//
//   node tools/gen-collation.mjs        (run once; the result is committed)
//
// The table lists the characters of the covered ranges in ICU's order; after
// each character one digit tells how it differs from the next one: 1 = at
// the primary level (another letter), 2 = secondary (accent), 3 = tertiary
// (case/variant), 0 = not at all. Characters ICU ignores completely and the
// ones that expand to two letters (æ -> ae, ß -> ss, ...) are listed apart.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const target = path.join(here, '..', 'lib-extras.js');

const ranges = [
  [0x0000, 0x007f], // ASCII (controls are mostly ignorable)
  [0x00a0, 0x024f], // Latin-1 Supplement, Latin Extended-A/B
  [0x0370, 0x03ff], // Greek
  [0x0400, 0x04ff], // Cyrillic
  [0x2010, 0x2027], // dashes, quotes, bullets
  [0x2030, 0x205e], // per mille, primes, ...
  [0x20a0, 0x20c0], // currency signs
];
const cmp = (a, b, sensitivity) => a.localeCompare(b, 'en', sensitivity ? { sensitivity } : undefined);

const chars = [];
for (const [lo, hi] of ranges) {
  for (let cp = lo; cp <= hi; cp++) {
    const c = String.fromCodePoint(cp);
    if (/\p{Cn}|\p{Cs}/u.test(c)) continue; // unassigned
    if (c.normalize('NFC') !== c) continue; // compared after NFC anyway
    chars.push(c);
  }
}
const ignorable = chars.filter((c) => cmp(c, '') === 0);
let rest = chars.filter((c) => cmp(c, '') !== 0);

// expansions to two ASCII letters (æ -> ae, ß -> ss, ...)
const letters = 'abcdefghijklmnopqrstuvwxyz';
const expansions = [];
for (const c of rest) {
  if (/[a-z]/i.test(c)) continue;
  for (const x of letters) {
    for (const y of letters) {
      if (cmp(c, x + y, 'base') === 0) expansions.push([c, x + y]);
    }
  }
}
const expanded = new Set(expansions.map((e) => e[0]));
rest = rest.filter((c) => !expanded.has(c));

rest.sort((a, b) => cmp(a, b) || a.codePointAt(0) - b.codePointAt(0));
let table = '';
for (let i = 0; i < rest.length; i++) {
  const a = rest[i], b = rest[i + 1];
  let level = 1;
  if (b !== undefined) {
    if (cmp(a, b, 'base') !== 0) level = 1;
    else if (cmp(a, b, 'accent') !== 0) level = 2;
    else if (cmp(a, b) !== 0) level = 3;
    else level = 0;
  }
  table += a + level;
}
// tertiary rank of an expansion against its letters: 'æ' > 'ae', 'Æ' > 'AE'?
const exp = expansions.map(([c, e]) => [c, cmp(c, e) === 0 ? e : c.toUpperCase() === c && c.toLowerCase() !== c ?
  e.toUpperCase() : e, cmp(c, e)]);

const block = [
  '  // BEGIN GENERATED COLLATION (tools/gen-collation.mjs, from node ' + process.version + ' ICU ' +
    process.versions.icu + ')',
  `  const COLLATION_TABLE = ${JSON.stringify(table)};`,
  `  const COLLATION_IGNORABLE = ${JSON.stringify(ignorable.join(''))};`,
  `  const COLLATION_EXPANSIONS = ${JSON.stringify(Object.fromEntries(exp.map(([c, e, r]) => [c, [e, r]])))};`,
  '  // END GENERATED COLLATION',
].join('\n');
const src = fs.readFileSync(target, 'utf8');
const re = /  \/\/ BEGIN GENERATED COLLATION[\s\S]*?  \/\/ END GENERATED COLLATION/;
if (!re.test(src)) throw new Error('markers not found in lib-extras.js');
fs.writeFileSync(target, src.replace(re, block));
console.log(`collation: ${rest.length} characters, ${ignorable.length} ignorable, ${expansions.length} expansions`);
