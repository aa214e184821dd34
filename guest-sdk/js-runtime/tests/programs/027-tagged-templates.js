function tag(strings, ...values) {
  return strings.raw.map((s, i) => `${s}${i < values.length ? `[${values[i]}]` : ''}`).join('');
}
const name = 'World', n = 42;
console.log(tag`Hello ${name}, n=${n}\n done`);
console.log(String.raw`C:\path\to\${name}`);
function html(strings, ...vals) {
  return strings.reduce((acc, s, i) => acc + s + (i < vals.length ? String(vals[i]).replace(/</g, '&lt;') : ''), '');
}
console.log(html`<p>${'<script>'}</p>`);
const t = (s) => s;
console.log(t`a${1}b` === t`a${1}b`, Object.isFrozen(t`x`), t`x`.raw);
console.log(`nested ${`inner ${1 + 1}`} outer`);
