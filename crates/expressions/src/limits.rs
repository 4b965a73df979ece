//! Bounds on what one render may cost.
//!
//! Templates come from catalog entities that any catalog author can register, so a
//! render must end, must not grow without bound and must not crash the process,
//! whatever the template says. Three mechanisms share that job:
//!
//! * fuel: the engine charges every instruction it runs and every byte or list slot
//!   it creates (including text captured by `{% set %}` blocks and macros), so one
//!   budget bounds both the time and the memory of a render;
//! * the recursion limit, so recursive macros end in an error instead of a stack
//!   overflow;
//! * the output cap, enforced by [`CappedWriter`] while the text is written, so the
//!   caller never holds more than that many bytes of result;
//! * enough stack for the deepest value a template can build (see [`on_stack`]).

use std::io;

/// The per-render budgets.
///
/// The defaults leave a realistic template (a skeleton file of a few thousand lines,
/// a loop over a few thousand items) far from either bound, while a nested loop over
/// ranges or a runaway recursion fails in well under a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Evaluation budget of one render. One unit pays for one instruction or for
    /// about 64 bytes of data the template creates or writes.
    pub fuel: u64,
    /// Most bytes one render may produce: the rendered text, or the JSON form of a
    /// typed value.
    pub max_output_bytes: usize,
}

impl Limits {
    /// Default fuel: about a million instructions, or 64 MiB of data created.
    pub const DEFAULT_FUEL: u64 = 1_000_000;
    /// Default output cap: 10 MiB.
    pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 10 * 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: Self::DEFAULT_FUEL,
            max_output_bytes: Self::DEFAULT_MAX_OUTPUT_BYTES,
        }
    }
}

/// Macro nesting the engine allows. Each macro call counts several levels, so this
/// is a few dozen nested calls: enough for real templates, and shallow enough that
/// a recursive macro fails long before a small (2 MiB) thread stack runs out.
pub(crate) const RECURSION_LIMIT: usize = 500;

/// Templates with at most this many brackets render on the caller's thread.
const INLINE_BRACKETS: usize = 64;
/// Stack of a render thread before the allowance for nesting.
const BASE_STACK: usize = 4 << 20;
/// Stack allowed per bracket: dropping, printing or comparing a nested value
/// recurses once per level, and a level can take a few hundred bytes of stack in
/// an unoptimised build.
const STACK_PER_BRACKET: usize = 2 << 10;
/// Most stack a render thread reserves (address space; pages are only used when
/// touched).
const MAX_STACK: usize = 1 << 30;

/// Runs a render with a stack deep enough for anything the template can build.
///
/// The engine frees, prints and compares nested lists recursively, one stack frame
/// per level, so a template that nests a list a hundred thousand times would
/// overflow a normal thread stack and abort the process. Values cannot be carried
/// from one loop iteration to the next (there is no `namespace()`), and macros
/// return text, so every level of nesting needs a `[`, `(` or `{` somewhere in
/// the template source. `brackets` counts them; a template with few renders
/// inline, any other on a scoped thread whose stack grows with the count.
/// A panic in the render thread comes back as an error instead of unwinding
/// into the caller.
pub(crate) fn on_stack<R, F>(brackets: usize, f: F) -> Result<R, crate::ExprError>
where
    R: Send,
    F: FnOnce() -> Result<R, crate::ExprError> + Send,
{
    if brackets <= INLINE_BRACKETS {
        return f();
    }
    let size = BASE_STACK
        .saturating_add(brackets.saturating_mul(STACK_PER_BRACKET))
        .min(MAX_STACK);
    let failed = |what: String| crate::ExprError::Render {
        snippet: String::new(),
        line: 1,
        message: what,
    };
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("template-render".into())
            .stack_size(size)
            .spawn_scoped(scope, f)
            .map_err(|e| failed(format!("could not start a render thread: {e}")))?;
        handle
            .join()
            .map_err(|_| failed("rendering the template panicked".into()))?
    })
}

/// How many `[`, `(` and `{` a template has: a bound on how deeply the values it
/// builds can nest.
pub(crate) fn brackets(source: &str) -> usize {
    source
        .bytes()
        .filter(|b| matches!(b, b'[' | b'(' | b'{'))
        .count()
}

/// An output sink that refuses to grow past a cap.
///
/// The engine streams rendered text into it; the first write that would cross the
/// cap fails, which aborts the render, and `exceeded` tells the caller why.
pub(crate) struct CappedWriter {
    pub(crate) buf: Vec<u8>,
    cap: usize,
    pub(crate) exceeded: bool,
}

impl CappedWriter {
    pub(crate) fn new(cap: usize) -> Self {
        CappedWriter {
            buf: Vec::new(),
            cap,
            exceeded: false,
        }
    }
}

impl io::Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len().saturating_add(data.len()) > self.cap {
            self.exceeded = true;
            return Err(io::Error::other("rendered output exceeds the cap"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn capped_writer_stops_at_the_cap() {
        let mut w = CappedWriter::new(5);
        assert!(w.write_all(b"abc").is_ok());
        assert!(w.write_all(b"de").is_ok());
        assert!(w.write_all(b"f").is_err());
        assert!(w.exceeded);
        assert_eq!(w.buf, b"abcde");
    }
}
