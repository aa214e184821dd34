// FNV-1a (64-bit) of stdin: the job input (RFC 8785 canonical JSON of inputData).
// Prints the same line as ../js/fnv.js, ../c/fnv.c and ../rust, compiled with asc and the
// WASI shim (process.stdin / process.stdout over WASI fd_read / fd_write).

let hash: u64 = 0xcbf29ce484222325;
let bytes: u64 = 0;
let lines: u64 = 0;
const buffer = new ArrayBuffer(4096);

while (true) {
  const n = process.stdin.read(buffer);
  if (n <= 0) break;
  const view = Uint8Array.wrap(buffer, 0, n);
  for (let i = 0; i < n; i++) {
    const b = view[i];
    hash ^= <u64>b;
    hash *= 0x100000001b3;
    if (b == 10) lines++;
  }
  bytes += <u64>n;
}

let hex = hash.toString(16);
while (hex.length < 16) hex = "0" + hex;
process.stdout.write("bytes=" + bytes.toString() + " lines=" + lines.toString() + " fnv1a64=" + hex + "\n");
