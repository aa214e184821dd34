'use strict';
try { undeclared = 1; } catch (e) { console.log(e.name); }
try { Object.freeze({ a: 1 }).a = 2; } catch (e) { console.log(e.name); }
function f() { return this; }
console.log(f());
try { delete Object.prototype; } catch (e) { console.log(e.name); }
console.log((function () { return typeof this; })());
