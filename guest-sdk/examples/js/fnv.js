// FNV-1a (64-bit) of the job input: the same program as ../c/fnv.c, ../assemblyscript and
// ../rust, so all four print the same line for the same input and share one known hash.
// Notary.inputText is the RFC 8785 canonical JSON of inputData: the bytes a wasm guest reads
// on stdin.
const bytes = new TextEncoder().encode(Notary.inputText);
let hash = 0xcbf29ce484222325n;
let lines = 0;
for (const b of bytes) {
  hash ^= BigInt(b);
  hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  if (b === 10) lines++;
}
console.log(`bytes=${bytes.length} lines=${lines} fnv1a64=${hash.toString(16).padStart(16, '0')}`);
