const nums = [0, -0, 1, -1, 1234, 1234567.891, 0.5, 0.123456, 1e21, 12345678901234567890, 2.5, 3.5, -2.5, 99.995, 1.0005,
  NaN, Infinity, -Infinity, 1e-7, 1 / 3, 2 / 3, 1000000, 999.9999];
for (const n of nums) {
  console.log(n.toLocaleString(), n.toLocaleString('en-US'), n.toLocaleString('en-US', { maximumFractionDigits: 0 }),
    n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
  console.log(n.toLocaleString('en-US', { style: 'currency', currency: 'USD' }),
    n.toLocaleString('en-US', { style: 'percent' }), n.toLocaleString('en-US', { maximumSignificantDigits: 3 }),
    n.toLocaleString(undefined, { useGrouping: false }));
}
const total = [19.99, 5.01, 120, 0.5].reduce((a, b) => a + b, 0);
console.log(`Total: ${total.toLocaleString('en-US', { style: 'currency', currency: 'USD' })}`);
console.log((1234.5).toLocaleString('en-US', { style: 'currency', currency: 'EUR' }), (1234).toLocaleString('en-US', { style: 'currency', currency: 'JPY' }));
console.log((0.075).toLocaleString('en-US', { style: 'percent', minimumFractionDigits: 1 }));
