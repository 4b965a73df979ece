//! `greenroom policy test`: the shipped example policy passes its own cases;
//! a case the policy does not meet fails the command with the rule named;
//! a broken policy is an error, not a pass.

mod common;

use std::process::Command;

use common::paths::repo_root;

fn greenroom(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_greenroom"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("run greenroom");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn the_example_policy_passes_its_cases() {
    let (code, out) = greenroom(&["policy", "test", "deploy/permission/policy.test.yaml"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("8 cases, 8 passed, 0 failed"), "{out}");
}

#[test]
fn a_failing_case_names_the_deciding_rule_and_fails_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let tests = dir.path().join("t.yaml");
    std::fs::write(
        &tests,
        "cases:\n  - name: payments may delete the audit log\n    user: user:default/hannah.becker\n    groups: [group:default/team-payments]\n    permission: catalog.location.delete\n    expect: ALLOW\n",
    )
    .unwrap();
    let policy = repo_root().join("deploy/permission/policy.yaml");
    let (code, out) = greenroom(&[
        "policy",
        "test",
        tests.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  payments may delete the audit log: expected ALLOW, got DENY (decided by the default)"), "{out}");
}

#[test]
fn a_broken_policy_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.yaml"),
        "rules: [{name: r, roles: [boss], permissions: ['*']}]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("t.yaml"), "policy: p.yaml\ncases: []\n").unwrap();
    let (code, out) = greenroom(&[
        "policy",
        "test",
        dir.path().join("t.yaml").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("unknown role boss"), "{out}");
}
