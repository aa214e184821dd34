// A minimal in-memory WASI preview1 for benchmarks (bench.mjs): stdin from a
// buffer, stdout/stderr collected, a virtual clock that starts at a fixed
// instant and advances a fixed step per read, and seeded random bytes --
// what the production host (wasmtime) provides, without node:wasi's file
// descriptors (and its crashes with many instances per process).
export class ProcExit {
  constructor(code) {
    this.code = code;
  }
}

export function makeWasi(stdin, { startNs = 1700000000000000000n, stepNs = 1000n, seed = 1 } = {}) {
  let memory;
  let pos = 0;
  const out = [[], [], []];
  let now = startNs;
  let mono = 0n;
  let rng = seed >>> 0 || 1;
  const dv = () => new DataView(memory.buffer);
  const imports = {
    fd_read(fd, iovs, n, nread) {
      if (fd !== 0) return 8; // EBADF
      let got = 0;
      const v = dv();
      for (let k = 0; k < n; k++) {
        const p = v.getUint32(iovs + 8 * k, true), l = v.getUint32(iovs + 8 * k + 4, true);
        const c = Math.min(l, stdin.length - pos);
        new Uint8Array(memory.buffer, p, c).set(stdin.subarray(pos, pos + c));
        pos += c;
        got += c;
      }
      v.setUint32(nread, got, true);
      return 0;
    },
    fd_write(fd, iovs, n, nwritten) {
      if (fd !== 1 && fd !== 2) return 8;
      let s = 0;
      const v = dv();
      for (let k = 0; k < n; k++) {
        const p = v.getUint32(iovs + 8 * k, true), l = v.getUint32(iovs + 8 * k + 4, true);
        out[fd].push(new Uint8Array(memory.buffer.slice(p, p + l)));
        s += l;
      }
      v.setUint32(nwritten, s, true);
      return 0;
    },
    proc_exit(code) {
      throw new ProcExit(code);
    },
    clock_time_get(id, precision, ptr) {
      let t;
      if (id === 0) t = (now += stepNs);
      else t = (mono += stepNs);
      dv().setBigUint64(ptr, t, true);
      return 0;
    },
    random_get(ptr, len) {
      const b = new Uint8Array(memory.buffer, ptr, len);
      for (let i = 0; i < len; i++) {
        rng ^= rng << 13; rng >>>= 0;
        rng ^= rng >>> 17;
        rng ^= rng << 5; rng >>>= 0;
        b[i] = rng & 0xff;
      }
      return 0;
    },
    fd_close() { return 0; },
    fd_seek() { return 70; }, // ESPIPE
    fd_fdstat_get(fd, ptr) {
      const v = dv();
      for (let i = 0; i < 24; i++) v.setUint8(ptr + i, 0);
      v.setUint8(ptr, fd <= 2 ? 2 : 0); // character device
      return fd <= 2 ? 0 : 8;
    },
  };
  return {
    imports: { wasi_snapshot_preview1: imports },
    setMemory(m) { memory = m; },
    stdout: () => Buffer.concat(out[1]),
    stderr: () => Buffer.concat(out[2]),
  };
}

// Instantiate and run; returns { code, stdout, stderr }.
export function runInMemory(module, stdin, opts) {
  const w = makeWasi(stdin, opts);
  const inst = new WebAssembly.Instance(module, w.imports);
  w.setMemory(inst.exports.memory);
  let code = 0;
  try {
    inst.exports._start();
  } catch (e) {
    if (e instanceof ProcExit) code = e.code;
    else throw e;
  }
  return { code, stdout: w.stdout(), stderr: w.stderr() };
}
