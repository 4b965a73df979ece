//! Untrusted templates: every one of these must end quickly in an error, without
//! exhausting memory or the stack.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::{ExprError, FileOptions, Limits, Renderer};

/// Renders on a thread with a small (2 MiB) stack, like an async runtime's worker,
/// and checks that it takes less than two seconds.
fn hostile(renderer: &Renderer, template: &str) -> Result<String, ExprError> {
    let start = Instant::now();
    let result = std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn_scoped(s, || renderer.render_str(template, &json!({})))
            .unwrap()
            .join()
            .unwrap()
    });
    let took = start.elapsed();
    assert!(took < Duration::from_secs(2), "{template:?} took {took:?}");
    result
}

#[test]
fn include_import_and_extends_are_refused() {
    let r = Renderer::new();
    for template in [
        "{% include 'other.txt' %}",
        "{% import 'macros.njk' as m %}",
        "{% extends 'base.njk' %}",
        "{% from 'x' import y %}",
    ] {
        let err = hostile(&r, template).unwrap_err();
        assert!(
            err.to_string()
                .contains("templates cannot include, import or extend other templates"),
            "{template}: {err}"
        );
        assert!(r.check(template).is_err());
    }
}

#[test]
fn nested_huge_loops_run_out_of_fuel() {
    let r = Renderer::new();
    let template =
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}";
    let err = hostile(&r, template).unwrap_err();
    assert_eq!(
        err,
        ExprError::Budget {
            snippet: template.into(),
            fuel: Limits::DEFAULT_FUEL,
        }
    );
    assert!(
        err.to_string().contains("exceeded its evaluation budget"),
        "{err}"
    );
}

#[test]
fn recursive_macros_hit_the_recursion_limit() {
    let r = Renderer::new();
    let err = hostile(
        &r,
        "{% macro f(n) %}${{ f(n + 1) }}{% endmacro %}${{ f(0) }}",
    )
    .unwrap_err();
    assert!(matches!(err, ExprError::TooDeep { .. }), "{err:?}");
    assert!(
        err.to_string().contains("nests macro calls too deeply"),
        "{err}"
    );
    // Recursion that stops in time is fine.
    let out = hostile(
        &r,
        "{% macro f(n) %}{% if n < 20 %}${{ f(n + 1) }}{% else %}${{ n }}{% endif %}{% endmacro %}${{ f(0) }}",
    )
    .unwrap();
    assert_eq!(out, "20");
}

#[test]
fn output_is_capped() {
    let r = Renderer::new();
    let err = hostile(&r, "${{ 'x' * 20000000 }}").unwrap_err();
    assert_eq!(
        err,
        ExprError::OutputTooLarge {
            snippet: "${{ 'x' * 20000000 }}".into(),
            limit: Limits::DEFAULT_MAX_OUTPUT_BYTES,
        }
    );
    assert!(
        err.to_string()
            .contains("rendered more than 10485760 bytes"),
        "{err}"
    );
    let err = hostile(
        &r,
        "{% for i in range(100) %}${{ 'x' * 1000000 }}{% endfor %}",
    )
    .unwrap_err();
    assert!(matches!(err, ExprError::OutputTooLarge { .. }), "{err:?}");

    let small = Renderer::with_limits(Limits {
        fuel: Limits::DEFAULT_FUEL,
        max_output_bytes: 1000,
    });
    assert_eq!(hostile(&small, "${{ 'x' * 1000 }}").unwrap().len(), 1000);
    assert!(matches!(
        hostile(&small, "${{ 'x' * 1001 }}"),
        Err(ExprError::OutputTooLarge { limit: 1000, .. })
    ));
    // Typed values count too, through their JSON form.
    let err = small
        .render_value(&json!("${{ ['x' * 600, 'y' * 600] }}"), &json!({}))
        .unwrap_err();
    assert!(
        matches!(err, ExprError::OutputTooLarge { limit: 1000, .. }),
        "{err:?}"
    );
    let cc = FileOptions {
        cookiecutter_compat: true,
        ..FileOptions::default()
    };
    let err = small.render_file("{{ 'x' * 2000 }}", &json!({}), cc);
    assert!(
        matches!(err, Err(ExprError::OutputTooLarge { .. })),
        "{err:?}"
    );
}

#[test]
fn a_typed_value_that_is_too_big_fails_fast() {
    let r = Renderer::new();
    let start = Instant::now();
    let err = r
        .render_value(&json!("${{ 'x' * 20000000 }}"), &json!({}))
        .unwrap_err();
    assert!(matches!(err, ExprError::OutputTooLarge { .. }), "{err:?}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn a_string_beyond_the_budget_is_never_built() {
    // A hundred megabytes cost more fuel than the budget has: refused up front.
    let r = Renderer::new();
    let err = hostile(&r, "${{ 'x' * 100000000 }}").unwrap_err();
    assert!(matches!(err, ExprError::Budget { .. }), "{err:?}");
}

#[test]
fn constant_lists_cannot_be_repeated_into_huge_ones() {
    // The engine folds constant expressions while compiling, without fuel; these
    // would walk or print a hundred million items before rendering starts.
    let r = Renderer::new();
    for template in [
        "${{ 1 in [0] * 100000000 }}",
        "${{ '' ~ [0] * 100000000 }}",
        "${{ [0] * 100000000 == [0] * 100000000 }}",
        "${{ ([0] * 10000) * 10000 }}",
        "${{ [0] * (10 ** 8) }}",
    ] {
        let err = hostile(&r, template).unwrap_err();
        assert!(
            err.to_string()
                .contains("a constant list may be repeated to at most 10000 items"),
            "{template}: {err}"
        );
        assert!(r.check(template).is_err(), "{template}");
        let typed = r.render_value(&json!(template), &json!({})).unwrap_err();
        assert_eq!(typed, err);
    }
    assert_eq!(hostile(&r, "${{ ([0] * 3) | length }}").unwrap(), "3");
}

#[test]
fn strings_and_lists_that_double_run_out_of_fuel() {
    let r = Renderer::new();
    for template in [
        "{% set s = 'x' * 1000000 %}{% set s = s ~ s %}{% set s = s ~ s %}{% set s = s ~ s %}\
         {% set s = s ~ s %}{% set s = s ~ s %}{% set s = s ~ s %}{% set s = s ~ s %}${{ s | length }}",
        "${{ ('x' * 100000000) | replace('x', 'yyyyyyyyyy') | length }}",
        "${{ ([1] * 100000000) | join(',') | length }}",
    ] {
        let err = hostile(&r, template).unwrap_err();
        assert!(
            matches!(err, ExprError::Budget { .. } | ExprError::Render { .. }),
            "{template}: {err:?}"
        );
    }
}

#[test]
fn walking_a_huge_lazy_list_is_bounded_by_fuel() {
    // `[0] * n` with `n` from the context is built at render time: lazily, and
    // `in` walks it item by item at half a fuel per item, stopping when the budget
    // does. The default budget bounds it the same way, only later.
    let r = Renderer::new();
    let start = Instant::now();
    let err = r
        .render_str("${{ 1 in [0] * n }}", &json!({"n": 100_000_000}))
        .unwrap_err();
    assert!(matches!(err, ExprError::Budget { .. }), "{err:?}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn deeply_nested_values_do_not_overflow_the_stack() {
    let r = Renderer::new();
    // Twenty thousand levels of list nesting, built forty at a time.
    let step = format!("{{% set x = {}x{} %}}", "[".repeat(40), "]".repeat(40));
    let build = format!("{{% set x = [] %}}{}", step.repeat(500));
    assert_eq!(hostile(&r, &format!("{build}ok")).unwrap(), "ok");
    assert_eq!(
        hostile(&r, &format!("{build}${{{{ x | length }}}}")).unwrap(),
        "1"
    );
    for op in ["${{ x }}", "${{ x | dump }}"] {
        let err = hostile(&r, &format!("{build}{op}")).unwrap_err();
        assert!(
            err.to_string().contains("nested deeper than 128 levels")
                || err.to_string().contains("nests deeper than 128 levels"),
            "{op}: {err}"
        );
    }
    for op in [
        "${{ x ~ '' }}",
        "${{ x | tojson }}",
        "${{ x | string }}",
        "${{ x == x }}",
    ] {
        // The engine's own printing and comparison recurse; they must finish.
        hostile(&r, &format!("{build}{op}")).unwrap();
    }
    // A loop cannot carry a value into its next iteration, so it cannot nest.
    let out = hostile(
        &r,
        "{% set x = [] %}{% for i in range(1000) %}{% set x = [x] %}{% endfor %}${{ x | length }}",
    )
    .unwrap();
    assert_eq!(out, "0");
    let err = hostile(&r, "{% set ns = namespace(x=[]) %}").unwrap_err();
    assert!(err.to_string().contains("unknown function"), "{err}");
}

#[test]
fn typed_expressions_are_bounded_too() {
    let r = Renderer::new();
    let start = Instant::now();
    let err = r
        .render_value(
            &json!("${{ range(100000) | map('string') | join(',') * 1000 }}"),
            &json!({}),
        )
        .unwrap_err();
    assert!(
        matches!(err, ExprError::Budget { .. } | ExprError::Render { .. }),
        "{err:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
}
