const long = 'lorem ipsum dolor sit amet '.repeat(5);
console.log([long]);
console.log({ text: long });
console.log({ a: 'short', text: 'line1\nline2\nline3\n' + 'x'.repeat(80) });
console.log(['x'.repeat(75)]);
console.log({ k: 'y'.repeat(60), k2: 'z'.repeat(5) });
console.log(long.length, long.split(' ').length);
console.log('x'.repeat(10001).length, ['x'.repeat(10005)].toString().length);
console.log(['ab\ncd\nef'.repeat(5)]);
