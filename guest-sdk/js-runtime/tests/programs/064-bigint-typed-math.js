const values = [1n, 255n, 2n ** 63n - 1n, -(2n ** 63n)];
const arr = new BigInt64Array(values);
console.log(arr, arr[3] === -(2n ** 63n));
console.log(values.map((v) => v.toString(2).length));
console.log(BigInt('0x' + 'f'.repeat(20)), BigInt('12345678901234567890') * 2n);
const view = new DataView(new ArrayBuffer(8));
view.setBigUint64(0, 0x0102030405060708n);
console.log(new Uint8Array(view.buffer), view.getBigInt64(0, true));
console.log(Number(2n ** 60n), parseInt('9007199254740993'), 2n ** 60n > Number.MAX_SAFE_INTEGER);
