function sieve(n) { const p = new Uint8Array(n + 1).fill(1); p[0] = p[1] = 0; for (let i = 2; i * i <= n; i++) if (p[i]) for (let j = i * i; j <= n; j += i) p[j] = 0; return [...p.keys()].filter((i) => p[i]); }
console.log(sieve(100));
function gcd(a, b) { return b ? gcd(b, a % b) : a; }
console.log(gcd(1071, 462), gcd(2n ** 64n, 2n ** 40n * 3n));
const qs = (a) => (a.length < 2 ? a : [...qs(a.slice(1).filter((x) => x < a[0])), a[0], ...qs(a.slice(1).filter((x) => x >= a[0]))]);
console.log(qs([5, 3, 8, 1, 9, 2, 7]));
function lcs(a, b) { const dp = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0)); for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) dp[i][j] = a[i - 1] === b[j - 1] ? dp[i - 1][j - 1] + 1 : Math.max(dp[i - 1][j], dp[i][j - 1]); return dp[a.length][b.length]; }
console.log(lcs('AGGTAB', 'GXTXAYB'));
let h = 0x811c9dc5; for (const ch of 'hash me') { h ^= ch.charCodeAt(0); h = Math.imul(h, 0x01000193) >>> 0; }
console.log(h.toString(16));
const bin = (arr, x) => { let lo = 0, hi = arr.length - 1; while (lo <= hi) { const mid = (lo + hi) >> 1; if (arr[mid] === x) return mid; arr[mid] < x ? (lo = mid + 1) : (hi = mid - 1); } return -1; };
console.log(bin([1, 3, 5, 7, 9, 11], 7), bin([1, 3], 4));
console.log(Array.from({ length: 15 }, (_, i) => (i % 15 === 0 ? 'FizzBuzz' : i % 3 === 0 ? 'Fizz' : i % 5 === 0 ? 'Buzz' : i)).slice(1));
