//! `--app FILE`: Marathon apps as they would be POSTed (an app to
//! `/v2/apps`, or a group to `/v2/groups`), so the Marathon checks judge the
//! cluster as if they were deployed (DESIGN.md C4, what-if). Read before
//! anything is probed: a file that is not an app or a group stops the run,
//! naming the file and the JSON path.

use std::path::Path;

use serde::Deserialize;

use super::marathon::{App, wire};
use super::{Fact, Facts};

/// An app definition is small; a group of many stays well below this.
const FILE_CAP: u64 = 16 << 20;
/// Marathon's defaults for a POSTed app that leaves them out.
const DEFAULT_CPUS: f64 = 1.0;
const DEFAULT_MEM: f64 = 128.0;

/// A group as POSTed: its apps and groups, ids relative to its own.
#[derive(Deserialize)]
struct Group {
    id: Option<String>,
    #[serde(default)]
    apps: Vec<wire::App>,
    #[serde(default)]
    groups: Vec<Group>,
}

/// The apps `file` proposes, with absolute ids, marked as proposed by it.
pub fn read(file: &Path) -> Result<Vec<App>, String> {
    let shown = file.display().to_string();
    let text = super::read_run_file(file, FILE_CAP).map_err(|e| format!("--app {shown}: {e}"))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("--app {shown}: not JSON ({e})"))?;
    let is_group = value.get("apps").is_some() || value.get("groups").is_some();
    let at = |e: serde_path_to_error::Error<serde_json::Error>| {
        let path = e.path().to_string();
        format!("--app {shown}: at {}: {}", if path == "." { "the top".into() } else { path }, e.into_inner())
    };
    let mut apps = Vec::new();
    if is_group {
        let group: Group = serde_path_to_error::deserialize(value).map_err(at)?;
        flatten(group, "/", &mut apps);
    } else {
        let app: wire::App = serde_path_to_error::deserialize(value).map_err(at)?;
        apps.push((absolute("/", &app.id), app));
    }
    let mut proposed = Vec::new();
    for (id, mut app) in apps {
        if id.trim_matches('/').is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("--app {shown}: {:?} is not a Marathon app id", app.id));
        }
        app.id = id;
        app.cpus.get_or_insert(DEFAULT_CPUS);
        app.mem.get_or_insert(DEFAULT_MEM);
        proposed.push(App { proposed: Some(shown.clone()), tasks: Vec::new(), ..App::from(app) });
    }
    Ok(proposed)
}

fn flatten(group: Group, parent: &str, into: &mut Vec<(String, wire::App)>) {
    let path = group.id.as_deref().map_or_else(|| parent.to_string(), |id| absolute(parent, id));
    for app in group.apps {
        into.push((absolute(&path, &app.id), app));
    }
    for inner in group.groups {
        flatten(inner, &path, into);
    }
}

/// `id` resolved against the group `parent`, as Marathon resolves it.
fn absolute(parent: &str, id: &str) -> String {
    let joined = if id.starts_with('/') { id.to_string() } else { format!("{}/{id}", parent.trim_end_matches('/')) };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." {
            parts.pop();
        } else {
            parts.push(part);
        }
    }
    format!("/{}", parts.join("/"))
}

/// The facts the checks judge, with `proposed` deployed on Marathon: an
/// app of the same id is replaced. Marathon's apps must be known: otherwise
/// there is nothing to compare with, and the checks say why.
pub fn deploy(facts: &mut Facts, proposed: &[App]) {
    if let Some(Fact::Observed { value }) = &mut facts.marathon
        && let Fact::Observed { value: apps } = &mut value.apps
    {
        for app in proposed {
            match apps.iter_mut().find(|running| running.id == app.id) {
                Some(running) => *running = app.clone(),
                None => apps.push(app.clone()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_resolve_against_their_groups_as_marathon_resolves_them() {
        assert_eq!(absolute("/", "flink2"), "/flink2");
        assert_eq!(absolute("/flink", "flink2"), "/flink/flink2");
        assert_eq!(absolute("/flink", "/other/x"), "/other/x");
        assert_eq!(absolute("/a/b", "../c"), "/a/c");
    }

    #[test]
    fn a_group_gives_its_apps_and_a_bad_field_names_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let group = dir.path().join("group.json");
        std::fs::write(&group, r#"{"id": "/flink", "apps": [{"id": "flink2", "cmd": "x"}], "groups": [{"id": "inner", "apps": [{"id": "a", "instances": 2}]}]}"#).unwrap();
        let apps = read(&group).unwrap();
        let ids: Vec<&str> = apps.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["/flink/flink2", "/flink/inner/a"]);
        assert_eq!((apps[0].cpus, apps[0].mem, apps[1].instances), (1.0, 128.0, 2));
        assert_eq!(apps[0].proposed.as_deref(), Some(group.to_str().unwrap()));
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"{"id": "/flink", "apps": [{"id": "x", "instances": "three"}]}"#).unwrap();
        let e = read(&bad).unwrap_err();
        assert!(e.contains("bad.json: at apps[0].instances: invalid type: string \"three\""), "{e}");
    }
}
