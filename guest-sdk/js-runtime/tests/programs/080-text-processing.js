const text = `It was the best of times, it was the worst of times, it was the age of wisdom,
it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity,
it was the season of Light, it was the season of Darkness, it was the spring of hope,
it was the winter of despair. Café, naïve, résumé — “quotes” and 'apostrophes' don't break it.`;
const words = text.toLowerCase().match(/[\p{L}']+/gu);
const freq = words.reduce((m, w) => m.set(w, (m.get(w) || 0) + 1), new Map());
const top = [...freq].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 12);
console.log(top);
console.log(words.length, freq.size, [...freq.keys()].filter((w) => /[^\x00-\x7f]/.test(w)));
const lines = text.split('\n').map((l, i) => `${String(i + 1).padStart(2, '0')}| ${l.length} ${l.slice(0, 30)}…`);
console.log(lines.join('\n'));
console.log(text.replace(/\b(\w)(\w*)\b/g, (m, a, b) => a.toUpperCase() + b).slice(0, 80));
const log = `2024-05-01T10:00:01Z INFO user=alice action=login ms=12
2024-05-01T10:00:02Z WARN user=bob action=upload ms=1500 size=10MB
2024-05-01T10:00:05Z ERROR user=alice action=pay ms=300 code=E42`;
const parsed = log.split('\n').map((l) => {
  const [, ts, level, rest] = l.match(/^(\S+) (\w+) (.*)$/);
  return { ts: new Date(ts), level, ...Object.fromEntries(rest.split(' ').map((kv) => kv.split('='))) };
});
console.log(parsed);
console.log(parsed.filter((p) => +p.ms > 100).map((p) => `${p.level}:${p.user}`));
console.log(encodeURIComponent('a b&c=d/é'), escape('ü'), 'ﬁ'.normalize('NFKC'), 'Å'.normalize('NFD').length);
