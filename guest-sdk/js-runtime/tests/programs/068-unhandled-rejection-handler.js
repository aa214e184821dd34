process.on('unhandledRejection', (reason, p) => { console.log('unhandled:', reason instanceof Error ? reason.message : reason, p instanceof Promise); });
Promise.reject(new Error('nobody catches'));
Promise.reject(7);
setTimeout(() => console.log('still alive'), 1);
