//! `${VAR}` substitution in string values, with Backstage's rules
//! (`@backstage/config-loader`, `transform/substitution.ts`):
//! - `${VAR}` is replaced by the variable's value (the name is trimmed);
//! - `${VAR:-fallback}` uses `fallback` when the variable is unset or empty;
//! - `$${...}` is an escape for a literal `${...}`;
//! - when any referenced variable is unset and has no fallback, the whole
//!   value is absent (`None`): the key is dropped, not set to an empty string.

use super::Env;

/// Substitutes every `${...}` in `input`. `None` means "the value is absent".
pub fn substitute(input: &str, env: &Env) -> Option<String> {
    let mut out = String::with_capacity(input.len());
    let mut missing = false;
    let mut rest = input;
    while let Some(p) = find_placeholder(rest) {
        out.push_str(&rest[..p.start]);
        let body = &rest[p.body.clone()];
        if p.escaped {
            out.push_str("${");
            out.push_str(body);
            out.push('}');
        } else {
            match resolve(body, env) {
                Some(value) => out.push_str(&value),
                None => missing = true,
            }
        }
        rest = &rest[p.body.end + 1..];
    }
    out.push_str(rest);
    (!missing).then_some(out)
}

/// One `${body}` occurrence: where it starts (at the `$$` when escaped) and
/// the byte range of its body.
struct Placeholder {
    start: usize,
    body: std::ops::Range<usize>,
    escaped: bool,
}

/// Finds the next `${...}` (or `$${...}`) whose body holds no `{` or `}`,
/// mirroring Backstage's `/\$?\$\{[^{}]*\}/`. An unterminated `${` stays literal.
fn find_placeholder(s: &str) -> Option<Placeholder> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'$' && bytes[i + 1] == b'{' {
            let body_start = i + 2;
            if let Some(len) = s[body_start..].find(['{', '}']) {
                if bytes[body_start + len] == b'}' {
                    let escaped = i > 0 && bytes[i - 1] == b'$';
                    return Some(Placeholder {
                        start: if escaped { i - 1 } else { i },
                        body: body_start..body_start + len,
                        escaped,
                    });
                }
            }
        }
        i += 1;
    }
    None
}

/// Resolves `NAME` or `NAME:-fallback`.
fn resolve(body: &str, env: &Env) -> Option<String> {
    match body.split_once(":-") {
        Some((name, fallback)) => match env.get(name.trim()) {
            Some(value) if !value.is_empty() => Some(value.to_string()),
            _ => Some(fallback.to_string()),
        },
        None => env.get(body.trim()).map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env::from_pairs([("HOST", "db.local"), ("PORT", "5432"), ("EMPTY", "")])
    }

    #[test]
    fn replaces_variables_inside_text() {
        assert_eq!(
            substitute("postgres://${HOST}:${ PORT }/x", &env()).as_deref(),
            Some("postgres://db.local:5432/x")
        );
        assert_eq!(
            substitute("no placeholders", &env()).as_deref(),
            Some("no placeholders")
        );
    }

    #[test]
    fn fallback_applies_when_unset_or_empty() {
        assert_eq!(substitute("${NOPE:-7007}", &env()).as_deref(), Some("7007"));
        assert_eq!(substitute("${EMPTY:-x}", &env()).as_deref(), Some("x"));
        assert_eq!(
            substitute("${HOST:-x}", &env()).as_deref(),
            Some("db.local")
        );
        assert_eq!(substitute("${NOPE:-}", &env()).as_deref(), Some(""));
    }

    #[test]
    fn empty_variable_without_fallback_is_empty_string() {
        assert_eq!(substitute("a${EMPTY}b", &env()).as_deref(), Some("ab"));
    }

    #[test]
    fn unset_variable_makes_whole_value_absent() {
        assert_eq!(substitute("prefix-${NOPE}-suffix", &env()), None);
        assert_eq!(substitute("${HOST}${NOPE}", &env()), None);
    }

    #[test]
    fn double_dollar_escapes() {
        assert_eq!(substitute("$${HOST}", &env()).as_deref(), Some("${HOST}"));
        assert_eq!(
            substitute("a $${NOPE} b ${HOST}", &env()).as_deref(),
            Some("a ${NOPE} b db.local")
        );
    }

    #[test]
    fn unterminated_placeholder_is_literal() {
        assert_eq!(
            substitute("cost ${HOST", &env()).as_deref(),
            Some("cost ${HOST")
        );
    }
}
