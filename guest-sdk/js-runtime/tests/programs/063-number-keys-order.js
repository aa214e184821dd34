const o = { z: 1, 10: 'a', 2: 'b', '-1': 'neg', 1.5: 'float', a: 2, '01': 'lead' };
console.log(o);
console.log(Object.keys(o));
const arr = ['a', 'b'];
arr['2'] = 'c';
arr.x = 'y';
console.log(arr, arr.length);
console.log({ [2 ** 32]: 'big', [2 ** 32 - 2]: 'max' });
