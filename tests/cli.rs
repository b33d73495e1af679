//! The command-line contract: commands, exit codes, selection, colour,
//! configuration precedence and the JSON report's schema.

use predicates::prelude::*;
use serde_json::Value;

/// Every check's id, in catalog order: the built-in checks, then those of the
/// built-in packs (checks/packs/). The contract's ids and their order are
/// pinned once, in `checks::tests::catalog_starts_with_the_contract_ids_in_order`.
fn catalog_ids() -> Vec<String> {
    let catalog = clusterdoc::catalog::catalog_with_packs(&[], std::path::Path::new("/"));
    catalog.checks.iter().map(|c| c.meta().id.to_string()).collect()
}

mod support;

use crate::support::cli as cli_support;
use cli_support::clusterdoc;

fn json_of(output: &[u8]) -> Value {
    serde_json::from_slice(output).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(output)))
}

/// A node tree with nothing cluster-related in it: node checks have little to
/// judge and no live probe of this machine runs.
fn empty_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(root.path().join("etc/hostname"), "node-1\n").unwrap();
    std::fs::write(root.path().join("etc/hosts"), "127.0.0.1 localhost\n10.0.0.5 node-1\n").unwrap();
    root
}

#[test]
fn list_json_names_every_check_in_catalog_order() {
    let dir = tempfile::tempdir().unwrap();
    let out = clusterdoc(dir.path()).args(["list", "--format", "json"]).assert().success();
    let doc = json_of(&out.get_output().stdout);
    let checks = doc["checks"].as_array().unwrap();
    let ids: Vec<&str> = checks.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, catalog_ids());
    for c in checks {
        assert!(c["title"].as_str().is_some_and(|t| !t.is_empty()));
        // fleet.nodes is `error` at worst: a node not reached is a node not judged.
        assert!(matches!(c["severity"].as_str(), Some("warn" | "fail" | "error")), "{c}");
        assert!(c["tags"].as_array().is_some_and(|t| !t.is_empty()));
        assert_eq!(c["source"], "built-in");
    }
}

#[test]
fn explain_has_what_why_fix_for_every_check() {
    let dir = tempfile::tempdir().unwrap();
    for id in catalog_ids() {
        let out = clusterdoc(dir.path()).args(["explain", &id]).assert().success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        for section in ["What it looks for", "Why it matters", "How to fix it", "Risk of the fix"] {
            assert!(text.contains(section), "{id}: no {section:?} in\n{text}");
        }
    }
}

#[test]
fn explain_unknown_id_exits_3_with_the_known_ids() {
    let dir = tempfile::tempdir().unwrap();
    clusterdoc(dir.path())
        .args(["explain", "hostname.kase"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("hostname.case").and(predicate::str::contains("mesos.leader")));
}

#[test]
fn usage_errors_exit_3_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["--no-such-flag"][..], &["--format", "xml"], &["--timeout", "soon"], &["--only", "zk.quorom"]] {
        let out = clusterdoc(dir.path()).args(args).assert().code(3);
        let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("clusterdoc: "), "{stderr}");
    }
}

#[test]
fn bad_config_exits_3_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "marathon = \"http://m1:8080\"\nmarathn = \"typo\"\n").unwrap();
    clusterdoc(dir.path())
        .arg("--config")
        .arg(&file)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("bad.toml").and(predicate::str::contains("marathn")));
    clusterdoc(dir.path()).args(["--zk", "http://not-zk/x"]).assert().code(3).stderr(predicate::str::contains("zk://"));
}

#[test]
fn help_and_version_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    clusterdoc(dir.path()).arg("--help").assert().success().stdout(predicate::str::contains("--deadline"));
    clusterdoc(dir.path()).arg("--version").assert().success().stdout(predicate::str::contains("clusterdoc 0.1.0"));
}

#[test]
fn completions_generate() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        clusterdoc(dir.path())
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("clusterdoc"));
    }
}

#[test]
fn only_and_skip_select_checks_and_families() {
    let root = empty_root();
    let out = clusterdoc(root.path())
        .arg("--root")
        .arg(root.path())
        .args(["--only", "zk.,hostname.case", "--skip", "zk.quorum", "--format", "json", "--deadline", "5s"])
        .assert();
    let doc = json_of(&out.get_output().stdout);
    let ids: Vec<&str> = doc["checks"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["hostname.case", "zk.marathon-reuse", "zk.outstanding-requests"]);
}

#[test]
fn json_report_matches_the_schema_and_its_own_summary() {
    let root = empty_root();
    let out = clusterdoc(root.path())
        .arg("--root")
        .arg(root.path())
        .args(["--format", "json", "--timeout", "500ms", "--deadline", "10s"])
        .assert();
    let code = out.get_output().status.code().unwrap();
    let doc = json_of(&out.get_output().stdout);
    support::cli::assert_schema(&doc);

    let checks = doc["checks"].as_array().unwrap();
    assert_eq!(checks.len(), catalog_ids().len());
    let rank = |s: &str| ["pass", "skip", "warn", "error", "fail"].iter().position(|x| *x == s).unwrap();
    let worst = checks.iter().map(|c| c["status"].as_str().unwrap()).max_by_key(|s| rank(s)).unwrap();
    assert_eq!(doc["status"], worst);
    for status in ["pass", "warn", "fail", "skip", "error"] {
        let n = checks.iter().filter(|c| c["status"] == status).count();
        assert_eq!(doc["summary"][status], n, "summary.{status}");
    }
    let expected_code = match worst {
        "warn" => 1,
        "fail" => 2,
        "error" => 3,
        _ => 0,
    };
    assert_eq!(code, expected_code);
    for c in checks.iter().filter(|c| c["status"] == "pass") {
        assert!(c["findings"].as_array().unwrap().iter().all(|f| f["status"] == "pass"), "{c}");
    }
}

#[test]
fn human_output_has_no_escape_codes_unless_asked() {
    let root = empty_root();
    let run = |extra: &[&str], no_color: bool| {
        let mut cmd = clusterdoc(root.path());
        cmd.arg("--root").arg(root.path()).args(["--deadline", "5s", "--timeout", "300ms"]).args(extra);
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    assert!(!run(&[], false).contains('\x1b'), "non-tty output must be plain");
    assert!(!run(&["--color", "auto"], true).contains('\x1b'));
    assert!(run(&["--color", "always"], false).contains('\x1b'));
    assert!(!run(&["--color", "never"], false).contains('\x1b'));
}

#[test]
fn output_file_receives_the_report() {
    let root = empty_root();
    let file = root.path().join("report.json");
    let out = clusterdoc(root.path())
        .arg("--root")
        .arg(root.path())
        .args(["--only", "hostname.case", "--format", "json", "-o"])
        .arg(&file)
        .assert();
    assert!(out.get_output().stdout.is_empty());
    let doc = json_of(&std::fs::read(&file).unwrap());
    assert_eq!(doc["checks"][0]["id"], "hostname.case");
}

/// `collect` records the targets it used, so precedence is visible there:
/// flag > environment > config file > implicit default.
#[test]
fn target_precedence_and_redaction() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        "marathon = \"http://file:8080\"\nzk = \"zk://file:2181/marathon\"\nmesos = [\"file-m1:5050\"]\n",
    )
    .unwrap();
    let collect = |extra: &[&str], env: &[(&str, &str)]| {
        let mut cmd = clusterdoc(dir.path());
        cmd.args(["collect", "--only", "hostname.case", "--root"]).arg(dir.path()).arg("--config").arg(&file);
        cmd.args(extra);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.assert().success();
        json_of(&out.get_output().stdout)["facts"]["inputs"].clone()
    };
    let from_file = collect(&[], &[]);
    assert_eq!(from_file["marathon"]["url"], "http://file:8080");
    assert_eq!(from_file["marathon"]["explicit"], true);
    assert_eq!(from_file["mesos"][0]["url"], "http://file-m1:5050");
    let from_env = collect(&[], &[("MARATHON_URL", "http://env:8080"), ("MESOS_MASTER", "e1:5050,e2:5050")]);
    assert_eq!(from_env["marathon"]["url"], "http://env:8080");
    assert_eq!(from_env["mesos"].as_array().unwrap().len(), 2);
    let from_flag = collect(&["--marathon", "http://admin:hunter2@flag:8080"], &[("MARATHON_URL", "http://env:8080")]);
    assert_eq!(from_flag["marathon"]["url"], "http://flag:8080");
    assert!(!from_flag.to_string().contains("hunter2"));

    let out = clusterdoc(dir.path()).args(["collect", "--only", "hostname.case", "--root"]).arg(dir.path()).assert();
    let defaults = json_of(&out.get_output().stdout)["facts"]["inputs"].clone();
    assert_eq!(defaults["marathon"]["url"], "http://127.0.0.1:8080");
    assert_eq!(defaults["marathon"]["explicit"], false);
    assert_eq!(defaults["zk"]["url"], "zk://127.0.0.1:2181/marathon");
}

/// The README's catalog is `clusterdoc list`, so the two cannot drift apart.
#[test]
fn readme_catalog_is_the_list_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = clusterdoc(dir.path()).arg("list").assert().success();
    let listed = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let readme = include_str!("../README.md");
    let start = readme.find("<!-- catalog:start -->\n```\n").expect("catalog start marker") + 27;
    let end = readme.find("```\n<!-- catalog:end -->").expect("catalog end marker");
    assert_eq!(&readme[start..end], listed, "regenerate the README catalog from `clusterdoc list`");
}

#[test]
fn man_page_generates_from_the_cli_definitions() {
    let dir = tempfile::tempdir().unwrap();
    let out = clusterdoc(dir.path()).arg("man").assert().success();
    let roff = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(roff.starts_with(".ie"), "not roff: {roff:.80}");
    for flag in ["\\-\\-deadline", "\\-\\-expect\\-marathon\\-version", "collect", "explain"] {
        assert!(roff.contains(flag), "man page lacks {flag}");
    }
}

/// A run slower than the spinner's half-second delay, with stderr not a
/// terminal (a pipe here): nothing but the report may appear.
#[test]
fn no_progress_output_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let out = clusterdoc(dir.path())
        .args(["--only", "marathon.leader", "--marathon", &url, "--timeout", "1s", "--deadline", "3s"])
        .assert()
        .code(3);
    assert!(out.get_output().stderr.is_empty(), "stderr: {}", String::from_utf8_lossy(&out.get_output().stderr));
    drop(silent);
}

/// On a terminal (a pseudo-terminal from util-linux `script`), a run slower
/// than half a second shows the spinner on stderr, and clears it.
#[test]
fn progress_spinner_on_a_terminal() {
    assert!(
        std::process::Command::new("script").arg("--version").output().is_ok(),
        "util-linux `script` is needed for a pseudo-terminal (apt-get install bsdutils)"
    );
    let dir = tempfile::tempdir().unwrap();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let line = format!(
        "{} --only marathon.leader --marathon http://{} --timeout 2s --deadline 3s --color never",
        assert_cmd::cargo::cargo_bin("clusterdoc").display(),
        silent.local_addr().unwrap()
    );
    let mut script = std::process::Command::new("script");
    cli_support::isolate(&mut script, dir.path());
    let out = script.args(["-qec", &line, "/dev/null"]).output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("gathering facts"), "no spinner on the terminal:\n{screen}");
    assert!(screen.contains("\x1b[2K"), "the spinner line is not cleared");
    drop(silent);
}
