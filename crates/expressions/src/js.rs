//! JavaScript behaviour that Backstage templates rely on.
//!
//! Backstage renders with Nunjucks, so what a value prints as, what counts as true
//! for a step's `if:`, and which string methods a template may call are
//! JavaScript's. The engine here is Jinja-flavoured; this module bridges the
//! differences that change what a template produces.

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind, Output, State};

/// Deepest nesting of lists and objects that printing or `dump` walks. Deeper
/// values are refused rather than risking the thread's stack.
pub(crate) const MAX_NESTING: usize = 128;

/// Writes a value the way Nunjucks prints it: `null`/undefined as nothing,
/// booleans as `true`/`false`, arrays joined with commas, objects as
/// `[object Object]`, whole floats without `.0`.
pub(crate) fn format_value(
    out: &mut Output,
    state: &mut State,
    value: &Value,
) -> Result<(), Error> {
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => Ok(()),
        ValueKind::Bool
        | ValueKind::Seq
        | ValueKind::Map
        | ValueKind::Number
        | ValueKind::Iterable => {
            let mut text = String::new();
            to_js_string(value, &mut text, state, 0)?;
            out.write_str(&text)
                .map_err(|_| Error::from(ErrorKind::WriteFailure))
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// `String(value)` in JavaScript, appended to `buf`.
fn to_js_string(value: &Value, buf: &mut String, state: &State, depth: usize) -> Result<(), Error> {
    if depth > MAX_NESTING {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("cannot print a value nested deeper than {MAX_NESTING} levels"),
        ));
    }
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => {}
        ValueKind::Bool => buf.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number => match f64::try_from(value.clone()) {
            Ok(f) if !value.is_integer() => buf.push_str(&js_number(f)),
            _ => buf.push_str(&value.to_string()),
        },
        ValueKind::Seq | ValueKind::Iterable => {
            // Joining walks the items: pay for them like the engine's own filters.
            let items = value.try_iter()?;
            for (i, item) in items.enumerate() {
                state.consume_fuel(1)?;
                if i > 0 {
                    buf.push(',');
                }
                to_js_string(&item, buf, state, depth + 1)?;
            }
        }
        ValueKind::Map => buf.push_str("[object Object]"),
        _ => buf.push_str(&value.to_string()),
    }
    Ok(())
}

/// How JavaScript prints a float: whole numbers without a fraction, `NaN`,
/// `Infinity`.
fn js_number(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{}", f as i128)
    } else {
        format!("{f}")
    }
}

/// JavaScript truthiness as Backstage's `isTruthy` applies it to a step's `if:`:
/// `false`, `0`, `NaN`, `""`, `null` and an empty array are false; everything else,
/// including the string `"false"` and an empty object, is true.
pub(crate) fn is_truthy(value: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match value {
        J::Null => false,
        J::Bool(b) => *b,
        J::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        J::String(s) => !s.is_empty(),
        J::Array(a) => !a.is_empty(),
        J::Object(_) => true,
    }
}

/// String and array methods from JavaScript that Nunjucks templates call directly,
/// such as `parameters.name.toUpperCase()` or `parameters.tags.includes('x')`.
/// Anything else is reported as an unknown method so the next handler can try.
pub(crate) fn call_method(value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    if let Some(s) = value.as_str() {
        return string_method(s, method, args);
    }
    if value.kind() == ValueKind::Seq {
        return seq_method(value, method, args);
    }
    Err(Error::from(ErrorKind::UnknownMethod))
}

fn string_method(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
    let arg = |i: usize| -> Result<&str, Error> {
        args.get(i).and_then(Value::as_str).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("{method} expects a string as argument {}", i + 1),
            )
        })
    };
    Ok(match method {
        "toUpperCase" => Value::from(s.to_uppercase()),
        "toLowerCase" => Value::from(s.to_lowercase()),
        "trim" => Value::from(s.trim()),
        "trimStart" => Value::from(s.trim_start()),
        "trimEnd" => Value::from(s.trim_end()),
        "startsWith" => Value::from(s.starts_with(arg(0)?)),
        "endsWith" => Value::from(s.ends_with(arg(0)?)),
        "includes" => Value::from(s.contains(arg(0)?)),
        "indexOf" => Value::from(
            s.find(arg(0)?)
                .map_or(-1, |i| s[..i].chars().count() as i64),
        ),
        "split" => {
            let sep = arg(0)?;
            let parts: Vec<Value> = if sep.is_empty() {
                s.chars().map(|c| Value::from(c.to_string())).collect()
            } else {
                s.split(sep).map(Value::from).collect()
            };
            Value::from(parts)
        }
        // JavaScript's replace with a string pattern changes the first match only.
        "replace" => Value::from(s.replacen(arg(0)?, arg(1)?, 1)),
        "replaceAll" => Value::from(s.replace(arg(0)?, arg(1)?)),
        _ => return Err(Error::from(ErrorKind::UnknownMethod)),
    })
}

fn seq_method(value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    match method {
        "includes" => {
            let needle = args.first().cloned().unwrap_or(Value::UNDEFINED);
            Ok(Value::from(value.try_iter()?.any(|v| v == needle)))
        }
        "join" => {
            let sep = args.first().and_then(Value::as_str).unwrap_or(",");
            let parts: Vec<String> = value
                .try_iter()?
                .map(|v| {
                    if v.is_none() || v.is_undefined() {
                        String::new()
                    } else {
                        v.to_string()
                    }
                })
                .collect();
            Ok(Value::from(parts.join(sep)))
        }
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truthiness_follows_javascript() {
        for falsy in [
            json!(false),
            json!(0),
            json!(0.0),
            json!(""),
            json!(null),
            json!([]),
        ] {
            assert!(!is_truthy(&falsy), "{falsy} should be false");
        }
        for truthy in [
            json!(true),
            json!(1),
            json!("false"),
            json!("0"),
            json!({}),
            json!([0]),
        ] {
            assert!(is_truthy(&truthy), "{truthy} should be true");
        }
    }

    #[test]
    fn numbers_print_like_javascript() {
        assert_eq!(js_number(1.0), "1");
        assert_eq!(js_number(-3.0), "-3");
        assert_eq!(js_number(1.5), "1.5");
        assert_eq!(js_number(f64::NAN), "NaN");
        assert_eq!(js_number(f64::NEG_INFINITY), "-Infinity");
    }
}
