// Timer ordering inside a timer callback (deterministic in node; at the
// top level node's setTimeout(0) vs setImmediate order depends on how long
// the script took, see README).
const log = (x) => console.log(x);
setTimeout(() => {
  setTimeout(() => log('timeout 10'), 10);
  setTimeout(() => log('timeout 0'), 0);
  setTimeout(() => log('timeout 1'), 1);
  setTimeout(() => log('timeout 5a'), 5);
  setTimeout(() => log('timeout 5b'), 5);
  setImmediate(() => log('immediate 1'));
  setImmediate(() => {
    log('immediate 2');
    process.nextTick(() => log('tick in immediate'));
    Promise.resolve().then(() => log('promise in immediate'));
  });
  process.nextTick(() => log('tick 1'));
  Promise.resolve().then(() => log('promise 1'));
  queueMicrotask(() => log('microtask 1'));
  process.nextTick(() => log('tick 2'));
  (async () => { log('async body'); await null; log('after await'); })();
  log('sync');
  let count = 0;
  const iv = setInterval(() => {
    log('interval');
    if (++count === 3) clearInterval(iv);
  }, 30);
  const cancelled = setTimeout(() => log('never'), 2);
  clearTimeout(cancelled);
  setTimeout(() => {
    log('outer timeout');
    setTimeout(() => log('nested timeout'), 0);
    setImmediate(() => log('immediate from timeout'));
    process.nextTick(() => log('tick from timeout'));
  }, 200);
}, 0);
