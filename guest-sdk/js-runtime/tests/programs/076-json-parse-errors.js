const cases = ['[1,]', '{"a":1,}', '[1, 2', '{"a" 1}', '"abc', 'undefined', 'x', '[1,2,3,4,5,6,7,8,9,10,11,]',
  '{"key": "value", "other": tru}', '{"aaaaaaaaaaaaaaaaaaaaaaaaaaaa": x}', '{"a":1} x', 'NaN', '[object Object]',
  '\u00e9', '[1] 2', '01', '-', '1.', '1e', '["a\\x"]', '"\\u12"', '"a\tb"', '{,}', '[,]', 'nul', 'tru', '{"a":1}}',
  '', ' ', '{', '[', '{"a":', '{"a"', 'True', "{'a':1}", '[1 2]', '{"a":1 "b":2}', '123abc', '"\\q"', '[-]'];
for (const s of cases) {
  try { JSON.parse(s); console.log(JSON.stringify(s), 'ok'); } catch (e) { console.log(JSON.stringify(s), e.name, e.message); }
}
try { JSON.parse(undefined); } catch (e) { console.log(e.message); }
try { JSON.parse({}); } catch (e) { console.log(e.message); }
