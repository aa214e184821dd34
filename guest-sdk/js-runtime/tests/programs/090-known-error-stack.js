// KNOWN DIFFERENCE: stack traces are the engine's (node prints its own
// frames and file paths, which differ from machine to machine anyway).
const e = new Error('boom');
console.log(e);
console.log(e.stack.split('\n').length > 1);
