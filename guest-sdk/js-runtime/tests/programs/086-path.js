// require('path'): POSIX paths, as node on Linux (the working directory is '/'; a program
// under node must run from '/' for resolve() to agree, which diff.mjs does not arrange, so
// only cwd-free calls are printed here).
const path = require('path');
const samples = ['', '/', '//', '.', '..', 'a', '/a/b/c.txt', 'a/b/', './a/../b', '/a/./b/../../c/',
  '../../x/y.tar.gz', '.bashrc', 'file.', 'a..', '...', '/..', 'dir/.hidden.ext', 'a//b///c'];
for (const p of samples) {
  console.log(JSON.stringify(p), path.normalize(p), path.dirname(p), JSON.stringify(path.basename(p)),
    JSON.stringify(path.extname(p)), path.isAbsolute(p), path.parse(p));
}
console.log(path.join('/a', 'b', '../c', './d.js'), path.join(), path.join('', ''), path.join('a', '', '/b/'));
console.log(path.resolve('/a/b', './c'), path.resolve('/a', '/b', 'c/..'), path.relative('/data/a/test/x', '/data/a/impl/y'));
console.log(path.relative('/a', '/a'), path.relative('/a/b', '/a'), path.relative('/', '/a/b'));
console.log(path.basename('/x/y.js', '.js'), path.basename('y.js', 'y.js'), path.basename('a/b.js/', '.js'), path.basename('abc', 'bc'));
console.log(path.format({ dir: '/home/u', base: 'f.txt' }), path.format({ root: '/', name: 'f', ext: 'txt' }), path.format({ name: 'x', ext: '.y' }));
console.log(path.sep, path.delimiter, path.posix === path, require('node:path') === path, require('path/posix') === path);
for (const bad of [42, null, undefined, { a: 1 }, 'x'.repeat(30)]) {
  try {
    path.dirname(bad);
    console.log('no error for', bad);
  } catch (e) {
    console.log(e.name, e.code, e.message);
  }
}
try {
  path.format('nope');
} catch (e) {
  console.log(e.code, e.message);
}
// Random paths from a fixed generator: every answer printed, so any difference from node shows.
const pieces = ['/', '/', '.', '.', 'a', 'b', '..', '', 'c.d', '.e', 'f.'];
let seed = 7;
const next = (n) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};
const randomPath = () => Array.from({ length: next(7) }, () => pieces[next(pieces.length)]).join('');
for (let i = 0; i < 3000; i++) {
  const p = randomPath();
  const q = randomPath();
  const parsed = path.parse(p);
  console.log(JSON.stringify([p, q, path.normalize(p), path.dirname(p), path.basename(p), path.basename(p, q.slice(0, 3)),
    path.extname(p), parsed, path.format(parsed), path.join(p, q), path.resolve('/r', p, q), path.relative('/r/' + p, '/' + q)]));
}
console.log(require('util/types') === require('util').types, require('node:util/types').isDate(new Date()));
