//! Template expressions of the scaffolder, as Backstage writes them.
//!
//! Backstage renders software templates with Nunjucks: `${{ parameters.name }}` in a
//! step's input, `if:` conditions, and the files and paths that `fetch:template`
//! copies. This crate renders the same text with a sandboxed Jinja engine,
//! configured to behave like Backstage where it shows:
//!
//! * `${{ }}` for values, `{% %}` for statements, `{# #}` for comments, no escaping;
//!   cookiecutter-style files use `{{ }}` instead of `${{ }}`;
//! * a missing value renders as nothing, and attributes of a missing value are
//!   missing too (`parameters.a.b.c` never fails);
//! * a string that is one whole expression keeps the type of its value, so
//!   `${{ parameters.count }}` is a number and `${{ parameters.tags }}` a list;
//! * the scaffolder's filters (`parseRepoUrl`, `parseEntityRef`, `pick`,
//!   `projectSlug`) and the Nunjucks ones templates rely on (`dump`, `jsonify`,
//!   `safe`), JavaScript printing of values and JavaScript truthiness for `if:`.
//!
//! A [`Renderer`] is built once and shared (`Arc`); each call takes its own
//! context.
//!
//! # Untrusted templates
//!
//! Any catalog author can register a template, so rendering one must neither read
//! what it should not nor take the process down:
//!
//! * there is no loader and no `include`/`import`/`extends`, so a template reads
//!   nothing but its context;
//! * every render runs under the fuel and output budgets of [`Limits`], which
//!   bound its time and memory (see `limits`);
//! * recursive macros stop at the engine's recursion limit;
//! * the engine folds constant expressions while compiling, outside any budget;
//!   the one fold that can explode (a constant list repeated into a huge one) is
//!   refused before compiling (see `guard`);
//! * nested values are freed and printed recursively by the engine, so a render
//!   that could build deep ones gets a stack to match (see `limits::on_stack`).
//!
//! Compiling is not metered: callers should bound the size of a template (it
//! grows with the source, about a second for several megabytes).
//!
//! # Where this differs from Backstage
//!
//! * A template that fails (syntax error, filter error) is an error here; Backstage
//!   logs it and passes the raw string on as the input.
//! * Empty results are `null` in place; Backstage drops the key.
//! * A single expression may have whitespace around it and still keep its type
//!   (`"${{ x }}\n"` is `x`); current Backstage renders that as text.
//! * Inside `{{ }}` output values print as JavaScript does, but the `~` operator and
//!   the `string` filter print them the Jinja way (`True`, `None`, `[1, 2]`), and
//!   `{% if %}` inside a template uses Jinja truthiness (an empty list or object
//!   is false); a step's `if:` uses JavaScript truthiness as Backstage does.
//! * No `namespace()`, `pprint` or `debug()` (not in Nunjucks, and each defeats a
//!   bound), no regular-expression literals (`r/x/g`), and no Nunjucks filters the
//!   engine lacks beyond those listed above (for instance `truncate`, `wordcount`,
//!   `striptags`, `nl2br`, `random`, `center`).
//! * `parseRepoUrl` guesses a host's kind from its name rather than from the
//!   integrations configuration (see [`parse_repo_url`]).

mod error;
mod filters;
mod guard;
mod js;
mod limits;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::sync::LazyLock;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, ErrorKind, State, UndefinedBehavior, Value};
use regex::Regex;
use serde_json::Value as Json;

pub use error::ExprError;
pub use filters::{parse_repo_url, RepoSpec};
pub use limits::Limits;

use limits::{brackets, on_stack, CappedWriter, RECURSION_LIMIT};

/// A string that is exactly one `${{ ... }}` expression, as Backstage tells them
/// apart: such a string evaluates to a typed value instead of text.
static SINGLE_EXPRESSION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)^\s*\$\{\{(.*)\}\}\s*$").expect("valid pattern"));

/// A call of `always()` or `failure()`.
static STATUS_CALL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:always|failure)\s*\(").expect("valid pattern"));

/// Deepest nesting of arrays and objects that [`Renderer::render_value`] walks.
const MAX_VALUE_DEPTH: usize = 128;

/// How `fetch:template` renders a file's content or name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileOptions {
    /// Cookiecutter templates: values are `{{ }}` instead of `${{ }}`.
    pub cookiecutter_compat: bool,
    /// Remove the first newline after a `{% %}` tag.
    pub trim_blocks: bool,
    /// Remove spaces and tabs before a `{% %}` tag at the start of a line.
    pub lstrip_blocks: bool,
}

impl FileOptions {
    /// Which of the renderer's prepared environments serves these options.
    fn index(self) -> usize {
        usize::from(self.cookiecutter_compat) << 2
            | usize::from(self.trim_blocks) << 1
            | usize::from(self.lstrip_blocks)
    }
}

/// Renders scaffolder templates. Build once, share across threads, pass a fresh
/// context to every call.
pub struct Renderer {
    /// One environment per [`FileOptions`] combination; index 0 (`${{ }}`, no
    /// whitespace control) also serves step inputs and `if:`.
    envs: Vec<Environment<'static>>,
    limits: Limits,
}

impl Default for Renderer {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Renderer {
    /// A renderer with the default [`Limits`].
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// A renderer with the given budgets.
    pub fn with_limits(limits: Limits) -> Self {
        let envs = (0..8)
            .map(|i| {
                build_env(
                    FileOptions {
                        cookiecutter_compat: i & 4 != 0,
                        trim_blocks: i & 2 != 0,
                        lstrip_blocks: i & 1 != 0,
                    },
                    limits,
                )
            })
            .collect();
        Renderer { envs, limits }
    }

    /// The budgets every render runs under.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn step_env(&self) -> &Environment<'static> {
        &self.envs[0]
    }

    /// Renders a step input (or any JSON value) the way Backstage does.
    ///
    /// Every string inside arrays and objects is rendered; object keys, numbers,
    /// booleans and null are kept. A string that is one whole `${{ }}` expression
    /// gives the expression's value with its type (number, boolean, list, object),
    /// or null when it is undefined. Any other string renders to text, and empty
    /// text gives null (Backstage's `undefined`; callers drop null inputs).
    pub fn render_value(&self, value: &Json, ctx: &Json) -> Result<Json, ExprError> {
        on_stack(most_brackets(value), || {
            let ctx = Value::from(Serde(ctx));
            self.render_value_in(value, &ctx, 0)
        })
    }

    fn render_value_in(&self, value: &Json, ctx: &Value, depth: usize) -> Result<Json, ExprError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(ExprError::Render {
                snippet: String::new(),
                line: 1,
                message: format!(
                    "input nests arrays and objects deeper than {MAX_VALUE_DEPTH} levels"
                ),
            });
        }
        match value {
            Json::String(s) => self.render_string_value(s, ctx),
            Json::Array(items) => items
                .iter()
                .map(|v| self.render_value_in(v, ctx, depth + 1))
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array),
            Json::Object(map) => map
                .iter()
                .map(|(k, v)| Ok((k.clone(), self.render_value_in(v, ctx, depth + 1)?)))
                .collect::<Result<serde_json::Map<_, _>, ExprError>>()
                .map(Json::Object),
            other => Ok(other.clone()),
        }
    }

    fn render_string_value(&self, s: &str, ctx: &Value) -> Result<Json, ExprError> {
        if let Some(expr) = single_expression(s) {
            if let Some(result) = self.eval_typed(expr, s, ctx) {
                return result;
            }
        }
        let text = self.render_with(self.step_env(), s, ctx.clone())?;
        Ok(if text.is_empty() {
            Json::Null
        } else {
            Json::String(text)
        })
    }

    /// Evaluates the inside of a single-expression string to a typed value.
    ///
    /// `None` means "render it as text instead": Backstage falls back to plain
    /// rendering when the typed path fails, and text rendering then reports any
    /// real error with its position. Budget errors are returned at once, so a
    /// hostile expression is not run twice.
    fn eval_typed(&self, expr: &str, source: &str, ctx: &Value) -> Option<Result<Json, ExprError>> {
        let env = self.step_env();
        if let Err(e) = guard(env, source) {
            return Some(Err(e));
        }
        let compiled = env.compile_expression(expr).ok()?;
        let value = match compiled.eval(ctx.clone()) {
            Ok(v) => v,
            Err(e) if e.kind() == ErrorKind::OutOfFuel => {
                return Some(Err(self.engine_error(&e, source, false)))
            }
            Err(e) if e.detail() == Some("recursion limit exceeded") => {
                return Some(Err(self.engine_error(&e, source, false)))
            }
            Err(_) => return None,
        };
        if value.is_undefined() || value.is_none() {
            return Some(Ok(Json::Null));
        }
        let mut sized = CappedWriter::new(self.limits.max_output_bytes);
        let budget = filters::JsonBudget::new(self.limits.max_output_bytes);
        if serde_json::to_writer(&mut sized, &filters::Nested::new(&value, &budget)).is_err() {
            if sized.exceeded || budget.exceeded() {
                return Some(Err(ExprError::OutputTooLarge {
                    snippet: error::snippet(source, None),
                    limit: self.limits.max_output_bytes,
                }));
            }
            return None;
        }
        serde_json::from_slice(&sized.buf).ok().map(Ok)
    }

    /// Renders a template string with `${{ }}` to text.
    pub fn render_str(&self, template: &str, ctx: &Json) -> Result<String, ExprError> {
        on_stack(brackets(template), || {
            self.render_with(self.step_env(), template, Value::from(Serde(ctx)))
        })
    }

    /// Whether a step's `if:` holds.
    ///
    /// A boolean is taken as it is; a string is rendered like a step input and its
    /// value judged by JavaScript truthiness, as Backstage's `isTruthy` does:
    /// `false`, `0`, `""`, null and an empty list are false, the rest true. So
    /// `${{ parameters.publish }}` follows the parameter's boolean, while a string
    /// that renders to the text `false` (not a single expression) is true.
    pub fn is_truthy(&self, value: &Json, ctx: &Json) -> Result<bool, ExprError> {
        Ok(js::is_truthy(&self.render_value(value, ctx)?))
    }

    /// Parses a `${{ }}` template without rendering it.
    ///
    /// Returns the variables it reads, with their attribute paths where those are
    /// plain (`parameters.name`, `steps.publish.output.remoteUrl`), sorted, without
    /// the renderer's own functions. Callers use it to flag references to unknown
    /// parameters or steps when a template is registered.
    pub fn check(&self, template: &str) -> Result<Vec<String>, ExprError> {
        let env = self.step_env();
        let compiled = self.compile(env, template)?;
        let globals: BTreeSet<&str> = env.globals().map(|(name, _)| name).collect();
        let mut vars: Vec<String> = compiled
            .undeclared_variables(true)
            .into_iter()
            .filter(|v| !globals.contains(v.split('.').next().unwrap_or(v)))
            .collect();
        vars.sort();
        Ok(vars)
    }

    /// Renders a file's content for `fetch:template`.
    pub fn render_file(
        &self,
        content: &str,
        ctx: &Json,
        opts: FileOptions,
    ) -> Result<String, ExprError> {
        on_stack(brackets(content), || {
            self.render_with(&self.envs[opts.index()], content, Value::from(Serde(ctx)))
        })
    }

    /// Renders a file or directory name for `fetch:template`, by the same rules as
    /// its content.
    pub fn render_path(
        &self,
        path: &str,
        ctx: &Json,
        opts: FileOptions,
    ) -> Result<String, ExprError> {
        self.render_file(path, ctx, opts)
    }

    /// Compiles `source` after [`guard`] has checked what compiling would evaluate.
    fn compile<'e>(
        &self,
        env: &'e Environment<'static>,
        source: &'e str,
    ) -> Result<minijinja::Template<'e, 'e>, ExprError> {
        guard(env, source)?;
        env.template_from_str(source)
            .map_err(|e| self.engine_error(&e, source, false))
    }

    /// Compiles and renders `source` into a capped buffer.
    fn render_with(
        &self,
        env: &Environment<'static>,
        source: &str,
        ctx: Value,
    ) -> Result<String, ExprError> {
        let template = self.compile(env, source)?;
        let mut out = CappedWriter::new(self.limits.max_output_bytes);
        if let Err(e) = template.render_captured_to(ctx, &mut out) {
            return Err(self.engine_error(&e, source, out.exceeded));
        }
        String::from_utf8(out.buf).map_err(|e| ExprError::Render {
            snippet: error::snippet(source, None),
            line: 1,
            message: format!("rendered text is not UTF-8: {e}"),
        })
    }

    fn engine_error(&self, err: &minijinja::Error, source: &str, exceeded: bool) -> ExprError {
        error::from_engine(
            err,
            source,
            self.limits.fuel,
            self.limits.max_output_bytes,
            exceeded,
        )
    }
}

/// Runs [`guard::check_constant_repeats`] with the environment's syntax.
fn guard(env: &Environment<'static>, source: &str) -> Result<(), ExprError> {
    guard::check_constant_repeats(source, env.syntax()).map_err(|r| ExprError::Render {
        snippet: error::snippet(source, Some(r.line)),
        line: r.line,
        message: r.message,
    })
}

/// The most brackets in any one string of `value`: each string renders on its own,
/// so the deepest value any of them can build is bounded by the largest count.
fn most_brackets(value: &Json) -> usize {
    let mut most = 0;
    let mut pending = vec![value];
    while let Some(v) = pending.pop() {
        match v {
            Json::String(s) => most = most.max(brackets(s)),
            Json::Array(items) => pending.extend(items),
            Json::Object(map) => pending.extend(map.values()),
            _ => {}
        }
    }
    most
}

/// The inside of a string that is one whole `${{ }}` expression.
fn single_expression(s: &str) -> Option<&str> {
    let inner = SINGLE_EXPRESSION.captures(s)?.get(1)?.as_str();
    (!inner.contains("${{")).then_some(inner)
}

/// Whether an `if:` calls `always()` or `failure()`: such a step runs (or is
/// considered) after an earlier step failed, so the runner must not skip it.
pub fn uses_status_functions(template: &str) -> bool {
    STATUS_CALL.is_match(template)
}

/// One configured environment: syntax, undefined handling, budgets, filters and
/// globals. No loader is set, so nothing a template says can reach the disk.
fn build_env(opts: FileOptions, limits: Limits) -> Environment<'static> {
    let mut env = Environment::new();
    // Debug info would copy context values into errors; messages are built here.
    env.set_debug(false);
    let syntax = SyntaxConfig::builder()
        .variable_delimiters(
            if opts.cookiecutter_compat {
                "{{"
            } else {
                "${{"
            },
            "}}",
        )
        .block_delimiters("{%", "%}")
        .comment_delimiters("{#", "#}")
        .trim_blocks(opts.trim_blocks)
        .lstrip_blocks(opts.lstrip_blocks)
        // Nunjucks keeps a file's last newline; Jinja would drop it.
        .keep_trailing_newline(true)
        .build()
        .expect("valid delimiters");
    env.set_syntax(syntax);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_fuel(Some(limits.fuel));
    env.set_recursion_limit(RECURSION_LIMIT);
    env.set_formatter(js::format_value);
    // Not in Nunjucks, and each a way around the bounds: `namespace()` carries
    // values from one loop iteration to the next (so a loop could nest a list
    // without end), `debug()` prints the whole context, `pprint` indents nested
    // values quadratically.
    env.remove_global("namespace");
    env.remove_global("debug");
    env.remove_filter("pprint");

    let cookiecutter = opts.cookiecutter_compat;
    env.set_unknown_method_callback(move |state, value, method, args| {
        // Nunjucks runs JavaScript methods; its Jinja compatibility mode (used for
        // cookiecutter templates) adds Python ones. Try the mode's own first.
        let first = if cookiecutter {
            py(state, value, method, args)
        } else {
            js::call_method(value, method, args)
        };
        match first {
            Err(e) if e.kind() == ErrorKind::UnknownMethod => {
                if cookiecutter {
                    js::call_method(value, method, args)
                } else {
                    py(state, value, method, args)
                }
            }
            other => other,
        }
    });

    env.add_filter("parseRepoUrl", filters::parse_repo_url_filter);
    env.add_filter("projectSlug", filters::project_slug);
    env.add_filter("parseEntityRef", filters::parse_entity_ref);
    env.add_filter("pick", |value: &Value, path: &str| {
        filters::pick(value, path)
    });
    let max = limits.max_output_bytes;
    for name in ["dump", "jsonify"] {
        env.add_filter(
            name,
            move |state: &State, value: &Value, indent: Option<Value>| {
                filters::dump(state, value, indent, max)
            },
        );
    }
    env.add_filter("safe", filters::safe);

    env.add_function("always", || true);
    env.add_function("failure", |state: &State| {
        state
            .lookup("__status")
            .and_then(|s| s.get_attr("failed").ok())
            .is_some_and(|v| v.is_true())
    });
    env
}

/// Python's string and dict methods (`'x'.upper()`, `d.items()`).
fn py(
    state: &mut State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, minijinja::Error> {
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
}
