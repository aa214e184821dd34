// TypeError messages for calls of non-functions, in the shapes where the
// callee is a plain name or an a.b.c chain (see 093 for the others).
const config = { a: {} }; const f = 5; let undef; class K {}
const cases = [() => config.load(), () => f(1, 2), () => config.a.b.c(), () => new config.Foo(), () => undef(),
  () => this.nope(), () => config.a.get(), () => new f(), () => K(), () => Math.sqr(2), () => globalThis.foo.bar(),
  () => { const obj = { handlers: {} }; obj.handlers.onClick(); }, () => (class {})(), () => new undef()];
for (const c of cases) {
  try { c(); console.log('ok'); } catch (e) { console.log(e.name + ': ' + e.message); }
}
