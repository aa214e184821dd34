//! Fuel for host work: the WASI calls a guest can loop on cost fuel, so fuel bounds its time.
//!
//! Wasmtime charges fuel for wasm instructions only (bulk memory operations by the byte); a
//! host call cost its caller one instruction however long the host worked. Measured here
//! before this module: 20 `random_get`s of 32 MiB ran 65 s on 62 fuel, and a million clock
//! reads took 0.8 s on 9·10^6 fuel (a whole 10^10 budget of them: about 15 minutes), so such
//! loops held their slot until the wall-clock timeout. Our own implementations replace
//! wasmtime-wasi's for the calls that are cheap to loop on or expensive per call:
//!
//! - `clock_time_get` costs [`HOSTCALL_FUEL`] and reads the guest's virtual clocks (exactly
//!   what wasmtime-wasi returned through them);
//! - `random_get` costs [`HOSTCALL_FUEL`] plus [`RANDOM_GET_FUEL_PER_BYTE`] per byte and
//!   writes exactly the bytes wasmtime-wasi did (one `next_u32` of the job's ChaCha20 stream
//!   per byte, as rand's `StandardUniform` samples a `u8`), straight into guest memory;
//! - `poll_oneoff` has its own price (see `poll`).
//!
//! Fuel is taken before the work; with too little left the guest traps out of fuel, on every
//! worker at the same point. The prices are in the profile text, so in the runtime id. (A call
//! hook would price every import at once, but a store's fuel is not up to date when the hook
//! runs for wasmtime's internal calls, and setting it there changed a JavaScript hello world's
//! count by 57%.) Other WASI calls still cost one instruction; see the README's Determinism
//! section for what that leaves to the wall-clock timeout.
//!
//! Pointers follow the WASI rule wasmtime-wasi implements: out of bounds or misaligned traps.

use chacha20::rand_core::Rng;
use wasmtime::{Caller, Linker, Trap};

use super::config::MAX_RANDOM_GET_BYTES;
use super::guest::GuestState;

/// Fuel a priced host call costs (about what a host call's time is worth in instructions).
pub const HOSTCALL_FUEL: u64 = 1_000;
/// Fuel per byte `random_get` writes (on top of [`HOSTCALL_FUEL`]): each byte takes 4 bytes of
/// ChaCha20 keystream, several times the time of a wasm instruction.
pub const RANDOM_GET_FUEL_PER_BYTE: u64 = 16;

/// Output bytes `random_get` draws per round (from 4 times as many stream bytes).
const RANDOM_CHUNK_BYTES: usize = 16 * 1024;

pub(crate) const ERRNO_SUCCESS: i32 = 0;
pub(crate) const ERRNO_BADF: i32 = 8;
pub(crate) const ERRNO_INVAL: i32 = 28;

/// The WASI module every guest import comes from.
pub(crate) const WASI: &str = "wasi_snapshot_preview1";

/// Takes `cost` fuel from the running guest, or traps out of fuel (leaving none) when it has
/// less. Without fuel metering (an operator's choice, in the profile) it does nothing: only the
/// wall clock bounds a guest then.
pub fn charge(caller: &mut Caller<'_, GuestState>, cost: u64) -> wasmtime::Result<()> {
    let Ok(fuel) = caller.get_fuel() else {
        return Ok(());
    };
    if fuel < cost {
        caller.set_fuel(0)?;
        return Err(Trap::OutOfFuel.into());
    }
    caller.set_fuel(fuel - cost)
}

/// The guest's linear memory (a WASI command must export it).
pub(crate) fn memory(
    caller: &mut Caller<'_, GuestState>,
    function: &str,
) -> wasmtime::Result<wasmtime::Memory> {
    caller
        .get_export("memory")
        .and_then(|export| export.into_memory())
        .ok_or_else(|| wasmtime::Error::msg(format!("{function}: the module exports no memory")))
}

/// `len` bytes of guest memory at `ptr`, aligned to `align`; a trap otherwise (WASI: "if a
/// misaligned or out-of-bounds pointer is passed to a function, the function shall trap").
pub(crate) fn guest_bytes<'a>(
    bytes: &'a mut [u8],
    ptr: i32,
    len: usize,
    align: usize,
    function: &str,
) -> wasmtime::Result<&'a mut [u8]> {
    let start = ptr as u32 as usize;
    if !start.is_multiple_of(align) {
        return Err(wasmtime::Error::msg(format!(
            "{function}: pointer {start:#x} is not aligned to {align} bytes"
        )));
    }
    start
        .checked_add(len)
        .and_then(|end| bytes.get_mut(start..end))
        .ok_or_else(|| {
            wasmtime::Error::msg(format!(
                "{function}: {len} bytes at {start:#x} are outside linear memory"
            ))
        })
}

/// Replaces wasmtime-wasi's `clock_time_get` and `random_get` in `linker` with the priced ones.
pub fn link(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.func_wrap(WASI, "clock_time_get", clock_time_get)?;
    linker.func_wrap(WASI, "random_get", random_get)?;
    linker.allow_shadowing(false);
    Ok(())
}

/// WASI `clock_time_get(id, precision, time_ptr)`: the virtual wall (0) or monotonic (1)
/// clock; the CPU-time clocks (2, 3) are `EBADF`, other ids `EINVAL`, as in wasmtime-wasi.
fn clock_time_get(
    mut caller: Caller<'_, GuestState>,
    id: i32,
    _precision: i64,
    time_ptr: i32,
) -> wasmtime::Result<i32> {
    charge(&mut caller, HOSTCALL_FUEL)?;
    let now = match id {
        0 => caller.data().time.wall_now(),
        1 => caller.data().time.monotonic_now(),
        2 | 3 => return Ok(ERRNO_BADF),
        _ => return Ok(ERRNO_INVAL),
    };
    let memory = memory(&mut caller, "clock_time_get")?;
    let out = guest_bytes(
        memory.data_mut(&mut caller),
        time_ptr,
        8,
        8,
        "clock_time_get",
    )?;
    out.copy_from_slice(&now.to_le_bytes());
    Ok(ERRNO_SUCCESS)
}

/// WASI `random_get(buf, len)`: `len` bytes of the job's secure random stream.
fn random_get(mut caller: Caller<'_, GuestState>, buf: i32, len: i32) -> wasmtime::Result<i32> {
    let len = u64::from(len as u32);
    if len > MAX_RANDOM_GET_BYTES {
        // wasmtime-wasi's rule, kept: a request over the limit traps.
        return Err(wasmtime::Error::msg(format!(
            "random_get: requested len {len} exceeds limit {MAX_RANDOM_GET_BYTES}"
        )));
    }
    charge(
        &mut caller,
        HOSTCALL_FUEL.saturating_add(len.saturating_mul(RANDOM_GET_FUEL_PER_BYTE)),
    )?;
    let memory = memory(&mut caller, "random_get")?;
    let (bytes, state) = memory.data_and_store_mut(&mut caller);
    // Byte i is the low byte of the stream's i-th u32 (little-endian words, so the first byte
    // of each 4): drawn a block of words at a time, which is the same stream as `next_u32`
    // calls as long as only whole words are ever taken (they are).
    let out = guest_bytes(bytes, buf, len as usize, 1, "random_get")?;
    let mut words = vec![0u8; RANDOM_CHUNK_BYTES * 4];
    for chunk in out.chunks_mut(RANDOM_CHUNK_BYTES) {
        let words = &mut words[..chunk.len() * 4];
        state.random.fill_bytes(words);
        for (byte, word) in chunk.iter_mut().zip(words.chunks_exact(4)) {
            *byte = word[0];
        }
    }
    Ok(ERRNO_SUCCESS)
}
