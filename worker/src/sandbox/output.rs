//! Bounded stdout/stderr capture that ends the guest at the limit.
//!
//! wasmtime-wasi's `MemoryOutputPipe` fills up to its capacity and then answers further writes
//! with `EIO`: the guest keeps running, may ignore the error and exit 0 with truncated output,
//! or spin on failing writes until its fuel runs out. A verifier must not hash a silently
//! truncated output, so this pipe instead *traps* the guest on the first write that would
//! cross the limit. The bytes accepted before that write are kept; the offending write is not
//! applied at all (no partial write). The trap is deterministic: it depends only on the
//! sequence of write sizes.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use parking_lot::Mutex;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

/// Write permit handed to WASI: how much it may pass to one `write` call. The limit itself is
/// enforced in `write`, so this only sizes chunks.
const WRITE_PERMIT: usize = 64 << 10;

/// The error a guest gets (as a trap) when it writes past a stream's limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("guest wrote more than {limit} bytes to {stream}")]
pub struct OutputLimitError {
    /// `"stdout"` or `"stderr"`.
    pub stream: &'static str,
    /// The limit in bytes.
    pub limit: usize,
}

#[derive(Debug)]
struct State {
    buffer: Vec<u8>,
    overflowed: bool,
}

/// A copy of a stream's accepted bytes as they are written (for live output): called once
/// per accepted write, after the bytes are kept. It cannot change what the guest sees, so the
/// run stays deterministic.
#[derive(Clone)]
pub struct OutputTap(Arc<TapFn>);

/// What a tap calls: the write's offset in the run's stdout, and its bytes.
type TapFn = dyn Fn(u64, &[u8]) + Send + Sync;

impl OutputTap {
    /// A tap calling `f` with each accepted write (its offset in this run's stdout, its bytes).
    pub fn new(f: impl Fn(u64, &[u8]) + Send + Sync + 'static) -> Self {
        OutputTap(Arc::new(f))
    }
}

impl std::fmt::Debug for OutputTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutputTap")
    }
}

impl PartialEq for OutputTap {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for OutputTap {}

/// One bounded output stream; clones share the buffer.
#[derive(Debug, Clone)]
pub struct BoundedOutput {
    stream: &'static str,
    limit: usize,
    state: Arc<Mutex<State>>,
    tap: Option<OutputTap>,
}

impl BoundedOutput {
    /// An empty stream named `stream` that accepts at most `limit` bytes.
    pub fn new(stream: &'static str, limit: usize) -> Self {
        Self {
            stream,
            limit,
            state: Arc::new(Mutex::new(State {
                buffer: Vec::new(),
                overflowed: false,
            })),
            tap: None,
        }
    }

    /// The same stream, copying each accepted write to `tap`.
    pub fn with_tap(mut self, tap: Option<OutputTap>) -> Self {
        self.tap = tap;
        self
    }

    /// The stream's name, `"stdout"` or `"stderr"`.
    pub fn name(&self) -> &'static str {
        self.stream
    }

    /// Whether the guest tried to write past the limit.
    pub fn overflowed(&self) -> bool {
        self.state.lock().overflowed
    }

    /// Takes the accepted bytes out of the stream.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut self.state.lock().buffer)
    }

    /// Appends `bytes`, or marks the stream overflowed and refuses them whole.
    fn append(&self, bytes: &[u8]) -> Result<(), OutputLimitError> {
        let mut state = self.state.lock();
        if state.overflowed || bytes.len() > self.limit - state.buffer.len() {
            state.overflowed = true;
            return Err(OutputLimitError {
                stream: self.stream,
                limit: self.limit,
            });
        }
        let offset = state.buffer.len() as u64;
        state.buffer.extend_from_slice(bytes);
        drop(state);
        if let Some(tap) = &self.tap {
            (tap.0)(offset, bytes);
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Pollable for BoundedOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for BoundedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes)
            .map_err(|e| StreamError::Trap(wasmtime::Error::new(e)))
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_PERMIT)
    }
}

impl IsTerminal for BoundedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for BoundedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

/// Used by WASI interfaces newer than preview1; same limit rule.
impl tokio::io::AsyncWrite for BoundedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(
            self.append(buf)
                .map(|()| buf.len())
                .map_err(std::io::Error::other),
        )
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
