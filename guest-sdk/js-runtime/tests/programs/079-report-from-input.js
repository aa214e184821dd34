// A typical job: aggregate the input and print a report.
const { orders, currency, asOf } = inputData;
const byCustomer = new Map();
for (const o of orders) {
  const c = byCustomer.get(o.customer) ?? { count: 0, total: 0, items: [] };
  c.count++;
  c.total += o.qty * o.price;
  c.items.push(o.sku);
  byCustomer.set(o.customer, c);
}
const rows = [...byCustomer].sort((a, b) => b[1].total - a[1].total || a[0].localeCompare(b[0]));
console.log(`Report as of ${new Date(asOf).toISOString().slice(0, 10)} (${currency})`);
console.log('-'.repeat(40));
for (const [name, c] of rows) {
  console.log(`${name.padEnd(12)} ${String(c.count).padStart(3)} ${c.total.toFixed(2).padStart(10)} ${c.items.join(',')}`);
}
const grand = rows.reduce((s, [, c]) => s + c.total, 0);
console.log('-'.repeat(40));
console.log(`${'TOTAL'.padEnd(16)} ${grand.toFixed(2).padStart(10)}`, grand.toLocaleString('en-US', { style: 'currency', currency }));
console.log(Object.fromEntries(rows.map(([n, c]) => [n, Math.round(c.total * 100) / 100])));
console.log(JSON.stringify({ customers: rows.length, grand: Number(grand.toFixed(2)) }));
console.table(rows.map(([name, c]) => ({ name, count: c.count, total: c.total.toFixed(2) })));
