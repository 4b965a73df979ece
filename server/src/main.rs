//! The `greenroom` binary: all behaviour lives in the library's `cli` module.

/// The system allocator keeps per-thread arenas that hold on to freed memory
/// after large processing batches; mimalloc returns it, which keeps the
/// server's resident set near what it actually uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc option numbers (`mi_option_t` of the bundled mimalloc 3; the
/// crate names only some of them). A test checks them against their defaults.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

/// Keeps the resident set close to the live heap. Measured on the 100k
/// entity catalog benchmark (SQLite), peak RSS went from about 320-350 MB to
/// about 225 MB with the same stitching time:
/// - mimalloc hands freed pages back to the OS at once instead of a second
///   later, and without transparent huge pages, which it can only return
///   whole: processing and stitching free tens of megabytes per batch, and
///   the next batch's allocations land elsewhere before the delay runs out.
/// - SQLite allocates through the C library, from the threads of its
///   connections; glibc gives each thread its own arena (up to 8 per core),
///   and every arena keeps its freed page-cache and statement memory.
///
/// The batch commands (`docs build`, `catalog validate`, ...) are the
/// opposite case: they run for a fraction of a second, and handing pages back
/// at once only makes the kernel zero them again when they are reused, which
/// measured as a third of a docs build. They keep mimalloc's default delay.
fn tune_allocators(long_running: bool) {
    // SAFETY: both calls only set allocator options; they run first thing in
    // main, before any other thread exists.
    unsafe {
        if long_running {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        } else {
            // mimalloc still gets huge pages for its arenas without the option
            // (seen in profiles as 2 MB pages zeroed on first touch: 40% of a
            // docs build); a short batch never gains from them.
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
        libmimalloc_sys::mi_option_set(MI_OPTION_ALLOW_THP, 0);
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn main() -> std::process::ExitCode {
    let command = std::env::args().nth(1);
    let batch = matches!(
        command.as_deref(),
        Some("docs" | "catalog" | "template" | "policy")
    );
    tune_allocators(!batch);
    greenroom::cli::main()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mimalloc_option_numbers_name_the_intended_options() {
        // Defaults of the bundled mimalloc: purge delay 1000 ms, transparent
        // huge pages allowed.
        // Read before anything sets them (this test binary never calls
        // tune_allocators), so a renumbered enum shows up here.
        unsafe {
            assert_eq!(libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY), 1000);
            assert_eq!(libmimalloc_sys::mi_option_get(MI_OPTION_ALLOW_THP), 1);
            // The neighbours differ, so an off-by-one does not pass either.
            assert_ne!(
                libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY + 1),
                1000
            );
        }
    }
}
