//! The WASI preview1 functions a guest may import, with their core signatures.
//!
//! The validator checks every import against this table before a job is queued, so a module
//! that would fail to link (an unknown function, a wrong signature) is rejected with a precise
//! message at admission instead of failing on a worker. The table is checked against
//! wasmtime-wasi's own linker in the sandbox tests, so it cannot drift from what the engine
//! provides.

/// The only module name a guest may import from.
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";

/// One WASI preview1 function: its name and its core signature.
///
/// Signatures are spelled with one letter per value: `i` is `i32`, `I` is `i64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WasiFunction {
    /// The import name inside [`WASI_MODULE`].
    pub name: &'static str,
    /// Parameter types, one letter each.
    pub params: &'static str,
    /// Result types, one letter each.
    pub results: &'static str,
}

const fn f(name: &'static str, params: &'static str, results: &'static str) -> WasiFunction {
    WasiFunction {
        name,
        params,
        results,
    }
}

/// Every preview1 function except the `sock_*` family.
///
/// Sockets are left out because the sandbox has no network: a module that imports them was
/// written for an environment we do not provide, and rejecting it early says so. The file
/// system functions stay allowed because ordinary libc start-up code imports them (they fail
/// with `EBADF`/`ENOTCAPABLE` at run time: there are no preopened directories).
pub const ALLOWED_WASI_FUNCTIONS: &[WasiFunction] = &[
    f("args_get", "ii", "i"),
    f("args_sizes_get", "ii", "i"),
    f("environ_get", "ii", "i"),
    f("environ_sizes_get", "ii", "i"),
    f("clock_res_get", "ii", "i"),
    f("clock_time_get", "iIi", "i"),
    f("fd_advise", "iIIi", "i"),
    f("fd_allocate", "iII", "i"),
    f("fd_close", "i", "i"),
    f("fd_datasync", "i", "i"),
    f("fd_fdstat_get", "ii", "i"),
    f("fd_fdstat_set_flags", "ii", "i"),
    f("fd_fdstat_set_rights", "iII", "i"),
    f("fd_filestat_get", "ii", "i"),
    f("fd_filestat_set_size", "iI", "i"),
    f("fd_filestat_set_times", "iIIi", "i"),
    f("fd_pread", "iiiIi", "i"),
    f("fd_prestat_get", "ii", "i"),
    f("fd_prestat_dir_name", "iii", "i"),
    f("fd_pwrite", "iiiIi", "i"),
    f("fd_read", "iiii", "i"),
    f("fd_readdir", "iiiIi", "i"),
    f("fd_renumber", "ii", "i"),
    f("fd_seek", "iIii", "i"),
    f("fd_sync", "i", "i"),
    f("fd_tell", "ii", "i"),
    f("fd_write", "iiii", "i"),
    f("path_create_directory", "iii", "i"),
    f("path_filestat_get", "iiiii", "i"),
    f("path_filestat_set_times", "iiiiIIi", "i"),
    f("path_link", "iiiiiii", "i"),
    f("path_open", "iiiiiIIii", "i"),
    f("path_readlink", "iiiiii", "i"),
    f("path_remove_directory", "iii", "i"),
    f("path_rename", "iiiiii", "i"),
    f("path_symlink", "iiiii", "i"),
    f("path_unlink_file", "iii", "i"),
    f("poll_oneoff", "iiii", "i"),
    f("proc_exit", "i", ""),
    f("proc_raise", "i", "i"),
    f("sched_yield", "", "i"),
    f("random_get", "ii", "i"),
];

/// Preview1 functions that exist but are refused: the socket family.
pub const REFUSED_WASI_FUNCTIONS: &[&str] =
    &["sock_accept", "sock_recv", "sock_send", "sock_shutdown"];

/// Looks a function up in [`ALLOWED_WASI_FUNCTIONS`].
pub fn allowed_wasi_function(name: &str) -> Option<&'static WasiFunction> {
    ALLOWED_WASI_FUNCTIONS.iter().find(|f| f.name == name)
}
