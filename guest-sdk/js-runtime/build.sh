#!/usr/bin/env bash
# Build notary-js.wasm: QuickJS-ng (from the rquickjs-sys 0.14.0 crate, which
# vendors QuickJS-ng 0.16.2) + runner.c + lib.js bytecode, as a WASI preview1
# command module, with Zig's clang (PyPI `ziglang`), pre-initialized by Wizer
# (npm `@bytecodealliance/wizer` 10.0.0): the JS context is built at build
# time and shipped as the module's initial memory.
#
#   ./build.sh          build into build/, copy to notary-js.wasm, write
#                       notary-js.wasm.sha256
#   ./build.sh --check  build into build/ only and fail if the result differs
#                       from the committed notary-js.wasm.sha256
#
# Needs: python3 (+pip), cargo (only to fetch the crate sources), node >= 20
# (runs the bytecode compiler under node:wasi), npm (installs the pinned Wizer). The output is byte-for-byte
# reproducible: no timestamps, and every compiler input is named by a
# relative path (inside build/src), so no absolute path reaches the binary.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

MODE=build
case "${1:-}" in
  "") ;;
  --check) MODE=check ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

ZIG_VERSION=0.17.1
QJS_CRATE=rquickjs-sys
QJS_CRATE_VERSION=0.14.0
STACK_SIZE=8388608 # 8 MiB shadow stack (runner.c sets the JS limit below it)

# ---- toolchain -------------------------------------------------------------
if ! python3 -m ziglang version >/dev/null 2>&1; then
  echo "build.sh: installing ziglang==$ZIG_VERSION from PyPI" >&2
  python3 -m pip install --quiet "ziglang==$ZIG_VERSION"
fi
have_zig="$(python3 -m ziglang version)"
if [ "$have_zig" != "$ZIG_VERSION" ]; then
  echo "build.sh: warning: zig $have_zig, expected $ZIG_VERSION (output may differ)" >&2
fi
command -v node >/dev/null || { echo "build.sh: node is required" >&2; exit 1; }
CC=(python3 -m ziglang cc --target=wasm32-wasi)

# ---- QuickJS-ng sources ----------------------------------------------------
find_src() {
  local d
  for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$QJS_CRATE-$QJS_CRATE_VERSION"/quickjs; do
    if [ -f "$d/quickjs.c" ]; then echo "$d"; return 0; fi
  done
  return 1
}
if ! QJS_SRC="$(find_src)"; then
  echo "build.sh: fetching $QJS_CRATE $QJS_CRATE_VERSION sources with cargo" >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/src"
  cat >"$tmp/Cargo.toml" <<EOF
[package]
name = "fetch-quickjs-sources"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
$QJS_CRATE = "=$QJS_CRATE_VERSION"
EOF
  echo 'fn main() {}' >"$tmp/src/main.rs"
  # fetch only: the crate's build script downloads things, never build it
  (cd "$tmp" && cargo fetch --quiet)
  QJS_SRC="$(find_src)" || { echo "build.sh: sources not found after cargo fetch" >&2; exit 1; }
fi

# ---- prepare build/src -----------------------------------------------------
OUT=build
rm -rf "$OUT"
mkdir -p "$OUT/src"
for f in quickjs.c quickjs.h quickjs-atom.h quickjs-opcode.h quickjs-c-atomics.h \
         libregexp.c libregexp.h libregexp-opcode.h libunicode.c libunicode.h libunicode-table.h \
         dtoa.c dtoa.h cutils.h list.h \
         builtin-array-fromasync.h builtin-iterator-zip.h builtin-iterator-zip-keyed.h; do
  cp "$QJS_SRC/$f" "$OUT/src/$f"
done
cp runner.c vmath.c sort.c tools/compile.c "$OUT/src/"

# Patch the copy of quickjs.c: re-enable the stack check on WASI, node's
# wording for common error messages, node's Date strings; then append
# patches/quickjs-notary.c. See patches/apply.py for the list and reasons.
python3 patches/apply.py "$OUT/src/quickjs.c" patches/quickjs-notary.c

CFLAGS=(-O2 -fno-sanitize=undefined -D_GNU_SOURCE -DQUICKJS_NG_BUILD -I.)
# QuickJS's clock reads go to the runner (virtual time offset, see runner.c)
QJS_CFLAGS=(-Dgettimeofday=notary_gettimeofday -Dclock_gettime=notary_clock_gettime)
# Math.* in quickjs.c goes to vmath.c (V8's fdlibm algorithms, see there)
MATH_CFLAGS=()
for f in exp log log1p log2 log10 pow sin cos sinh cosh tanh asinh acosh atanh atan2; do
  MATH_CFLAGS+=("-D$f=notary_$f")
done
LDFLAGS=(-s "-Wl,-z,stack-size=$STACK_SIZE")

cd "$OUT/src"
# ---- compile QuickJS (2 jobs in parallel: quickjs.c is the slow one) -------
"${CC[@]}" "${CFLAGS[@]}" "${QJS_CFLAGS[@]}" "${MATH_CFLAGS[@]}" -c quickjs.c -o quickjs.o &
pid=$!
for f in libregexp libunicode dtoa vmath sort; do
  "${CC[@]}" "${CFLAGS[@]}" "${QJS_CFLAGS[@]}" -c "$f.c" -o "$f.o"
done
wait "$pid"
QJS_OBJS=(quickjs.o libregexp.o libunicode.o dtoa.o vmath.o sort.o)

# ---- lib.js, lib-extras.js, lib-node.js -> bytecode -> lib_bytecode.h -----
"${CC[@]}" "${CFLAGS[@]}" compile.c "${QJS_OBJS[@]}" "${LDFLAGS[@]}" -o compile.wasm
node --no-warnings "$HERE/tools/wasi-run.mjs" compile.wasm <"$HERE/lib.js" >lib.bc
node --no-warnings "$HERE/tools/wasi-run.mjs" compile.wasm <"$HERE/lib-extras.js" >lib-extras.bc
node --no-warnings "$HERE/tools/wasi-run.mjs" compile.wasm <"$HERE/lib-node.js" >lib-node.bc
python3 - lib.bc lib-extras.bc lib-node.bc lib_bytecode.h <<'EOF'
import sys
out = ['/* generated by build.sh from lib.js, lib-extras.js and lib-node.js: QuickJS bytecode. Do not edit. */']
for path, name in ((sys.argv[1], 'lib_bytecode'), (sys.argv[2], 'lib_extras_bytecode'),
                   (sys.argv[3], 'lib_node_bytecode')):
    data = open(path, 'rb').read()
    if not data:
        sys.exit("build.sh: empty bytecode " + path)
    out.append('static const uint8_t %s[%d] = {' % (name, len(data)))
    for i in range(0, len(data), 24):
        out.append('    ' + ', '.join('0x%02x' % b for b in data[i:i + 24]) + ',')
    out.append('};')
    out.append('static const size_t %s_len = %d;' % (name, len(data)))
open(sys.argv[4], 'w').write('\n'.join(out) + '\n')
EOF

# ---- the runner ------------------------------------------------------------
"${CC[@]}" "${CFLAGS[@]}" runner.c "${QJS_OBJS[@]}" "${LDFLAGS[@]}" -o ../notary-js.raw.wasm
cd "$HERE"

# ---- the snapshot ------------------------------------------------------------
# Wizer (pinned in tools/wizer/package-lock.json) runs runner.c's
# `wizer.initialize` export once (runtime, context, globals: everything a
# program starts with) and writes its linear memory and globals into the
# module as data, so every job starts from that heap (wasmtime maps it
# copy-on-write) instead of building it. The init calls no import (Wizer
# would trap), so the snapshot depends only on the code: reproducible.
(cd tools/wizer && npm ci --silent --no-audit --no-fund >/dev/null)
tools/wizer/node_modules/.bin/wizer --wasm-bulk-memory true \
  -o "$OUT/notary-js.wasm" "$OUT/notary-js.raw.wasm"

# ---- checks ------------------------------------------------------------------
# Only WASI preview1 imports, and a _start export (a command, not a reactor).
node --no-warnings -e '
const m = new WebAssembly.Module(require("fs").readFileSync(process.argv[1]));
const bad = WebAssembly.Module.imports(m).filter((i) => i.module !== "wasi_snapshot_preview1");
if (bad.length) { console.error("unexpected imports:", bad); process.exit(1); }
if (!WebAssembly.Module.exports(m).some((e) => e.name === "_start")) { console.error("no _start"); process.exit(1); }
' "$OUT/notary-js.wasm"

new_hash="$(sha256sum "$OUT/notary-js.wasm" | cut -d' ' -f1)"
if [ "$MODE" = check ]; then
  if [ ! -f notary-js.wasm.sha256 ]; then
    echo "build.sh --check: notary-js.wasm.sha256 is missing" >&2
    exit 1
  fi
  want="$(cut -d' ' -f1 notary-js.wasm.sha256)"
  if [ "$new_hash" != "$want" ]; then
    echo "build.sh --check: MISMATCH: rebuilt notary-js.wasm has sha256 $new_hash," >&2
    echo "  but notary-js.wasm.sha256 says $want. Run ./build.sh and commit the result." >&2
    exit 1
  fi
  echo "build.sh --check: OK ($new_hash)"
else
  cp "$OUT/notary-js.wasm" notary-js.wasm
  chmod 644 notary-js.wasm
  echo "$new_hash  notary-js.wasm" >notary-js.wasm.sha256
  echo "built notary-js.wasm ($(wc -c <notary-js.wasm) bytes) sha256 $new_hash"
fi
