const p = Promise.reject(new Error('handled'));
Promise.resolve().then(() => p.catch((e) => console.log('caught', e.message)));
process.nextTick(() => console.log('tick'));
