//! The Rust version of the example guest: FNV-1a (64-bit) of the job input, printed as
//! `bytes=N lines=L fnv1a64=HEX`, exactly as the JavaScript, C and AssemblyScript examples
//! print it, so all four share one known output hash.
//!
//! Build it for Notary with `rustup target add wasm32-wasip1` and
//! `cargo build --release --target wasm32-wasip1 -p notary-example-fnv`, then
//! `notary-pack build target/wasm32-wasip1/release/fnv.wasm --out fnv.notary.json`.
//! Notary's own build machine has no wasm32 target, so the tests run it natively, where the
//! same stdin/stdout contract holds.

/// The report line for `input` (the job's stdin).
pub fn fnv_report(input: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut lines = 0u64;
    for &b in input {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        if b == b'\n' {
            lines += 1;
        }
    }
    format!("bytes={} lines={lines} fnv1a64={hash:016x}\n", input.len())
}
