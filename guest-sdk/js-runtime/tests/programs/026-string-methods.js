const s = 'Hello, World';
console.log(s.length, s.toUpperCase(), s.toLowerCase(), s.at(-1), s.charAt(4), s.charCodeAt(0), s.codePointAt(1));
console.log(s.slice(-5), s.substring(7, 3), s.substr(1, 3), s.indexOf('o'), s.lastIndexOf('o'), s.includes('World'));
console.log(s.split(', '), s.split(''), s.split(), 'a,b,,c'.split(','));
console.log('  pad  '.trim() + '|', '  pad  '.trimStart() + '|', '  pad  '.trimEnd() + '|');
console.log('ab'.repeat(3), 'x'.padEnd(4, '-'), 'abc'.startsWith('ab'), 'abc'.endsWith('bc'));
console.log('😀 emoji'.length, [...'😀 emoji'].length, 'naïve'.normalize('NFD').length);
console.log('a-b_c d'.replace(/[-_ ]/g, ''), 'Title Case Me'.split(' ').map((w) => w[0]).join(''));
console.log(String.fromCharCode(72, 105), String.fromCodePoint(128512), 'z'.localeCompare('a'));
console.log('abc'.concat('def', 1, null), 'tacocat'.split('').reverse().join(''));
console.log(encodeURIComponent('a b&c/d?é'), decodeURIComponent('%E2%9C%93'), encodeURI('http://x.y/a b'));
console.log(escape === undefined ? 'no escape' : escape('a b'), 'x'.isWellFormed());
console.log('%', 'a%b', 'ends with %');
console.log(`multi
line template`);
