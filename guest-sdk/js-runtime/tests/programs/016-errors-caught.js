try { null.x; } catch (e) { console.log(e instanceof TypeError, e.name); }
try { undefinedVar; } catch (e) { console.log(e.name, e.message); }
try { throw new RangeError('bad range'); } catch (e) { console.log(String(e)); }
try { JSON.parse('{bad'); } catch (e) { console.log(e.name); }
class MyError extends Error { constructor(m) { super(m); this.name = 'MyError'; this.code = 42; } }
try { throw new MyError('mine'); } catch (e) { console.log(e.name, e.message, e.code, e instanceof Error, `${e}`); }
try { throw 'a string'; } catch (e) { console.log(typeof e, e); }
try { throw { custom: 1 }; } catch (e) { console.log(e); }
const e = new Error('with cause', { cause: 'root' });
console.log(e.cause, e.message);
function f() { try { return 'try'; } finally { console.log('finally runs'); } }
console.log(f());
console.log(Object.prototype.toString.call(new Error()));
const agg = new AggregateError([new Error('a')], 'multi');
console.log(agg.errors.length, agg.message, agg.name);
try { new Array(-1); } catch (err) { console.log(err.name); }
try { (1).toFixed(200); } catch (err) { console.log(err.name); }
