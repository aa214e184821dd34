// WHATWG URL and URLSearchParams (globals and require('url')), as node 20 has them.
const urls = [
  'https://user:pa%20ss@Example.COM:8080/a/./b/../c%2Fd?q=1&q=2&x=a+b#Frag',
  'http://example.com:80/', 'https://example.com:443', 'ws://h:81/x', 'ftp://h:21/f',
  'http://[2001:db8:0:0:0:0:2:1]/', 'http://[::ffff:192.168.0.1]:8000/', 'http://0x7f.1/', 'http://3232235777/',
  'http://ñandú.example/ü?ü=ü#ü', 'HTTP://EXAMPLE.com/%7Efoo/%zz', 'file:///C:/Program%20Files/x.txt',
  'file://localhost/etc/hosts', 'file:///tmp/../etc/./passwd', 'mailto:someone@example.com?subject=hi there',
  'data:text/plain;base64,SGVsbG8=', 'javascript:alert(1)', 'urn:isbn:0451450523', 'blob:https://a.com/uuid',
  'git+ssh://git@github.com/org/repo.git', 'sc://h/..', 'http://a/b/c/d;p?q', 'https://a.com/path with spaces/',
  '  \t http://trim.me/\n ', 'http://a.com/`{}|^', "http://a.com/?'quote'", 'non-special://host:99/x/../y',
];
for (const u of urls) {
  const x = new URL(u);
  console.log([x.href, x.origin, x.protocol, x.username, x.password, x.host, x.hostname, x.port, x.pathname,
    x.search, x.hash].join(' | '));
}
const bases = ['http://a/b/c/d;p?q', 'file:///home/u/x', 'https://example.com/dir/'];
const refs = ['g', './g', 'g/', '/g', '//g', '?y', 'g?y', '#s', 'g#s', '..', '../g', '../..', '../../../g',
  '/./g', 'g.', '.g', 'g..', '..g', './../g', 'g;x=1/../y', 'http:g', 'https://other/x', '\\\\x\\y', ''];
for (const b of bases) for (const r of refs) console.log(JSON.stringify(r), '->', new URL(r, b).href);
for (const bad of ['nope', 'http://', 'http://a b/', 'http://[::1/', 'https://ex%41mple.com:99999', '//x', '']) {
  try {
    new URL(bad);
    console.log('parsed', bad);
  } catch (e) {
    console.log(e.name, e.code, e.message, JSON.stringify(e.input));
  }
}
console.log(URL.canParse('x:y'), URL.canParse('/rel'), URL.canParse('/rel', 'http://h'));

const u = new URL('https://shop.example/items?sort=asc&page=2');
console.log(u);
u.searchParams.set('page', '3');
u.searchParams.append('tag', 'a&b=c');
u.searchParams.delete('sort');
u.hash = 'top';
u.pathname = '/items/new list';
u.port = '8443';
u.username = 'me@home';
console.log(u.href, String(u), JSON.stringify({ u }));
u.protocol = 'http';
u.host = 'other.example:81';
u.search = '';
console.log(u.href, [...u.searchParams]);
console.log({ nested: { u: new URL('http://x/?a=1') } });

const p = new URLSearchParams('?b=2&a=1&a=%20x+y&c&=empty&d=%E2%82%AC');
console.log(p, p.size, p.get('a'), p.getAll('a'), p.has('c'), p.has('a', '1'), p.get('zz'));
p.sort();
console.log(p.toString(), [...p.keys()], [...p.values()]);
p.forEach((v, k) => console.log(`${k}=${v}`));
console.log(new URLSearchParams({ x: 1, y: [1, 2], z: null }).toString());
console.log(new URLSearchParams([['k', 'v'], ['k', 'w']]).getAll('k'));
console.log(new URLSearchParams(new Map([['m', 'n']])).toString());
try {
  new URLSearchParams([['only-one']]);
} catch (e) {
  console.log(e.name, e.code, e.message);
}
console.log(new URLSearchParams('a=%zz&b=%E9&c=%C3%A9&d=%41%zz').toString());
console.log(Object.prototype.toString.call(new URL('http://h')), Object.prototype.toString.call(p));

const url = require('url');
console.log(url.URL === URL, require('node:url').URLSearchParams === URLSearchParams);
console.log(url.fileURLToPath('file:///tmp/a%20b/c.txt'), url.pathToFileURL('/tmp/x y/%/#?').href);
try {
  url.fileURLToPath('http://h/x');
} catch (e) {
  console.log(e.code, e.message);
}
console.log(url.format(new URL('https://u:p@h.com/x?y#z'), { auth: false, search: false, fragment: false }));
console.log(url.format({ protocol: 'https', hostname: 'ex.com', pathname: '/a b', query: { q: 'x y', n: 2 } }));
console.log(url.domainToASCII('español.com'), url.domainToASCII('xn--iñvalid.com'), url.domainToUnicode('xn--espaol-zwa.com'));
console.log(url.urlToHttpOptions(new URL('https://a:b@h.com:99/p?q')));

// the legacy API
for (const s of ['http://user:pass@Host.COM:8080/p/a/t/h?query=string&a=1#hash', '/just/a/path?x=1', '//no-proto/x',
  'mailto:me@ex.com', 'HTTP://[::1]:3000/a b/"q"?x=<y>', 'javascript:alert("x")', 'ñ.com/x', 'http://a\tb.com/\\c\\d?e']) {
  console.log(url.parse(s), url.parse(s, true).query);
}
console.log(url.parse('//h/p', false, true).host, url.format(url.parse('http://a.com/x?y=1#z')), url.format('HTTP://X.com'));
console.log(url.format({ protocol: 'http', host: 'h.com', pathname: 'p#q', search: 'a=1', hash: 'h' }));
for (const [b, r] of [['http://a/b/c/d;p?q', '../g'], ['http://a/b/c/d;p?q', '//other/x'], ['http://u:p@h/x/y', '/z?w'],
  ['mailto:local1@domain1', 'local2@domain2'], ['/one/two/three', '../four'], ['http://example.com/', 'https://x.org'],
  ['file:///a/b', 'c/../d'], ['http://h/a/', '.'], ['foo:bar/baz', 'qux']]) {
  console.log(url.resolve(b, r), url.resolveObject(b, r).href);
}
