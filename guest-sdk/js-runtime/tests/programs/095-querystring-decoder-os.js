// require('querystring'), require('string_decoder'), require('os').EOL, as node 20.
const qs = require('querystring');
const cases = ['a=1&b=2&a=3', 'x=%20y+z&%E2%82%AC=euro', 'bad=%E9&worse=%zz%41', 'k&=v&&==', 'a[b]=c&a[d]=e',
  'emoji=%F0%9F%98%80', 'plus=a+b%2Bc', '', '&&&', 'dup=1&dup=2&dup=3'];
for (const c of cases) console.log(JSON.stringify(c), qs.parse(c));
console.log(qs.parse('a:1;b:2', ';', ':'), qs.parse('a=1&b=2&c=3', null, null, { maxKeys: 2 }));
console.log(qs.parse('a=%41', null, null, { decodeURIComponent: (s) => s.toLowerCase() }));
console.log(qs.stringify({ s: 'a b&c', n: 42, big: 1e21, neg: -0, nan: NaN, bool: true, list: [1, 'two'], empty: [],
  obj: { x: 1 }, u: undefined, nul: null, bi: 12n, uni: 'é€😀', safe: "-_.!~*'()" }));
console.log(qs.stringify({ a: 1, b: 2 }, ';', ':'), qs.escape('a b/c?d'), qs.unescape('%41%zz+%E9'));
console.log(qs.encode === qs.stringify, qs.decode === qs.parse);
try {
  qs.escape('\ud800');
} catch (e) {
  console.log(e.name, e.code, e.message);
}

const { StringDecoder } = require('string_decoder');
const euro = Buffer.from('€uro ü 😀!', 'utf8');
for (const enc of ['utf8', 'utf16le', 'base64', 'hex', 'latin1']) {
  const bytes = enc === 'utf8' ? euro : Buffer.from('€uro ü 😀!', enc === 'latin1' ? 'latin1' : 'utf16le');
  for (const size of [1, 2, 3, 5]) {
    const d = new StringDecoder(enc);
    const parts = [];
    for (let i = 0; i < bytes.length; i += size) parts.push(d.write(bytes.subarray(i, i + size)));
    parts.push(d.end());
    console.log(enc, size, JSON.stringify(parts.join('')), parts.length);
  }
}
const d = new StringDecoder();
console.log(JSON.stringify([d.write(Buffer.from([0xe2])), d.write(Buffer.from([0x41])), d.end(Buffer.from([0xf0, 0x9f]))]));
console.log(d.encoding, new StringDecoder('UCS2').encoding, new StringDecoder('binary').encoding);
try {
  new StringDecoder('nope');
} catch (e) {
  console.log(e.name, e.code, e.message);
}

const os = require('os');
console.log(JSON.stringify(os.EOL), typeof os.cpus, Array.isArray(os.loadavg()), os.endianness());
console.log(['one', 'two'].join(os.EOL));
