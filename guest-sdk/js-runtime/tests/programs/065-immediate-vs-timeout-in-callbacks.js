setTimeout(() => {
  setTimeout(() => console.log('timeout'), 0);
  setImmediate(() => console.log('immediate'));
}, 0);
setTimeout(() => {
  const order = [];
  const t = setTimeout(() => order.push('refreshed'), 5);
  setTimeout(() => { t.refresh(); }, 3);
  setTimeout(() => console.log(order, 'at 6'), 6);
  setTimeout(() => console.log(order, 'at 20'), 20);
}, 50);
const imm = setImmediate(() => console.log('cleared immediate'));
clearImmediate(imm);
const u = setTimeout(() => console.log('unref timer never fires'), 1000);
u.unref();
console.log(typeof u.ref, typeof u.hasRef, u.hasRef());
