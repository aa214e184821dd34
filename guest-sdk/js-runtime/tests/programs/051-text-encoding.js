const enc = new TextEncoder();
const bytes = enc.encode('héllo ✓ 😀');
console.log(bytes, bytes.length);
console.log(new TextDecoder().decode(bytes));
console.log(new TextDecoder().decode(new Uint8Array([0xff, 0x41, 0xc3])));
console.log(enc.encoding, new TextDecoder().encoding);
try { new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xc3])); } catch (e) { console.log(e.name); }
console.log(btoa('hello'), atob('aGVsbG8='));
console.log(Array.from(enc.encode('abc')).map((b) => b.toString(16)).join(''));
const dest = new Uint8Array(4);
console.log(enc.encodeInto('héllo', dest), dest);
