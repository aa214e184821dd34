const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function worker(id, jobs, results) {
  for (;;) {
    const job = jobs.shift();
    if (job === undefined) return;
    await sleep(job.cost);
    results.push(`w${id}:${job.name}@${job.cost}`);
  }
}
async function main() {
  // costs chosen so that no two completions are within 5 ms (node fires timers
  // a little late; near-ties would make its own output vary from run to run)
  const jobs = [50, 10, 95, 30, 40, 20, 90, 15].map((cost, i) => ({ name: 'j' + i, cost }));
  const results = [];
  const t0 = Date.now();
  await Promise.all([1, 2, 3].map((id) => worker(id, jobs, results)));
  console.log(results.join(" "), Date.now() - t0 >= 150);
  const settled = await Promise.allSettled([sleep(1).then(() => 'a'), Promise.reject(new RangeError('nope')), 42]);
  console.log(settled.map((s) => (s.status === 'rejected' ? { ...s, reason: `${s.reason.name}: ${s.reason.message}` } : s)));
  const timeout = (p, ms) => Promise.race([p, sleep(ms).then(() => { throw new Error('timeout ' + ms); })]);
  try { await timeout(sleep(50), 10); } catch (e) { console.log(e.message); }
  const ee = new (require('events'))();
  const got = new Promise((r) => ee.once('data', r));
  setTimeout(() => ee.emit('data', { n: 1 }), 3);
  console.log(await got);
  for await (const v of (async function* () { for (let i = 0; i < 3; i++) { await sleep(i); yield i * i; } })()) console.log('gen', v);
  return 'done';
}
main().then(console.log, (e) => console.log('failed', e));
