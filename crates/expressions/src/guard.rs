//! A check that runs before the engine compiles a template.
//!
//! The engine evaluates constant expressions while it compiles, where no fuel is
//! counted. Repeating a list (`[0] * 100000000`) is lazy and so counts as cheap
//! to fold, but comparing, testing membership in or printing the result walks
//! every item: `${{ '' ~ [0] * 100000000 }}` would spend seconds and hundreds of
//! megabytes before the render (and its budget) even starts, and a template can
//! repeat that. So a constant list may only be repeated up to a small length; a
//! repetition whose count comes from the context is not folded and is paid for
//! with fuel like everything else.

use minijinja::machinery::ast::{BinOpKind, CallArg, Expr, Stmt};
use minijinja::machinery::parse;
use minijinja::syntax::SyntaxConfig;
use minijinja::value::ValueKind;

/// Why a template was refused, and on which (1-based) line.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) line: usize,
    pub(crate) message: String,
}

type Error = Refusal;

/// Longest list a constant repetition may produce.
pub(crate) const MAX_CONSTANT_REPEAT: usize = 10_000;

/// Refuses templates whose constant expressions repeat a list past
/// [`MAX_CONSTANT_REPEAT`] items. A template that does not parse passes: the
/// engine's compile reports that error itself, with its usual wording.
pub(crate) fn check_constant_repeats(source: &str, syntax: &SyntaxConfig) -> Result<(), Error> {
    match parse(source, "<string>", syntax.clone()) {
        Ok(ast) => stmt(&ast),
        Err(_) => Ok(()),
    }
}

fn stmts(list: &[Stmt<'_>]) -> Result<(), Error> {
    list.iter().try_for_each(stmt)
}

fn stmt(s: &Stmt<'_>) -> Result<(), Error> {
    match s {
        Stmt::Template(t) => stmts(&t.children),
        Stmt::EmitExpr(e) => expr(&e.expr),
        Stmt::EmitRaw(_) => Ok(()),
        Stmt::ForLoop(f) => {
            expr(&f.target)?;
            expr(&f.iter)?;
            f.filter_expr.as_ref().map_or(Ok(()), expr)?;
            stmts(&f.body)?;
            stmts(&f.else_body)
        }
        Stmt::IfCond(i) => {
            expr(&i.expr)?;
            stmts(&i.true_body)?;
            stmts(&i.false_body)
        }
        Stmt::WithBlock(w) => {
            for (target, value) in &w.assignments {
                expr(target)?;
                expr(value)?;
            }
            stmts(&w.body)
        }
        Stmt::Set(s) => {
            expr(&s.target)?;
            expr(&s.expr)
        }
        Stmt::SetBlock(s) => {
            expr(&s.target)?;
            s.filter.as_ref().map_or(Ok(()), expr)?;
            stmts(&s.body)
        }
        Stmt::AutoEscape(a) => {
            expr(&a.enabled)?;
            stmts(&a.body)
        }
        Stmt::FilterBlock(f) => {
            expr(&f.filter)?;
            stmts(&f.body)
        }
        Stmt::Macro(m) => {
            m.args.iter().try_for_each(expr)?;
            m.defaults.iter().try_for_each(expr)?;
            stmts(&m.body)
        }
        Stmt::CallBlock(c) => {
            expr(&c.call.expr)?;
            args(&c.call.args)?;
            c.macro_decl.args.iter().try_for_each(expr)?;
            c.macro_decl.defaults.iter().try_for_each(expr)?;
            stmts(&c.macro_decl.body)
        }
        Stmt::Do(d) => {
            expr(&d.call.expr)?;
            args(&d.call.args)
        }
        // Statements of engine features this crate leaves off (include, extends,
        // loop controls) carry nothing to check here.
        #[allow(unreachable_patterns)]
        _ => Ok(()),
    }
}

fn args(list: &[CallArg<'_>]) -> Result<(), Error> {
    list.iter().try_for_each(|a| match a {
        CallArg::Pos(e) | CallArg::Kwarg(_, e) | CallArg::PosSplat(e) | CallArg::KwargSplat(e) => {
            expr(e)
        }
    })
}

/// Checks the children first, so that folding an operand below can only touch
/// lists that have already passed.
fn expr(e: &Expr<'_>) -> Result<(), Error> {
    match e {
        Expr::Var(_) | Expr::Const(_) => Ok(()),
        Expr::Slice(s) => {
            expr(&s.expr)?;
            for part in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                expr(part)?;
            }
            Ok(())
        }
        Expr::UnaryOp(u) => expr(&u.expr),
        Expr::BinOp(b) => {
            expr(&b.left)?;
            expr(&b.right)?;
            if matches!(b.op, BinOpKind::Mul) {
                repeat(&b.left, &b.right)?;
            }
            Ok(())
        }
        Expr::Compare(c) => {
            expr(&c.expr)?;
            c.ops.iter().try_for_each(|op| expr(&op.expr))
        }
        Expr::IfExpr(i) => {
            expr(&i.test_expr)?;
            expr(&i.true_expr)?;
            i.false_expr.as_ref().map_or(Ok(()), expr)
        }
        Expr::Filter(f) => {
            f.expr.as_ref().map_or(Ok(()), expr)?;
            args(&f.args)
        }
        Expr::Test(t) => {
            expr(&t.expr)?;
            args(&t.args)
        }
        Expr::GetAttr(g) => expr(&g.expr),
        Expr::GetItem(g) => {
            expr(&g.expr)?;
            expr(&g.subscript_expr)
        }
        Expr::Call(c) => {
            expr(&c.expr)?;
            args(&c.args)
        }
        Expr::List(l) => l.items.iter().try_for_each(expr),
        Expr::Tuple(t) => t.items.iter().try_for_each(expr),
        Expr::Map(m) => {
            m.keys.iter().try_for_each(expr)?;
            m.values.iter().try_for_each(expr)
        }
    }
}

/// Refuses `list * n` (either way round) when both sides are constant and the
/// result would be longer than [`MAX_CONSTANT_REPEAT`].
fn repeat(left: &Expr<'_>, right: &Expr<'_>) -> Result<(), Error> {
    let (Some(a), Some(b)) = (left.as_const(), right.as_const()) else {
        return Ok(());
    };
    let (list, count) = match (a.kind(), b.kind()) {
        (ValueKind::Seq | ValueKind::Iterable, ValueKind::Number) => (a, b),
        (ValueKind::Number, ValueKind::Seq | ValueKind::Iterable) => (b, a),
        _ => return Ok(()),
    };
    let count = count.as_usize().unwrap_or(0);
    let len = list.len().unwrap_or(usize::MAX);
    if len.saturating_mul(count) > MAX_CONSTANT_REPEAT {
        return Err(Refusal {
            line: usize::from(left.span().start_line),
            message: format!(
                "a constant list may be repeated to at most {MAX_CONSTANT_REPEAT} items, \
                 this one would have {}",
                len.saturating_mul(count)
            ),
        });
    }
    Ok(())
}
