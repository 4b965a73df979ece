//! `/catalog-import/validate`: paste a `catalog-info.yaml` and see every problem
//! with its line and field before anything is registered. The checks are the
//! server's own (`greenroom_model::validate_descriptor`, compiled to
//! WebAssembly in the YAML module): what this page accepts, ingestion accepts.

use greenroom_model::Diagnostic;
use leptos::prelude::*;

use crate::components::HeaderRow;
use crate::shell::page_title;
use crate::yaml;

const EXAMPLE: &str = "apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-service
  description: Takes payments
spec:
  type: service
  owner: team-payments
  lifecycle: production
";

/// What the page shows for a text: nothing yet, the problems, or the
/// entities that passed.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    NotChecked,
    Checking,
    /// The checks could not run (the YAML module did not load).
    Unavailable(String),
    Empty,
    Problems(Vec<Diagnostic>),
    Valid(Vec<String>),
}

pub async fn check(text: &str) -> Outcome {
    if text.trim().is_empty() {
        return Outcome::Empty;
    }
    let (entities, diagnostics) = match yaml::validate_descriptor(text).await {
        Ok(validation) => (validation.entities, validation.diagnostics),
        Err(yaml::YamlError::Unavailable(message) | yaml::YamlError::Invalid(message)) => {
            return Outcome::Unavailable(message)
        }
    };
    if !diagnostics.is_empty() {
        return Outcome::Problems(diagnostics);
    }
    if entities.is_empty() {
        return Outcome::Empty;
    }
    Outcome::Valid(
        entities
            .iter()
            .filter_map(greenroom_model::EntityRef::of_entity)
            .map(|r| r.canonical())
            .collect(),
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[component]
pub fn ValidatePage() -> impl IntoView {
    page_title(|| "Validate catalog-info.yaml".to_string());
    let text = RwSignal::new(EXAMPLE.to_string());
    let outcome = RwSignal::new(Outcome::NotChecked);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = text.get_untracked();
        outcome.set(Outcome::Checking);
        leptos::task::spawn_local(async move { outcome.set(check(&text).await) });
    };
    view! {
        <section class="page validate">
            <h1>"Validate catalog-info.yaml"</h1>
            <p class="lead">
                "Paste a descriptor file (several documents separated by "
                <code>"---"</code>
                " are fine). It is checked here, in your browser, with the rules the catalog applies when it reads the file; nothing is sent or registered."
            </p>
            <form class="validate-form" on:submit=on_submit>
                <label for="descriptor">"Descriptor YAML"</label>
                <textarea id="descriptor" name="descriptor" rows="16" spellcheck="false" bind:value=text></textarea>
                <button type="submit">"Validate"</button>
            </form>
            <div class="validate-outcome" aria-live="polite">{move || outcome_view(outcome.get())}</div>
        </section>
    }
}

fn outcome_view(outcome: Outcome) -> AnyView {
    match outcome {
        Outcome::NotChecked => ().into_any(),
        Outcome::Checking => view! { <p class="loading" role="status">"Checking…"</p> }.into_any(),
        Outcome::Unavailable(message) => view! {
            <div class="error-box" role="alert">
                <p>"The file could not be checked: " {message}</p>
                <p class="muted">"Reload the page to try again."</p>
            </div>
        }
        .into_any(),
        Outcome::Empty => view! {
            <p class="muted" role="status">"There is nothing to check: the text has no YAML documents."</p>
        }
        .into_any(),
        Outcome::Valid(refs) => view! {
            <div class="validate-ok" role="status">
                <h2>{format!("No problems: {} would be added", plural(refs.len(), "entity", "entities"))}</h2>
                <ul>{refs.into_iter().map(|r| view! { <li><code>{r}</code></li> }).collect_view()}</ul>
            </div>
        }
        .into_any(),
        Outcome::Problems(problems) => view! {
            <div class="error-box validate-problems" role="alert">
                <h2>{plural(problems.len(), "problem", "problems")}</h2>
                <table>
                    <HeaderRow columns=&["Line", "Entity", "Field", "Problem"] />
                    <tbody>
                        {problems
                            .into_iter()
                            .map(|p| view! {
                                <tr>
                                    <td>{p.line.map(|l| l.to_string()).unwrap_or_default()}</td>
                                    <td>{p.entity_ref.unwrap_or_default()}</td>
                                    <td><code>{p.field.unwrap_or_default()}</code></td>
                                    <td>{p.message}</td>
                                </tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn the_example_is_valid() {
        assert_eq!(
            block_on(check(EXAMPLE)),
            Outcome::Valid(vec!["component:default/payments-service".into()])
        );
    }

    #[test]
    fn a_bad_name_is_a_problem_on_its_line_and_field() {
        let Outcome::Problems(problems) = block_on(check(
            &EXAMPLE.replace("name: payments-service", "name: Payments Service!"),
        )) else {
            panic!("expected problems")
        };
        assert_eq!(problems[0].field.as_deref(), Some("metadata.name"));
        assert_eq!(problems[0].line, Some(4));
    }

    #[test]
    fn blank_text_has_nothing_to_check() {
        assert_eq!(block_on(check("  \n")), Outcome::Empty);
        assert_eq!(block_on(check("# a comment\n")), Outcome::Empty);
        assert!(matches!(
            block_on(check("kind: [unclosed")),
            Outcome::Problems(_)
        ));
    }
}
