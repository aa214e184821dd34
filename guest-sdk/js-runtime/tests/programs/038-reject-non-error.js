async function f() { throw 'plain string'; }
f();
console.log('sync done');
