//! # notary-guest
//!
//! A small library for writing Notary guests in Rust. A guest is a WASI preview1 command:
//! Notary gives it the job input on stdin (the RFC 8785 canonical JSON of `inputData`, or
//! nothing when the job has no input), hashes what it writes to stdout with sha256, and
//! compares that hash with the client's `expectedHash`. Exit code 0 means the program
//! finished; anything else is an `ERROR` result.
//!
//! - [`read_input`] / [`read_input_json`]: the job input.
//! - [`write_output`]: the bytes that are hashed.
//! - [`run`]: an entry point helper: input in, output out, an error message on stderr and
//!   exit code 1 on failure.
//! - [`Rng`]: a small deterministic random generator. [`Rng::from_host`] seeds it from the
//!   host's randomness, which in the Notary sandbox is itself derived from the job (code hash
//!   and input hash), so the same job draws the same numbers on every worker.
//!
//! A whole guest:
//!
//! ```no_run
//! // src/main.rs of a guest crate: the body of `fn main`.
//! notary_guest::run(|input| {
//!     let text = std::str::from_utf8(input).map_err(|e| e.to_string())?;
//!     Ok::<_, String>(format!("{} bytes of input\n", text.len()).into_bytes())
//! });
//! ```
//!
//! Build a guest with
//!
//! ```sh
//! rustup target add wasm32-wasip1
//! cargo build --release --target wasm32-wasip1
//! notary-pack build target/wasm32-wasip1/release/my-guest.wasm --out my-guest.notary.json
//! ```
//!
//! The library itself is plain `std` (stdin, stdout, `getrandom`), so it compiles for the host
//! too, where the same stdin/stdout contract holds: guests are tested natively with
//! `cargo test` (Notary's own build machine has no wasm32 target; that is how the library and
//! the Rust example are tested there).

use std::fmt::Display;
use std::io::{self, Read, Write};

use serde::de::DeserializeOwned;

/// Reads the whole job input (stdin). Empty when the job has no `inputData`.
pub fn read_input() -> io::Result<Vec<u8>> {
    let mut input = Vec::new();
    io::stdin().lock().read_to_end(&mut input)?;
    Ok(input)
}

/// Reads the job input as JSON. `Ok(None)` when the job has no input.
pub fn read_input_json<T: DeserializeOwned>() -> io::Result<Option<T>> {
    parse_input_json(&read_input()?)
}

/// Parses input bytes as [`read_input_json`] does (separate so it can be tested without stdin).
pub fn parse_input_json<T: DeserializeOwned>(input: &[u8]) -> io::Result<Option<T>> {
    if input.is_empty() {
        return Ok(None);
    }
    serde_json::from_slice(input)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Writes `output` to stdout and flushes it. Everything written to stdout is hashed.
pub fn write_output(output: &[u8]) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(output)?;
    stdout.flush()
}

/// The entry point helper: reads the input, calls `program`, writes its output.
///
/// On an error, writes `error: <message>` to stderr and exits with code 1, which Notary
/// reports as an `ERROR` result with that message.
pub fn run<E: Display>(program: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>) {
    let result = read_input()
        .map_err(|e| format!("reading the input: {e}"))
        .and_then(|input| program(&input).map_err(|e| e.to_string()))
        .and_then(|output| write_output(&output).map_err(|e| format!("writing the output: {e}")));
    if let Err(message) = result {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

/// A deterministic random generator (xoshiro256**): the same seed gives the same sequence on
/// every machine. Not for cryptography.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    state: [u64; 4],
}

impl Rng {
    /// A generator seeded with `seed` (expanded with SplitMix64).
    pub fn from_seed(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Rng {
            state: [next(), next(), next(), next()],
        }
    }

    /// A generator seeded from the host's randomness (WASI `random_get`). In the Notary
    /// sandbox that randomness is a function of the job, so runs agree across workers;
    /// natively it is the operating system's.
    pub fn from_host() -> io::Result<Self> {
        let mut seed = [0u8; 8];
        getrandom::getrandom(&mut seed).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Self::from_seed(u64::from_le_bytes(seed)))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A number in `0..bound` (`bound` > 0), without modulo bias.
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "bound must be positive");
        let zone = u64::MAX - u64::MAX % bound;
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % bound;
            }
        }
    }

    /// A float in `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let mut a = Rng::from_seed(42);
        let mut b = Rng::from_seed(42);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(
            xs,
            (0..5)
                .map(|_| Rng::from_seed(43).next_u64())
                .collect::<Vec<_>>()
        );
        // Pinned: a change of algorithm would silently change every guest's output.
        assert_eq!(Rng::from_seed(0).next_u64(), 0x99ec_5f36_cb75_f2b4);
    }

    #[test]
    fn below_and_floats_stay_in_range() {
        let mut rng = Rng::from_seed(7);
        for _ in 0..1000 {
            assert!(rng.below(6) < 6);
            let f = rng.next_f64();
            assert!((0.0..1.0).contains(&f));
        }
        assert!(Rng::from_host().is_ok());
    }

    #[test]
    fn input_json_absent_present_and_malformed() {
        assert_eq!(parse_input_json::<serde_json::Value>(b"").unwrap(), None);
        let v: Option<serde_json::Value> = parse_input_json(br#"{"a":[1,2]}"#).unwrap();
        assert_eq!(v.unwrap()["a"][1], 2);
        let err = parse_input_json::<serde_json::Value>(b"{").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
