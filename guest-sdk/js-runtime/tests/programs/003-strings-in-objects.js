console.log(['single', "it's", 'say "hi"', `both ' and "`, 'all \' " `', 'back\\slash']);
console.log({ s: 'x', e: '', nl: 'a\nb', ctrl: '\x00\x01\x1f\x7f', u: '\u00e9\u4e2d\ud83d\ude00' });
console.log(['\t', '\r', '\b', '\f', '\v', '\x9f', '\xa0']);
console.log(['lone \ud800 surrogate', 'low \udc00 too']);
console.log([`template ${1 + 1}`, String.raw`raw\n`]);
