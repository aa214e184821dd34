outer: for (let i = 0; i < 4; i++) {
  for (let j = 0; j < 4; j++) {
    if (j === 2) continue outer;
    if (i === 3) break outer;
    console.log(i, j);
  }
}
let n = 0;
do { n++; } while (n < 5);
let w = 10;
while (w > 1) w = w % 2 ? 3 * w + 1 : w / 2;
console.log(n, w);
switch (3) { case 1: console.log('one'); case 3: console.log('three'); case 4: console.log('fall'); break; default: console.log('no'); }
blk: { console.log('in block'); break blk; }
