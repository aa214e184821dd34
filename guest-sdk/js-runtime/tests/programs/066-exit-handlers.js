process.on('exit', (code) => console.log('exit event', code));
console.log('main');
setTimeout(() => console.log('timer'), 1);
