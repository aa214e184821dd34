const crypto = require('crypto');
const inputs = ['', 'abc', 'The quick brown fox jumps over the lazy dog', 'é✓😀', 'a'.repeat(55), 'a'.repeat(56),
  'a'.repeat(64), 'b'.repeat(111), 'b'.repeat(112), 'c'.repeat(1000)];
for (const alg of ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'SHA256', 'RSA-SHA256']) {
  console.log(alg, inputs.map((s) => crypto.createHash(alg).update(s).digest('hex')).join(' '));
}
const h = crypto.createHash('sha256').update('part1').update(Buffer.from('part2')).update(new Uint8Array([1, 2, 3]));
const h2 = h.copy();
console.log(h.digest('base64'), h2.digest('base64url'), crypto.createHash('sha1').update('x').digest());
console.log(crypto.createHmac('sha256', 'key').update('The quick brown fox jumps over the lazy dog').digest('hex'));
console.log(crypto.createHmac('sha512', 'k'.repeat(200)).update('data').digest('hex'));
console.log(crypto.createHmac('md5', Buffer.from('secret')).update('msg', 'utf8').digest('base64'));
console.log(crypto.createHash('sha256').update(JSON.stringify({ b: 1, a: [1, 2] })).digest('hex'));
try { crypto.createHash('no-such-hash'); } catch (e) { console.log(e.message); }
crypto.subtle.digest('SHA-256', new TextEncoder().encode('hello')).then((buf) => console.log(Buffer.from(buf).toString('hex')));
