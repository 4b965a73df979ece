//! `greenroom policy test FILE`: runs a permission policy's test cases, so a
//! policy change is checked in CI before it reaches the portal.
//!
//! ```yaml
//! policy: ./permission-policy.yaml      # relative to this file
//! cases:
//!   - name: owners delete their components
//!     user: user:default/alice
//!     groups: [group:default/team-a]     # further ownership refs
//!     permission: catalog.entity.delete
//!     entity: { kind: Component, metadata: { name: x }, spec: { owner: team-a } }
//!     expect: ALLOW                       # ALLOW | DENY | CONDITIONAL
//!   - name: strangers read nothing
//!     user: anonymous
//!     permission: catalog.entity.read
//!     expect: DENY
//! ```
//!
//! With an `entity` (or a `task: {createdBy}`), a conditional decision is
//! applied to it and the case expects ALLOW or DENY; without one the bare
//! decision is compared.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Caller;
use crate::permissions::conditions::{entity_matches, task_matches, to_entity_filter};
use crate::permissions::policy::YamlPolicy;
use crate::permissions::{by_name, Decision, PermissionPolicy};

#[derive(Debug, Args)]
pub struct PolicyTestArgs {
    /// The test file (its `policy` names the policy file).
    file: PathBuf,
    /// Test this policy file instead of the one the test file names.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    policy: Option<PathBuf>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: Option<String>,
    user: String,
    #[serde(default)]
    groups: Vec<String>,
    permission: String,
    #[serde(default)]
    entity: Option<Value>,
    #[serde(default)]
    task: Option<TaskResource>,
    expect: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TaskResource {
    created_by: Option<String>,
}

fn load(args: &PolicyTestArgs) -> Result<(YamlPolicy, Vec<Case>), String> {
    let text =
        std::fs::read_to_string(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let tests: TestFile =
        serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let base = args.file.parent().unwrap_or(Path::new("."));
    let policy_path = match (&args.policy, &tests.policy) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => base.join(p),
        (None, None) => {
            return Err(format!(
                "{}: name the policy with `policy:` or --policy",
                args.file.display()
            ))
        }
    };
    let policy_text = std::fs::read_to_string(&policy_path)
        .map_err(|e| format!("{}: {e}", policy_path.display()))?;
    let policy =
        YamlPolicy::parse(&policy_text).map_err(|e| format!("{}: {e}", policy_path.display()))?;
    Ok((policy, tests.cases))
}

fn caller_of(case: &Case) -> Caller {
    if case.user == crate::auth::ANONYMOUS {
        return Caller::anonymous();
    }
    let user = case.user.to_lowercase();
    let mut refs = vec![user.clone()];
    refs.extend(case.groups.iter().map(|g| g.to_lowercase()));
    Caller::user(user, refs)
}

/// The outcome of one case: the decision word and the rule that made it.
fn run_case(policy: &YamlPolicy, case: &Case) -> Result<(String, Option<String>), String> {
    let permission = by_name(&case.permission)
        .ok_or_else(|| format!("unknown permission {}", case.permission))?;
    let evaluation = policy.evaluate(&caller_of(case), &permission);
    let word = match (&evaluation.decision, &case.entity, &case.task) {
        (Decision::Allow, _, _) => "ALLOW",
        (Decision::Deny, _, _) => "DENY",
        (Decision::Conditional(c), Some(entity), _) => {
            let entity = entity.as_object().ok_or("entity must be a mapping")?;
            if entity_matches(&to_entity_filter(c), entity) {
                "ALLOW"
            } else {
                "DENY"
            }
        }
        (Decision::Conditional(c), None, Some(task)) => {
            if task_matches(c, task.created_by.as_deref()) {
                "ALLOW"
            } else {
                "DENY"
            }
        }
        (Decision::Conditional(_), None, None) => "CONDITIONAL",
    };
    Ok((word.to_string(), evaluation.rule))
}

pub fn test(args: PolicyTestArgs) -> ExitCode {
    let (policy, cases) = match load(&args) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut failed = 0;
    for (i, case) in cases.iter().enumerate() {
        let name = case
            .name
            .clone()
            .unwrap_or_else(|| format!("case {}: {} {}", i + 1, case.user, case.permission));
        match run_case(&policy, case) {
            Ok((got, rule)) if got.eq_ignore_ascii_case(&case.expect) => {
                println!("ok    {name}");
                let _ = rule;
            }
            Ok((got, rule)) => {
                failed += 1;
                println!(
                    "FAIL  {name}: expected {}, got {got} (decided by {})",
                    case.expect.to_uppercase(),
                    rule.map_or("the default".to_string(), |r| format!("rule '{r}'"))
                );
            }
            Err(e) => {
                failed += 1;
                println!("FAIL  {name}: {e}");
            }
        }
    }
    println!(
        "{} cases, {} passed, {failed} failed",
        cases.len(),
        cases.len() - failed
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
