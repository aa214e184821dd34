// process.stdin as a stream: setEncoding + data/end, then async iteration of readline.
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buf += chunk;
});
process.stdin.on('end', async () => {
  const rows = buf.trim().split('\n');
  console.log('rows', rows.length);
  const sum = rows.reduce((s, r) => s + r.split(',').length, 0);
  console.log('cells', sum);
  const readline = require('readline');
  console.log(typeof readline.createInterface, typeof require('readline/promises').createInterface);
});
