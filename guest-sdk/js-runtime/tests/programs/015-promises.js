console.log(Promise.resolve(1));
console.log(Promise.resolve({ a: 1 }));
console.log(new Promise(() => {}));
const rej = Promise.reject(new Error('x'));
rej.catch(() => {});
console.log(Promise.reject(42).catch(() => {}) instanceof Promise);
const r2 = Promise.reject('reason');
console.log(r2);
r2.catch(() => {});
(async () => {
  const p = Promise.resolve('later');
  await p;
  console.log(p);
})();
