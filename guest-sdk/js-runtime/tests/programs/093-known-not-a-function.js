// KNOWN DIFFERENCE: V8 names any callee in "... is not a function"; here
// only plain names and a.b.c chains are named (from the program text),
// other shapes (literals, call results, computed members) are not.
const config = {};
try { config.load(); } catch (e) { console.log(e.message); }
try { 'str'.toUpper(); } catch (e) { console.log(e.message); }
try { config['x'](); } catch (e) { console.log(e.message); }
