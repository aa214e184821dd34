const modpow = (b, e, m) => { let r = 1n; b %= m; while (e > 0n) { if (e & 1n) r = (r * b) % m; b = (b * b) % m; e >>= 1n; } return r; };
const p = 2n ** 127n - 1n;
console.log(modpow(3n, p - 1n, p), modpow(2n, 100n, 1000000007n));
const fib = (n) => { let a = 0n, b = 1n; for (let i = 0; i < n; i++) [a, b] = [b, a + b]; return a; };
console.log(fib(300), fib(300).toString().length, fib(90) === BigInt(Number(fib(90))));
const isPrime = (n) => { if (n < 2n) return false; for (let d = 2n; d * d <= n; d++) if (n % d === 0n) return false; return true; };
console.log([...Array(40).keys()].map(BigInt).filter(isPrime));
let x = 0xcafebabe12345678n; const out = [];
for (let i = 0; i < 5; i++) { x ^= x << 13n; x &= 2n ** 64n - 1n; x ^= x >> 7n; x ^= x << 17n; x &= 2n ** 64n - 1n; out.push(x.toString(36)); }
console.log(out);
console.log(BigInt('123456789012345678901234567890') / 7n, -7n / 2n, -7n % 2n, 7n ** 0n, BigInt(Number.MAX_SAFE_INTEGER) * 3n);
console.log(typeof (5n * 2n), 10n > 9, 10n == 10, [1n, -1n, 0n].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
const gcd = (a, b) => (b ? gcd(b, a % b) : a);
console.log(gcd(2n ** 200n - 1n, 2n ** 120n - 1n));
// BigInt.prototype.toLocaleString: en-US grouping
for (const v of [0n, -1234n, 123456789n, 2n ** 100n]) console.log(v.toLocaleString(), v.toLocaleString('en-US'));
