setTimeout(() => { console.log('in timer'); throw new TypeError('timer failure'); }, 5);
setTimeout(() => console.log('never'), 10);
console.log('scheduled');
