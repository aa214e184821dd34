process.on('uncaughtException', (err, origin) => { console.log('handled:', err.message, origin); });
setTimeout(() => { throw new Error('from timer'); }, 1);
setTimeout(() => console.log('continues after'), 5);
