//! The config file and check packs, through the binary: a file another user
//! could have written never steers clusterdoc (it is ignored, and stderr and
//! the report say which and why), the config in use is named in the report,
//! under `--root DIR` the image's own config is not read unless named, and absurd
//! durations are one-line usage errors, never a panic.
//!
//! The ownership tests hand files to a real other user, uid 65534 (nobody),
//! with chown: they need root, as clusterdoc's own use does.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

mod support;

use crate::support::cli as cli_support;
use cli_support::clusterdoc;

/// Another user: the owner of the hostile files.
const NOBODY: u32 = 65534;

fn require_root() {
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "these tests need root: they give files to another user (uid {NOBODY}) with chown"
    );
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).unwrap();
}

/// A private directory (root's, 0700, in the sticky /tmp) holding a trusted
/// pack directory whose one check creates a marker file when it runs.
struct Scene {
    top: tempfile::TempDir,
}

impl Scene {
    fn new() -> Self {
        require_root();
        let scene = Scene { top: tempfile::tempdir().unwrap() };
        chmod(scene.top.path(), 0o700);
        let packs = scene.packs();
        std::fs::create_dir(&packs).unwrap();
        chmod(&packs, 0o755);
        let pack = format!(
            "[[check]]\nid = \"site.marker\"\ntitle = \"Marker\"\nseverity = \"fail\"\n\
             [check.explain]\nwhat = \"w\"\nwhy = \"y\"\nfix = \"f\"\n\
             [check.command]\nargv = [\"touch\", \"{}\"]\n",
            scene.marker().display()
        );
        std::fs::write(packs.join("marker.toml"), pack).unwrap();
        chmod(&packs.join("marker.toml"), 0o644);
        scene
    }

    fn packs(&self) -> PathBuf {
        self.top.path().join("packs")
    }

    fn marker(&self) -> PathBuf {
        self.top.path().join("marker")
    }

    /// A directory with this mode (1777: like /tmp), owned by root.
    fn dir(&self, name: &str, mode: u32) -> PathBuf {
        let dir = self.top.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        chmod(&dir, mode);
        dir
    }

    /// `dir/clusterdoc.toml` naming the marker pack directory, owned by `uid`.
    fn config(&self, dir: &Path, uid: u32, extra: &str) -> PathBuf {
        let path = dir.join("clusterdoc.toml");
        std::fs::write(&path, format!("checks_dir = [{:?}]\n{extra}", self.packs())).unwrap();
        chmod(&path, 0o644);
        chown(&path, uid);
        path
    }
}

/// A plain run from `cwd`: the JSON report, stderr and the exit code.
fn run(cwd: &Path, args: &[&str]) -> (Value, String, i32) {
    let out = clusterdoc(cwd).args(["--format", "json", "--deadline", "20s"]).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{stderr}", String::from_utf8_lossy(&out.stdout)));
    (doc, stderr, out.status.code().unwrap())
}

fn has_check(doc: &Value, id: &str) -> bool {
    doc["checks"].as_array().unwrap().iter().any(|c| c["id"] == id)
}

/// The report's one `ignored` entry for `path`, and its reason.
fn ignored_reason(doc: &Value, path: &Path) -> String {
    let all = doc["ignored"].as_array().unwrap_or_else(|| panic!("no ignored list: {doc:#}"));
    let entry = all.iter().find(|i| i["path"] == path.display().to_string());
    entry.unwrap_or_else(|| panic!("{} not in {all:?}", path.display()))["reason"].as_str().unwrap().to_string()
}

#[test]
fn a_config_another_user_owns_is_ignored_and_named_and_a_safe_one_is_used() {
    let scene = Scene::new();
    // The attack: a shared, sticky directory like /tmp, and a clusterdoc.toml
    // that another user put there, naming a pack that runs a command.
    let shared = scene.dir("shared", 0o1777);
    let config = scene.config(&shared, NOBODY, "");
    let (doc, stderr, _) = run(&shared, &[]);
    assert!(!scene.marker().exists(), "the pack named by another user's config ran its command");
    assert!(!has_check(&doc, "site.marker"), "{doc:#}");
    let reason = ignored_reason(&doc, &config);
    assert!(reason.contains("owned by uid 65534, neither root nor the user running clusterdoc (uid 0)"), "{reason}");
    assert!(stderr.contains(&format!("clusterdoc: ignored {}: {reason}", config.display())), "{stderr}");
    assert_eq!(doc["config"], Value::Null);
    let human = clusterdoc(&shared).args(["--deadline", "20s"]).output().unwrap();
    let human = String::from_utf8_lossy(&human.stdout);
    let header: Vec<&str> = human.lines().take(2).collect();
    assert_eq!(header[1], format!("config: none · ignored {}: {reason}", config.display()), "{human}");

    // Root's own file in a directory anyone may write (no sticky bit): the
    // file could be replaced, so it is ignored too.
    let open = scene.dir("open", 0o777);
    let config = scene.config(&open, 0, "");
    let (doc, stderr, _) = run(&open, &[]);
    assert!(!scene.marker().exists());
    let reason = ignored_reason(&doc, &config);
    assert_eq!(reason, format!("its directory {} is writable by group or others (mode 0777)", open.display()));
    assert!(stderr.contains(&reason), "{stderr}");

    // The same file owned by root in the sticky directory: nobody else can
    // replace it there, so it is used, and the report names it.
    let config = shared.join("clusterdoc.toml");
    chown(&config, 0);
    let (doc, stderr, _) = run(&shared, &[]);
    assert!(scene.marker().exists(), "the trusted config's pack did not run: {doc:#}\n{stderr}");
    assert_eq!(doc["config"], config.display().to_string());
    assert_eq!(doc["ignored"], serde_json::json!([]));
    assert!(has_check(&doc, "site.marker"));
    let human = clusterdoc(&shared).args(["--deadline", "20s"]).output().unwrap();
    let human = String::from_utf8_lossy(&human.stdout);
    assert_eq!(human.lines().nth(1), Some(format!("config: {}", config.display()).as_str()), "{human}");
}

#[test]
fn a_named_config_is_used_with_a_warning_and_its_packs_are_still_checked() {
    let scene = Scene::new();
    let shared = scene.dir("shared", 0o1777);
    let config = scene.config(&shared, NOBODY, "");
    let cwd = scene.dir("cwd", 0o755);
    let (doc, stderr, _) = run(&cwd, &["--config", config.to_str().unwrap()]);
    assert!(
        stderr.contains(&format!("clusterdoc: warning: config file {}: owned by uid 65534", config.display())),
        "{stderr}"
    );
    assert!(stderr.contains("used because it was named"), "{stderr}");
    assert_eq!(doc["config"], config.display().to_string());
    assert!(scene.marker().exists(), "the named config was not used");

    // Its pack directory is not trusted when another user could write it.
    std::fs::remove_file(scene.marker()).unwrap();
    chmod(&scene.packs(), 0o777);
    let (doc, stderr, _) = run(&cwd, &["--config", config.to_str().unwrap()]);
    assert!(!scene.marker().exists(), "a pack in a world-writable directory ran");
    let reason = ignored_reason(&doc, &scene.packs());
    assert!(reason.contains("writable by group or others (mode 0777)"), "{reason}");
    assert!(stderr.contains(&format!("ignored {}: {reason}", scene.packs().display())), "{stderr}");
}

#[test]
fn pack_files_and_plugins_another_user_owns_are_ignored() {
    let scene = Scene::new();
    let pack = scene.packs().join("marker.toml");
    chown(&pack, NOBODY);
    let plugin = scene.packs().join("check_marker");
    std::fs::write(&plugin, format!("#!/bin/sh\ntouch {}\n", scene.marker().display())).unwrap();
    chmod(&plugin, 0o755);
    chown(&plugin, NOBODY);
    let cwd = scene.dir("cwd", 0o755);
    let (doc, stderr, _) = run(&cwd, &["--checks-dir", scene.packs().to_str().unwrap()]);
    assert!(!scene.marker().exists(), "a pack or plugin of another user ran");
    assert!(!has_check(&doc, "site.marker") && !has_check(&doc, "check_marker"), "{doc:#}");
    for file in [&pack, &plugin] {
        let reason = ignored_reason(&doc, file);
        assert!(reason.starts_with("owned by uid 65534"), "{reason}");
        assert!(stderr.contains(&format!("clusterdoc: ignored {}: {reason}", file.display())), "{stderr}");
    }
    // `list` says so as well, and does not list them.
    let out = clusterdoc(&cwd).args(["list", "--checks-dir", scene.packs().to_str().unwrap()]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("ignored {}", pack.display())));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("site.marker"));
}

#[test]
fn a_plugin_a_trusted_pack_names_is_not_run_when_another_user_owns_it() {
    let scene = Scene::new();
    let elsewhere = scene.dir("elsewhere", 0o755);
    let plugin = elsewhere.join("check_marker");
    std::fs::write(&plugin, format!("#!/bin/sh\ntouch {}\n", scene.marker().display())).unwrap();
    chmod(&plugin, 0o755);
    chown(&plugin, NOBODY);
    let pack = format!(
        "[[check]]\nid = \"site.plugin\"\ntitle = \"Plugin\"\nseverity = \"fail\"\n\
         [check.explain]\nwhat = \"w\"\nwhy = \"y\"\nfix = \"f\"\n[check.plugin]\npath = {:?}\n",
        plugin.display().to_string()
    );
    std::fs::write(scene.packs().join("marker.toml"), pack).unwrap();
    let cwd = scene.dir("cwd", 0o755);
    let (doc, _, code) = run(&cwd, &["--checks-dir", scene.packs().to_str().unwrap(), "--only", "site.plugin"]);
    assert!(!scene.marker().exists(), "another user's plugin ran");
    let finding = &doc["checks"][0]["findings"][0];
    assert_eq!(finding["status"], "error", "{doc:#}");
    let message = finding["message"].as_str().unwrap();
    assert!(message.starts_with(&format!("plugin {} not run: owned by uid 65534", plugin.display())), "{message}");
    assert_eq!(code, 3);
}

#[test]
fn under_root_the_images_own_config_is_read_only_when_named() {
    let scene = Scene::new();
    let image = scene.dir("image", 0o755);
    std::fs::create_dir(image.join("etc")).unwrap();
    std::fs::write(image.join("etc/hostname"), "node1\n").unwrap();
    let config = scene.config(&image, 0, "");
    let (doc, stderr, _) = run(&image, &["--root", "."]);
    assert_eq!(doc["config"], Value::Null);
    let reason = ignored_reason(&doc, &config);
    assert!(reason.starts_with("inside --root ."), "{reason}");
    assert!(stderr.contains(&format!("ignored {}", config.display())), "{stderr}");
    assert!(!has_check(&doc, "site.marker"), "{doc:#}");

    // Named explicitly, it is used, with a warning: the user chose it.
    let (doc, stderr, _) = run(&image, &["--root", ".", "--config", "clusterdoc.toml"]);
    assert_eq!(doc["config"], config.display().to_string());
    assert!(
        stderr.contains("clusterdoc: warning: config file clusterdoc.toml: inside --root .; used because it was named"),
        "{stderr}"
    );
}

/// A usage error: exit 3 and one line on stderr that says `what`.
fn assert_usage_error(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(what) && stderr.contains("longer than the most allowed, 1day"), "{stderr}");
}

#[test]
fn absurd_durations_are_usage_errors_from_flag_env_and_file() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value) in
        [("--deadline", "500000000000y"), ("--timeout", "18446744073709551615s"), ("--deadline", "25h")]
    {
        let out = clusterdoc(dir.path()).args([flag, value]).output().unwrap();
        assert_usage_error(&out, &format!("clusterdoc: {flag}: {value:?}"));
    }
    let config = dir.path().join("clusterdoc.toml");
    std::fs::write(&config, "deadline = \"500000000000y\"\ntimeout = \"18446744073709551615s\"\n").unwrap();
    let from_file = format!("config file {}: timeout: \"18446744073709551615s\"", config.display());
    // The implicit ./clusterdoc.toml, the same file named by flag and by environment.
    assert_usage_error(&clusterdoc(dir.path()).output().unwrap(), &from_file);
    let named = clusterdoc(dir.path()).arg("--config").arg(&config).output().unwrap();
    assert_usage_error(&named, &from_file);
    let by_env = clusterdoc(dir.path()).env("CLUSTERDOC_CONFIG", &config).output().unwrap();
    assert_usage_error(&by_env, &from_file);
    // A flag still overrides the file's value, and a day is allowed.
    let out = clusterdoc(dir.path()).args(["--timeout", "1d", "--deadline", "5s", "--only", "hostname.case"]).output();
    assert!(out.unwrap().status.code().unwrap() < 3);
}
