//! The `greenroom` binary: all behaviour lives in the library's `cli` module.

/// The system allocator keeps per-thread arenas that hold on to freed memory
/// after large processing batches; mimalloc returns it, which keeps the
/// server's resident set near what it actually uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    greenroom::cli::main()
}
