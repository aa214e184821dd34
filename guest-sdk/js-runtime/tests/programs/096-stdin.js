// The input on stdin, read as node programs read it (stdin is a file holding the input
// text): readline over process.stdin consumes it; /dev/stdin reads it all again.
const fs = require('fs');
const readline = require('readline');
const rl = readline.createInterface({ input: process.stdin, terminal: false });
let n = 0, longest = 0;
rl.on('line', (line) => {
  n++;
  longest = Math.max(longest, line.length);
});
rl.on('close', () => {
  console.log('closed after', n, 'lines; longest', longest);
  const text = fs.readFileSync('/dev/stdin', 'utf8');
  const input = JSON.parse(text);
  console.log('bytes', Buffer.byteLength(text), 'keys', Object.keys(input).join(','));
  const total = input.orders.reduce((s, o) => s + o.qty * o.price, 0);
  console.log('total', total.toFixed(2), 'customer', input.customer);
  console.log('fd 0 again:', JSON.stringify(fs.readFileSync(0, 'utf8')));
  try {
    fs.readFileSync('data.txt', 'utf8');
  } catch (e) {
    console.log(e.message, e.code, e.errno, e.syscall, e.path);
  }
  console.log(fs.existsSync('/nonexistent'));
});
setTimeout(() => console.log('timer first'), 0);
process.stdin.on('end', () => console.log('stdin end'));
