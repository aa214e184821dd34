// Date formatting without Intl options (time zone is UTC in both runs).
const dates = [new Date(0), new Date(Date.UTC(2024, 1, 29, 13, 5, 9, 7)), new Date(Date.UTC(1999, 11, 31, 23, 59, 59)),
  new Date(-1e12), new Date(Date.UTC(2024, 6, 4, 0, 0, 0)), new Date(Date.UTC(2024, 0, 1, 12, 0, 0))];
for (const d of dates) {
  console.log(d.toString());
  console.log(d.toDateString(), '|', d.toTimeString());
  console.log(d.toISOString(), d.toUTCString(), d.toJSON());
  console.log(d.toLocaleString(), '|', d.toLocaleDateString(), '|', d.toLocaleTimeString());
  console.log(String(d), `${d}`, d.getDay(), d.getHours(), d.getTimezoneOffset());
}
console.log(new Date(NaN).toString(), String(new Date(NaN)), new Date(NaN).toDateString());
console.log(new Date(2024, 0, 31, 10).toString());
console.log(Date.UTC(2024, 1, 30), new Date('2024-02-30T00:00:00Z').getTime());
