// 2,000 generated URLs (seeded, so the same on every run) parsed against bases, then one
// setter each: href or the error code must be node's. Not generated: opaque bases
// ('about:blank', where node 20's parser resolves what the standard refuses) and ':' in
// a non-special URL's host setter (node empties the host, the standard changes nothing).
let seed = 20261208;
const rnd = (n) => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) % n;
};
const pick = (a) => a[rnd(a.length)];
const schemes = ['http:', 'https:', 'HTTP:', 'file:', 'ftp:', 'ws:', 'wss:', 'blob:', 'mailto:', 'data:', 'foo:',
  'a+b.c-d:', '', '', '1x:'];
const seps = ['//', '/', '\\\\', '', '///', '/\\', ' //', '\t//'];
const users = ['', '', 'user@', 'user:pass@', ':@', 'a b:c@d@', 'us%40er@', '@', 'ü:ö@'];
const hosts = ['example.com', 'EXAMPLE.com', 'a.b.c', '127.0.0.1', '0x7f.1', '1.2.3', '256', '4294967296',
  '0300.0250.1.1', '09.1.1.1', '[::1]', '[1:2:3:4:5:6:7:8]', '[1::]', '[::ffff:1.2.3.4]', '[0:0:1:0:0:0:0:1]',
  '[1:0:0:2::3]', '[g::]', 'ñandú.com', 'faß.de', 'xn--nxasmq6b.com', 'a%41b', 'a%2eb', 'ex ample', 'ex<ample',
  '', 'localhost', 'LOCALHOST', 'a..b', 'a.', '.', '%zz', 'example.com.', '１２３.com', 'a\u3002b', '1.2.3.4.5',
  '0x', '1.0x', 'x.09'];
const ports = ['', '', ':80', ':443', ':8080', ':', ':0', ':65535', ':65536', ':0080', ':a', ':21'];
const segs = ['a', 'b', '.', '..', '%2e', '%2E%2e', '.%2e', 'c d', 'ü', '%zz', 'x?y', '', '{x}', '`', 'a|b', 'C:',
  'c|', '^', "'", '"', '<>', '\\', '%00', '\u0001'];
const queries = ['??a=1', '?%41=%zz%E9', '', '', '?', '?a=1&b=2', "?q='x' y", '?ü=%20+', '?a#b', '?<>"`{}',
  '?%zz&&=&x'];
const frags = ['', '', '#', '#frag', '#a b', '#ü`<>', '##x', '#%20'];
const bases = [undefined, undefined, 'http://example.com/dir/file?x#y', 'file:///C:/a/b', 'file:///a/b',
  'https://u:p@h:8/a/', 'sc://host/a/b'];
const setters = ['href', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'];
const values = ['https:', 'ftp', 'file', 'foo', 'x', 'a b', 'ü', '', '8080', '99999', '12ab', 'h.com:99', '[::1]',
  '/p/../q', '?a=b c', '#z', 'http://n.com/', 'a@b', ':', 'ex ample', '1.2.3', 'C:', 'localhost', '::',
  'sp ace?x'];
function gen() {
  let s = '';
  if (rnd(6) === 0) s += pick(['  ', '\u0000', '\t', ' ']);
  s += pick(schemes) + pick(seps) + pick(users) + pick(hosts) + pick(ports);
  for (let i = rnd(4); i > 0; i--) s += pick(['/', '/', '\\', '//']) + pick(segs);
  s += pick(queries) + pick(frags);
  if (rnd(6) === 0) s += pick(['  ', '\n', ' \u001f']);
  if (rnd(8) === 0) s = pick(segs) + pick(['/', '?', '#', '']) + pick(segs);
  return s;
}
const out = [];
for (let i = 0; i < 2000; i++) {
  const input = gen();
  const base = pick(bases);
  const k = pick(setters);
  const v = pick(values);
  let line;
  try {
    const u = new URL(input, base);
    line = `${u.href} ${u.origin} ${[...u.searchParams].length}`;
    const special = /^(https?|wss?|ftp|file):$/.test(u.protocol);
    const emptyPath = u.host === '' && u.pathname === '';
    if (!(k === 'host' && !special && v.includes(':')) && !((k === 'host' || k === 'hostname') && emptyPath)) {
      try {
        u[k] = v;
        line += ` | ${k}=${v} -> ${u.href}`;
      } catch (e) {
        line += ` | ${k}=${v} -> ${e.code}`;
      }
    }
  } catch (e) {
    line = e.code;
  }
  out.push(line);
}
console.log(out.join('\n'));
