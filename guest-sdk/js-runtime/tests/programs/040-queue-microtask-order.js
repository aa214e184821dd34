const out = [];
queueMicrotask(() => out.push('qm1'));
Promise.resolve().then(() => out.push('p1')).then(() => out.push('p2'));
process.nextTick(() => { out.push('t1'); process.nextTick(() => out.push('t2')); Promise.resolve().then(() => out.push('p-from-tick')); });
queueMicrotask(() => { out.push('qm2'); process.nextTick(() => out.push('t-from-micro')); });
setTimeout(() => console.log(out.join(' ')), 0);
