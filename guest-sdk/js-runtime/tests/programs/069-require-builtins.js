const assert = require('assert');
const { EventEmitter } = require('events');
const util = require('node:util');
assert.strictEqual(1, 1);
assert.deepStrictEqual({ a: [1] }, { a: [1] });
try { assert.strictEqual(1, 2); } catch (e) { console.log(e.name, e.code); }
try { assert.deepStrictEqual({ a: 1 }, { a: 2 }); } catch (e) { console.log(e.code); }
assert.throws(() => { throw new TypeError('x'); }, TypeError);
const em = new EventEmitter();
em.on('ev', (a, b) => console.log('ev', a, b));
em.once('ev', () => console.log('once'));
console.log(em.emit('ev', 1, 2), em.emit('ev', 3, 4), em.emit('none'), em.listenerCount('ev'));
console.log(util.format('%s-%s', 'a', 'b'));
try { require('no-such-module'); } catch (e) { console.log(e.code); }
const { setTimeout: sleep } = require('timers/promises');
sleep(5, 'slept').then(console.log);
