//! The Rust example, run natively under the same stdin/stdout contract as in the sandbox.

use std::io::Write;
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

/// RFC 8785 canonical JSON of `guest-sdk/examples/input.json`: what every example guest
/// reads on stdin for that `inputData`.
const CANONICAL_INPUT: &[u8] = br#"{"greeting":"hello, notary","numbers":[1,2,3]}"#;

/// sha256 of the output every example prints for that input (the known hash the other
/// examples' tests verify through a running coordinator).
const KNOWN_HASH: &str = "9fd9750faba5a820af65da42c718e6cbf06985d4a0fe56ed6f9746b983a111e1";

#[test]
fn the_report_has_the_known_hash() {
    let report = notary_example_fnv::fnv_report(CANONICAL_INPUT);
    assert_eq!(report, "bytes=46 lines=0 fnv1a64=d9f6cd965523e403\n");
    assert_eq!(hex::encode(Sha256::digest(report.as_bytes())), KNOWN_HASH);
}

#[test]
fn the_binary_reads_stdin_and_writes_stdout() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fnv"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(CANONICAL_INPUT)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(hex::encode(Sha256::digest(&out.stdout)), KNOWN_HASH);

    // No input at all (a job without inputData): the FNV offset basis.
    let out = Command::new(env!("CARGO_BIN_EXE_fnv"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"bytes=0 lines=0 fnv1a64=cbf29ce484222325\n");
}
