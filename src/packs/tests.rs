use std::os::unix::fs::PermissionsExt;

use super::definition::check_id;
use super::*;

const GOOD: &str = r#"
[[check]]
id = "site.ntp"
title = "NTP answers"
severity = "warn"
[check.explain]
what = "w"
why = "y"
fix = "f"
[check.tcp]
address = "127.0.0.1:123"
"#;

fn problems_of(checks: &[Arc<dyn Check>]) -> Vec<Finding> {
    checks
        .iter()
        .find(|c| c.meta().id == LOAD_ID)
        .map(|c| c.run(&Facts::default()).unwrap().findings)
        .unwrap_or_default()
}

fn ids(checks: &[Arc<dyn Check>]) -> Vec<&str> {
    checks.iter().map(|c| c.meta().id.as_ref()).collect()
}

fn write(dir: &Path, name: &str, text: &str, mode: u32) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn the_built_in_packs_load_cleanly() {
    let loaded = load(&[], &[], Path::new("/"));
    let checks = loaded.checks;
    assert_eq!(ids(&checks), ["mesos.agent-disk", "mesos.master-clock-skew", "zk.outstanding-requests"]);
    let probed: Vec<&str> = loaded.probes.iter().map(|p| p.check.as_str()).collect();
    assert_eq!(probed, ids(&checks), "each pack check has its probe");
    for check in &checks {
        let meta = check.meta();
        assert_eq!(meta.source, "built-in");
        assert_eq!(meta.severity, Status::Warn);
        assert!(meta.explain.references.last().unwrap().contains("built-in pack checks/packs/"));
    }
}

#[test]
fn malformed_packs_are_reported_with_file_and_line() {
    let origin = PackFile { source: "p.toml", file: "p.toml".into(), dir: None };
    let syntax = parse_pack("[[check]]\nid = \"a\"\ntitle = \n", &origin).err().unwrap();
    assert_eq!((syntax.location(), syntax.text.as_deref()), ("p.toml:3".to_string(), Some("title =")));
    let unknown = parse_pack("[[check]]\nid = \"a\"\ntitel = \"x\"\n", &origin).err().unwrap();
    assert_eq!(unknown.location(), "p.toml:3");
    assert!(unknown.message.contains("titel"), "{}", unknown.message);
    assert!(parse_pack("# nothing\n", &origin).err().unwrap().message.contains("no [[check]]"));

    // A bad declaration is refused alone, at its own line; its neighbours load.
    let text = format!(
        "{GOOD}\n[[check]]\nid = \"site.bad\"\ntitle = \"t\"\nseverity = \"warn\"\n[check.explain]\nwhat = \"w\"\nwhy = \"y\"\nfix = \"f\"\n[check.tcp]\naddress = \"{{zk.servers}}\"\nmatch = \"(\"\n"
    );
    let declared = parse_pack(&text, &origin).unwrap();
    assert!(declared[0].is_ok());
    let bad = declared[1].as_ref().err().unwrap();
    assert_eq!(bad.location(), "p.toml:14");
    assert!(bad.message.starts_with("check \"site.bad\": tcp.match: not a regex"), "{}", bad.message);
}

#[test]
fn declarations_are_checked_before_anything_runs() {
    let origin = PackFile { source: "p.toml", file: "p.toml".into(), dir: None };
    let refused = |table: &str| -> String {
        let text = format!(
            "[[check]]\nid = \"a.b\"\ntitle = \"t\"\nseverity = \"fail\"\n[check.explain]\nwhat = \"w\"\nwhy = \"y\"\nfix = \"f\"\n{table}\n"
        );
        match parse_pack(&text, &origin).unwrap().remove(0) {
            Ok(_) => panic!("{table} was accepted"),
            Err(problem) => problem.message,
        }
    };
    assert!(refused("").contains("exactly one of"));
    assert!(refused("[check.tcp]\naddress = \"h:1\"\n[check.file]\npath = \"/x\"").contains("found 2"));
    assert!(refused("[check.tcp]\naddress = \"h:1\"\nmax = 3").contains("min/max need a `match`"));
    assert!(refused("[check.tcp]\naddress = \"h:1\"\nexpect = \"closed\"\nsend = \"x\"").contains("closed"));
    assert!(refused("[check.http]\nurl = \"{mesos.slaves}/x\"").contains("unknown placeholder"));
    assert!(refused("[check.http]\nurl = \"not a url\"").contains("http.url"));
    assert!(
        refused("[check.http]\nurl = \"http://h/\"\n[[check.http.json]]\npointer = \"/a\"").contains("one of equals")
    );
    assert!(refused("[check.http]\nurl = \"http://h/\"\nmax_date_skew = \"soon\"").contains("max_date_skew"));
    let absurd = refused("[check.http]\nurl = \"http://h/\"\nmax_date_skew = \"18446744073709551615s\"");
    assert!(absurd.contains("max_date_skew \"18446744073709551615s\": longer than the most allowed, 1day"), "{absurd}");
    assert!(refused("[check.command]\nargv = []").contains("argv"));
    assert!(refused("[check.command]\nargv = [\"ssh\", \"{zk.servers.host}\", \"{flink}\"]").contains("more than one"));
    assert!(refused("[check.unit]\nunit = \"x.service\"").contains("at least one"));
    assert!(refused("[check.file]\npath = \"/x\"\nmode = \"rw\"").contains("octal"));
    assert!(refused("[check.file]\npath = \"x\"").contains("absolute"));
    assert!(refused("[check.plugin]\npath = \"check_x\"").contains("built-in pack"));
    let with_remedy = |command: &str| {
        refused(&format!("[check.file]\npath = \"/x\"\n[[check.remedy]]\ncommand = {command:?}\nrisk = \"safe\""))
    };
    assert!(with_remedy("ssh {host} x").contains("offers {target}, {path}"));
    assert!(with_remedy("cat '{path}'").contains("inside quotes"));
    assert!(check_id("zk.outstanding-requests").is_ok());
    for bad in ["", "a b", "zk.", ".x", "a;b", "x*"] {
        assert!(check_id(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn later_packs_override_by_id_and_built_in_ids_are_refused() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    write(first.path(), "site.toml", GOOD, 0o644);
    write(second.path(), "a.toml", &GOOD.replace("NTP answers", "NTP answers here"), 0o644);
    write(second.path(), "b.toml", &GOOD.replace("site.ntp", "zk.quorum"), 0o644);
    write(second.path(), "c.toml", &GOOD.replace("site.ntp", "zk.outstanding-requests"), 0o644);
    let checks = load(&[first.path().into(), second.path().into()], &["zk.quorum"], Path::new("/")).checks;
    assert_eq!(
        ids(&checks),
        ["mesos.agent-disk", "mesos.master-clock-skew", "zk.outstanding-requests", "site.ntp", LOAD_ID]
    );
    let ntp = &checks[3];
    assert_eq!(ntp.meta().title, "NTP answers here");
    assert_eq!(ntp.meta().source, second.path().join("a.toml").display().to_string());
    assert_eq!(checks[2].meta().source, second.path().join("c.toml").display().to_string());
    let problems = problems_of(&checks);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].subject, format!("{}:3", second.path().join("b.toml").display()));
    assert!(problems[0].message.contains("\"zk.quorum\" is a built-in check's"));
    assert_eq!(problems[0].evidence[0], "line 3: id = \"zk.quorum\"");
    assert_eq!(problems[0].status, Status::Error);
}

#[test]
fn executables_are_plugins_unless_a_pack_describes_them() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "check_bare", "#!/bin/sh\nexit 0\n", 0o755);
    write(dir.path(), "check_described", "#!/bin/sh\nexit 0\n", 0o755);
    write(dir.path(), "notes.txt", "not a plugin", 0o644);
    write(dir.path(), "role-ports.toml", "this is check data, not a pack", 0o644);
    let described = GOOD.replace("site.ntp", "site.described").replace(
        "[check.tcp]\naddress = \"127.0.0.1:123\"",
        "[check.plugin]\npath = \"check_described\"\nargs = [\"-H\", \"{zk.servers.host}\"]",
    );
    write(dir.path(), "plugins.toml", &described, 0o644);
    let loaded = load(&[dir.path().into()], &[], Path::new("/"));
    let checks = loaded.checks;
    assert_eq!(ids(&checks)[3..], ["check_bare", "site.described"]);
    assert!(problems_of(&checks).is_empty());
    let bare = checks[3].meta();
    assert_eq!((bare.title.as_ref(), bare.severity), ("Plugin check_bare", Status::Fail));
    assert!(bare.explain.what.contains("Nagios plugin"));
    assert_eq!(loaded.probes[4].check, "site.described");
    match &loaded.probes[4].probe {
        crate::facts::packs::Probe::Plugin { path, args } => {
            assert_eq!(path, &dir.path().join("check_described"));
            assert_eq!(args.len(), 2);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_checks_dir_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let checks = load(&[dir.path().join("nope")], &[], Path::new("/")).checks;
    let problems = problems_of(&checks);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].message.contains("no such directory"));
    let load_check = checks.iter().find(|c| c.meta().id == LOAD_ID).unwrap();
    assert!(load_check.meta().explain.what.contains("nope: no such directory"));
}
