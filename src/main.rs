use libmimalloc_sys::{mi_option_set, mi_option_t};

/// mimalloc: parsing a 100+ MB `/master/state` makes millions of small
/// allocations, which it serves about a fifth faster than glibc's malloc
/// (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's option numbers (`mi_option_e` in mimalloc.h, v2), which the
/// crate does not name.
const ARENA_EAGER_COMMIT: mi_option_t = 4;
const PURGE_DELAY: mi_option_t = 15;
const PURGE_AFTER_MS: std::ffi::c_long = 2;

fn main() {
    // Commit arena memory as it is used and give freed memory back after
    // 2 ms: peak memory stays below the size of the state being parsed
    // (with mimalloc's defaults it is 1.2x; issue 17 asks for at most 1x).
    // SAFETY: plain setters on mimalloc's option table, before any thread starts.
    unsafe {
        mi_option_set(ARENA_EAGER_COMMIT, 0);
        mi_option_set(PURGE_DELAY, PURGE_AFTER_MS);
    }
    std::process::exit(clusterdoc::app::main());
}
