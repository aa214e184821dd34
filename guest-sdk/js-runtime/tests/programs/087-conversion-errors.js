// V8's messages for Symbol and BigInt conversions and String.prototype.repeat counts
// (patches/apply.py), each printed as a program would print a caught error.
const tries = [() => 1n + 1, () => 1 + 1n, () => 2n * 1.5, () => 1n - true, () => 5n / 2, () => 1n % 1, () => 2n ** 2, () => 1n & 1, () => 1n | 1, () => 1n ^ 1, () => 1n << 1, () => 1n >> 1, () => 1n >>> 1, () => 1n >>> 1n,
  () => +1n, () => Math.sqrt(4n), () => Number(1n), () => BigInt(1.5), () => BigInt(NaN), () => BigInt(Infinity), () => BigInt(-0.5), () => BigInt(1e100),
  () => 'ab'.repeat(-1), () => 'ab'.repeat(Infinity), () => 'ab'.repeat(-1.5), () => 'ab'.repeat('-3'), () => 'ab'.repeat(2 ** 31), () => ''.repeat(-2),
  () => Symbol('s') + '', () => `${Symbol()}`, () => +Symbol(), () => Symbol() * 2, () => String(Symbol('ok')), () => 1n + '2', () => '1' + 2n, () => 1n < 2, () => 1n == 1, () => [1n, 2n].sort(), () => 1n + 1n, () => -(-3n), () => ~1n, () => { let x = 1n; x++; return x; }];
for (const t of tries) { try { console.log(t()); } catch (e) { console.log(e.constructor.name + ': ' + e.message); } }
