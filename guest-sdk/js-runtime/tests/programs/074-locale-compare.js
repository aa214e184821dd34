const names = ['Zoë', 'zoe', 'Émile', 'emile', 'Eve', 'adam', 'Adam', 'Ádám', "o'brien", "O'Neil", 'van Gogh', 'Van Halen',
  'Åsa', 'Ørjan', 'Ærø', 'straße', 'strasse', 'Straße', 'Łukasz', 'lukas', 'Müller', 'Mueller', 'muller', 'ÇA', 'ca'];
console.log([...names].sort((a, b) => a.localeCompare(b)));
console.log([...names].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' })));
console.log([...names].sort((a, b) => b.localeCompare(a)));
const files = ['file10.txt', 'file2.txt', 'File1.txt', 'file1.txt', 'file20.txt', 'file3.txt', 'file-1.txt', 'file_1.txt'];
console.log([...files].sort((a, b) => a.localeCompare(b)));
console.log([...files].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })));
console.log('a'.localeCompare('B'), 'B'.localeCompare('a'), 'a'.localeCompare('a'), 'résumé'.localeCompare('resume'),
  'resume'.localeCompare('Resume'), 'a'.localeCompare('á', undefined, { sensitivity: 'base' }));
const words = ['banana', 'Apple', 'cherry', 'apple', 'Banana', '10', '9', ' space', '_under', '-dash', 'émigré', 'Zulu'];
console.log(words.sort((a, b) => a.localeCompare(b)).join(' | '));
