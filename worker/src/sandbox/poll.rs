//! WASI `poll_oneoff` in virtual time: sleeping costs fuel, not a slot.
//!
//! wasmtime-wasi's own `poll_oneoff` waits on the host's timers, so a guest sleeping in a loop
//! burnt no fuel and held its slot until the wall-clock timeout (issue 22, defect 4). The
//! guest's clocks are virtual already, so real waiting serves nobody. This host function
//! replaces it:
//!
//! - Only clock subscriptions: the earliest one fires at once. Every subscription whose
//!   deadline is that earliest one gets an event (in subscription order), and both clocks
//!   jump forward by the time waited.
//! - Any fd subscription: the guest's only streams (stdin from memory, stdout and stderr to
//!   bounded buffers) are always ready, so every fd subscription gets an event (`nbytes` 1,
//!   as wasmtime-wasi reports), plus every clock subscription already due; time stands still.
//! - Every call costs [`POLL_ONEOFF_BASE_FUEL`] plus [`POLL_ONEOFF_FUEL_PER_SUBSCRIPTION`]
//!   for each subscription, so a guest sleeping forever ends by fuel, deterministically, on
//!   every worker (fuel is charged before any work; too little left traps as out of fuel).
//!
//! Errors follow wasmtime-wasi: no subscriptions or an unknown clock or tag is `EINVAL`, an
//! fd other than stdin (read) or stdout/stderr (write) is `EBADF`, and a pointer out of bounds
//! or misaligned traps (the WASI rule).

use wasmtime::{Caller, Linker};

use super::guest::GuestState;
use super::pricing::{charge, guest_bytes, memory, ERRNO_BADF, ERRNO_INVAL, ERRNO_SUCCESS, WASI};

/// Fuel one `poll_oneoff` call costs, before its subscriptions.
pub const POLL_ONEOFF_BASE_FUEL: u64 = 10_000;
/// Fuel each subscription of a `poll_oneoff` call adds.
pub const POLL_ONEOFF_FUEL_PER_SUBSCRIPTION: u64 = 1_000;

const SUBSCRIPTION_BYTES: usize = 48;
const EVENT_BYTES: usize = 32;

const EVENTTYPE_CLOCK: u8 = 0;
const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;

const CLOCKID_REALTIME: u32 = 0;
const CLOCKID_MONOTONIC: u32 = 1;
const SUBCLOCKFLAGS_ABSTIME: u16 = 1;

/// Replaces the WASI `poll_oneoff` already in `linker` with the virtual-time one.
pub fn link(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.func_wrap(WASI, "poll_oneoff", poll_oneoff)?;
    linker.allow_shadowing(false);
    Ok(())
}

/// One decoded subscription.
enum Subscription {
    /// Fires after this many virtual nanoseconds.
    Clock { userdata: u64, wait: u64 },
    /// An fd that is always ready.
    Fd { userdata: u64, kind: u8 },
}

impl Subscription {
    fn userdata(&self) -> u64 {
        match self {
            Self::Clock { userdata, .. } | Self::Fd { userdata, .. } => *userdata,
        }
    }
}

fn poll_oneoff(
    mut caller: Caller<'_, GuestState>,
    subs_ptr: i32,
    events_ptr: i32,
    nsubs: i32,
    nevents_ptr: i32,
) -> wasmtime::Result<i32> {
    let nsubs = nsubs as u32 as usize;
    charge(
        &mut caller,
        POLL_ONEOFF_BASE_FUEL
            .saturating_add(POLL_ONEOFF_FUEL_PER_SUBSCRIPTION.saturating_mul(nsubs as u64)),
    )?;
    let memory = memory(&mut caller, "poll_oneoff")?;
    if nsubs == 0 {
        return Ok(ERRNO_INVAL);
    }
    let (bytes, state) = memory.data_and_store_mut(&mut caller);
    let raw = guest_bytes(
        bytes,
        subs_ptr,
        nsubs * SUBSCRIPTION_BYTES,
        8,
        "poll_oneoff",
    )?;
    let mut subs = Vec::with_capacity(nsubs);
    for raw in raw.chunks_exact(SUBSCRIPTION_BYTES) {
        match decode(raw, state) {
            Ok(sub) => subs.push(sub),
            Err(errno) => return Ok(errno),
        }
    }

    let has_fd = subs.iter().any(|s| matches!(s, Subscription::Fd { .. }));
    let due = if has_fd {
        0
    } else {
        subs.iter()
            .filter_map(|s| match s {
                Subscription::Clock { wait, .. } => Some(*wait),
                Subscription::Fd { .. } => None,
            })
            .min()
            .unwrap_or(0)
    };
    let fired: Vec<&Subscription> = subs
        .iter()
        .filter(|s| match s {
            Subscription::Clock { wait, .. } => *wait <= due,
            Subscription::Fd { .. } => true,
        })
        .collect();

    let out = guest_bytes(
        bytes,
        events_ptr,
        fired.len() * EVENT_BYTES,
        8,
        "poll_oneoff",
    )?;
    for (sub, slot) in fired.iter().zip(out.chunks_exact_mut(EVENT_BYTES)) {
        let (kind, nbytes) = match sub {
            Subscription::Clock { .. } => (EVENTTYPE_CLOCK, 0u64),
            Subscription::Fd { kind, .. } => (*kind, 1u64),
        };
        slot.fill(0);
        slot[0..8].copy_from_slice(&sub.userdata().to_le_bytes());
        slot[8..10].copy_from_slice(&(ERRNO_SUCCESS as u16).to_le_bytes());
        slot[10] = kind;
        slot[16..24].copy_from_slice(&nbytes.to_le_bytes());
    }
    let count = guest_bytes(bytes, nevents_ptr, 4, 4, "poll_oneoff")?;
    count.copy_from_slice(&(fired.len() as u32).to_le_bytes());
    state.time.sleep(due);
    Ok(ERRNO_SUCCESS)
}

/// Decodes one 48-byte `subscription` (userdata u64, tag u8 at 8, union at 16).
fn decode(raw: &[u8], state: &GuestState) -> Result<Subscription, i32> {
    let userdata = u64_at(raw, 0);
    match raw[8] {
        0 => {
            let id = u32::from_le_bytes(raw[16..20].try_into().expect("4 bytes"));
            let timeout = u64_at(raw, 24);
            let flags = u16::from_le_bytes(raw[40..42].try_into().expect("2 bytes"));
            let now = match id {
                CLOCKID_REALTIME => state.time.wall_peek(),
                CLOCKID_MONOTONIC => state.time.monotonic_peek(),
                _ => return Err(ERRNO_INVAL),
            };
            let wait = if flags & SUBCLOCKFLAGS_ABSTIME != 0 {
                timeout.saturating_sub(now)
            } else {
                timeout
            };
            Ok(Subscription::Clock { userdata, wait })
        }
        tag @ (1 | 2) => {
            let fd = u32::from_le_bytes(raw[16..20].try_into().expect("4 bytes"));
            let ready = match tag {
                1 => fd == 0,
                _ => fd == 1 || fd == 2,
            };
            if !ready {
                return Err(ERRNO_BADF);
            }
            let kind = if tag == 1 {
                EVENTTYPE_FD_READ
            } else {
                EVENTTYPE_FD_WRITE
            };
            Ok(Subscription::Fd { userdata, kind })
        }
        _ => Err(ERRNO_INVAL),
    }
}

fn u64_at(raw: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(raw[at..at + 8].try_into().expect("8 bytes"))
}
