//! `garmax credits grant|show`, the operator's side of the ledger, run as
//! the real binary on an embedded data directory: a grant applies once per
//! idempotency key, an adjustment may not take the balance below zero, a
//! grant is positive, and `show` lists the entries newest first.

use std::path::Path;
use std::process::{Command, Output};

fn garmax(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_garmax"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("DATABASE_URL")
        .env_remove("GARMAX_DATABASE_URL")
        .output()
        .unwrap()
}

fn ok(data: &Path, args: &[&str]) -> String {
    let out = garmax(data, args);
    assert!(
        out.status.success(),
        "garmax {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn refused(data: &Path, args: &[&str]) -> String {
    let out = garmax(data, args);
    assert!(!out.status.success(), "garmax {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

fn grant(amount: &str, key: &str, adjust: bool) -> Vec<String> {
    let mut args = [
        "credits",
        "grant",
        "--name",
        "alice",
        "--amount",
        amount,
        "--reason",
        "support ticket 42",
        "--idempotency-key",
        key,
    ]
    .map(String::from)
    .to_vec();
    if adjust {
        args.push("--adjust".into());
    }
    args
}

fn run_grant(data: &Path, amount: &str, key: &str, adjust: bool) -> Output {
    let args = grant(amount, key, adjust);
    garmax(data, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn stdout_of(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn grants_apply_once_adjustments_stop_at_zero_and_show_lists_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(
        data,
        &[
            "users",
            "create",
            "--name",
            "alice",
            "--credits",
            "10",
            "--plan",
            "studio",
        ],
    );

    let first = stdout_of(run_grant(data, "25", "t42", false));
    assert_eq!(first.trim(), "grant 25 to alice: balance 35");
    // The same command again (a retried script) applies nothing.
    let again = stdout_of(run_grant(data, "25", "t42", false));
    assert_eq!(again.trim(), "already applied (cli:t42): balance 35");

    // A grant is positive; an adjustment may be negative, not below zero.
    let out = run_grant(data, "-5", "t43", false);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("positive"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run_grant(data, "-100", "t44", true);
    assert!(!out.status.success(), "an adjustment below zero is refused");
    let down = stdout_of(run_grant(data, "-5", "t45", true));
    assert_eq!(down.trim(), "adjustment -5 to alice: balance 30");

    let shown = ok(data, &["credits", "show", "--name", "alice"]);
    let mut lines = shown.lines();
    assert_eq!(lines.next(), Some("alice: 30 credits, plan studio"));
    let entries: Vec<(String, i64)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[1].to_string(), f[2].parse().unwrap())
        })
        .collect();
    assert_eq!(
        entries,
        vec![
            ("adjustment".to_string(), -5),
            ("grant".to_string(), 25),
            ("grant".to_string(), 10),
        ],
        "{shown}"
    );
    let limited = ok(
        data,
        &["credits", "show", "--name", "alice", "--limit", "1"],
    );
    assert_eq!(limited.lines().count(), 2, "{limited}");
}

#[test]
fn an_unknown_user_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused(dir.path(), &["credits", "show", "--name", "nobody"]);
    assert!(
        err.to_lowercase().contains("not found") || err.contains("nobody"),
        "{err}"
    );
}
