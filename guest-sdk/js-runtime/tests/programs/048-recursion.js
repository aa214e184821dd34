function depth(n) { return n === 0 ? 0 : 1 + depth(n - 1); }
console.log(depth(2000));
function ack(m, n) { return m === 0 ? n + 1 : n === 0 ? ack(m - 1, 1) : ack(m - 1, ack(m, n - 1)); }
console.log(ack(2, 3));
const hanoi = (n, a, b, c) => (n === 0 ? 0 : hanoi(n - 1, a, c, b) + 1 + hanoi(n - 1, c, b, a));
console.log(hanoi(16, 'A', 'B', 'C'));
function perms(arr) { return arr.length <= 1 ? [arr] : arr.flatMap((x, i) => perms([...arr.slice(0, i), ...arr.slice(i + 1)]).map((p) => [x, ...p])); }
console.log(perms([1, 2, 3]));
