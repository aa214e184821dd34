process.exitCode = 7;
console.log('set exitCode');
setTimeout(() => console.log('still runs'), 5);
