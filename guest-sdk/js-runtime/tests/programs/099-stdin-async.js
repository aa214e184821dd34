// Async iteration of readline over stdin, with events.once, as node's documentation shows.
const readline = require('readline');
const { once } = require('events');
(async () => {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  const lines = [];
  for await (const line of rl) lines.push(line);
  console.log('lines', lines.length, lines[1]);
  const rl2 = readline.createInterface({ input: process.stdin });
  let n = 0;
  rl2.on('line', () => n++);
  await once(rl2, 'close');
  console.log('second reader after the first consumed stdin:', n);
})();
