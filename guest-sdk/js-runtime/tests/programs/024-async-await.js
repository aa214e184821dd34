const sleep = (ms, v) => new Promise((r) => setTimeout(() => r(v), ms));
async function main() {
  console.log('start');
  const a = await sleep(20, 'a');
  console.log('got', a);
  const all = await Promise.all([sleep(30, 1), sleep(10, 2), 3]);
  console.log(all);
  const race = await Promise.race([sleep(30, 'slow'), sleep(5, 'fast')]);
  console.log(race);
  const settled = await Promise.allSettled([Promise.reject(new Error('no')), sleep(1, 'yes')]);
  console.log(settled.map((s) => s.status + ':' + (s.value ?? s.reason.message)));
  const any = await Promise.any([Promise.reject(1), sleep(3, 'any')]);
  console.log(any);
  try { await Promise.reject(new TypeError('awaited')); } catch (e) { console.log('caught', e.message); }
  for await (const x of (async function* () { yield 1; await sleep(1); yield 2; })()) console.log('for await', x);
  return 'done';
}
main().then((v) => console.log(v));
console.log('sync end');
