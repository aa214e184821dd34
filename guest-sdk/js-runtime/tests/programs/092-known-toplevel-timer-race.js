// KNOWN DIFFERENCE: at the top level node runs setTimeout(0) before or
// after setImmediate depending on how long the script took; the virtual
// event loop always runs the immediate first (the script takes no time).
setTimeout(() => console.log('timeout'), 0);
setImmediate(() => console.log('immediate'));
let x = 0;
for (let i = 0; i < 3e6; i++) x += i; // make node's script take > 1 ms
console.log('script end', x > 0);
