const d = new Date(Date.UTC(2024, 0, 15, 10, 30, 45, 123));
console.log(d.toISOString(), d.getTime(), d.valueOf(), +d);
console.log(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCDay(), d.getUTCHours(), d.getUTCMinutes());
console.log(JSON.stringify({ d }), d.toJSON());
const e = new Date('2020-02-29T00:00:00Z');
e.setUTCDate(e.getUTCDate() + 1);
console.log(e.toISOString(), new Date('2021-13-01').getTime(), Date.UTC(1970, 0, 1));
console.log(new Date(0).toUTCString(), new Date(8.64e15).toISOString());
console.log(Date.parse('2000-01-01T00:00:00.000Z'), new Date(2000, 0, 1).getTimezoneOffset());
const diff = new Date('2024-03-01T00:00:00Z') - new Date('2024-02-01T00:00:00Z');
console.log(diff / 86400000, 'days in Feb 2024');
console.log([new Date(1e12), new Date(-1e12)]);
try { new Date(NaN).toISOString(); } catch (err) { console.log(err.name); }
