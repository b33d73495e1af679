//! Facts: the systemd units of the cluster daemons (where each unit file is,
//! whether it is masked, enabled or static, its effective `Restart=` after
//! drop-ins, and, on a live node run by systemd, what `systemctl show` says),
//! and the Mesos cluster scripts that would manage the same daemons.
//!
//! Unit files are read from the node's file system (under `--root DIR` when
//! given), so a node can be judged without a running systemd; the live state
//! is added only when systemd is PID 1.

pub(crate) mod unit_file;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::knowledge::ClusterUnits;
use super::{Fact, Gatherer};
use crate::node_fs::{Limit, NodeRoot};

/// The unit search path of the system manager, highest priority first
/// (systemd.unit(5), "Unit File Load Path"). /lib/systemd/system is where
/// Debian and Ubuntu packages put units on systems without merged /usr.
const SEARCH_PATH: [&str; 13] = [
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/generator.late",
];
/// Where `systemctl enable` puts its symlinks (`enabled`).
const PERSISTENT_CONFIG: &str = "/etc/systemd/system";
/// Where `systemctl enable --runtime` puts them (`enabled-runtime`).
const RUNTIME_CONFIG: &str = "/run/systemd/system";
/// Directories whose symlinks pull units in (`WantedBy=`, `RequiredBy=`, `UpheldBy=`).
const DEPENDENCY_DIR_SUFFIXES: [&str; 3] = [".wants", ".requires", ".upholds"];

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemdFacts {
    /// The unit directories that exist on the node, highest priority first
    /// (paths on the node; aliases of one directory, like /lib -> /usr/lib,
    /// listed once).
    pub search_path: Vec<String>,
    /// One entry per cluster unit named in the check data, in its order.
    pub units: Vec<UnitFacts>,
    pub scripts: ClusterScripts,
    pub manager: Manager,
}

/// Whether the live state of the units could be asked for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Manager {
    /// systemd is PID 1; each unit has its `systemctl show` state.
    Running,
    /// A live node whose PID 1 is not systemd: only files were read.
    NotRunning { pid1: String },
    /// `--root DIR`: only files were read.
    #[default]
    FilesOnly,
}

/// One cluster unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitFacts {
    /// `mesos-master.service`.
    pub name: String,
    /// Where the unit was found: the first match along the search path (a
    /// path on the node). `None` when the unit is not installed.
    pub file: Option<String>,
    /// What that path resolves to when it is a symlink (an alias or a
    /// linked unit file).
    pub target: Option<String>,
    /// The state `systemctl is-enabled` reports.
    pub state: UnitFileState,
    /// The symlinks in `*.wants/`, `*.requires/`, `*.upholds/` directories of
    /// the search path that pull the unit in at boot, also those in vendor
    /// directories (which systemctl does not count as `enabled`).
    pub pulled_in_by: Vec<String>,
    /// Drop-ins applied after the unit file, in the order systemd applies them.
    pub drop_ins: Vec<String>,
    /// The effective `Restart=` after drop-ins; `None` when never set (the
    /// default is `no`).
    pub restart: Option<Sourced<Restart>>,
    /// The effective `RestartSec=` (a time span as written); `None` when not set.
    pub restart_sec: Option<Sourced<String>>,
    pub install: InstallSection,
    /// Lines systemd ignores with a warning, prefixed with their file.
    pub warnings: Vec<String>,
    /// Why the unit file or one of its drop-ins could not be read or parsed;
    /// `state` is then `bad` and nothing is known about `Restart=`.
    pub error: Option<String>,
    /// `systemctl show` for this unit when systemd runs the node.
    pub live: Option<Fact<LiveUnit>>,
}

impl UnitFacts {
    /// `Restart=` as systemd applies it (`no` when never set).
    pub fn restart_policy(&self) -> Restart {
        self.restart.as_ref().map_or(Restart::No, |s| s.value)
    }
}

/// The unit file states of `systemctl is-enabled`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitFileState {
    Enabled,
    EnabledRuntime,
    Linked,
    LinkedRuntime,
    Alias,
    Masked,
    MaskedRuntime,
    Static,
    Indirect,
    Disabled,
    Generated,
    Transient,
    /// The unit file cannot be read or parsed, or systemd stops reading one
    /// of its drop-ins early (the manager still loads the unit then).
    Bad,
    /// No unit file of this name.
    NotFound,
}

impl UnitFileState {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitFileState::Enabled => "enabled",
            UnitFileState::EnabledRuntime => "enabled-runtime",
            UnitFileState::Linked => "linked",
            UnitFileState::LinkedRuntime => "linked-runtime",
            UnitFileState::Alias => "alias",
            UnitFileState::Masked => "masked",
            UnitFileState::MaskedRuntime => "masked-runtime",
            UnitFileState::Static => "static",
            UnitFileState::Indirect => "indirect",
            UnitFileState::Disabled => "disabled",
            UnitFileState::Generated => "generated",
            UnitFileState::Transient => "transient",
            UnitFileState::Bad => "bad",
            UnitFileState::NotFound => "not-found",
        }
    }

    pub fn is_masked(self) -> bool {
        matches!(self, UnitFileState::Masked | UnitFileState::MaskedRuntime)
    }

    /// The state as `systemctl show -p UnitFileState` prints it (empty when
    /// the unit has no file).
    fn from_show(text: &str) -> Option<Self> {
        let all = [
            UnitFileState::Enabled,
            UnitFileState::EnabledRuntime,
            UnitFileState::Linked,
            UnitFileState::LinkedRuntime,
            UnitFileState::Alias,
            UnitFileState::Masked,
            UnitFileState::MaskedRuntime,
            UnitFileState::Static,
            UnitFileState::Indirect,
            UnitFileState::Disabled,
            UnitFileState::Generated,
            UnitFileState::Transient,
            UnitFileState::Bad,
        ];
        match text {
            "" => Some(UnitFileState::NotFound),
            _ => all.into_iter().find(|s| s.as_str() == text),
        }
    }
}

impl fmt::Display for UnitFileState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Restart=` of a service (systemd.service(5)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Restart {
    No,
    Always,
    OnSuccess,
    OnFailure,
    OnAbnormal,
    OnWatchdog,
    OnAbort,
}

impl Restart {
    const ALL: [Restart; 7] = [
        Restart::No,
        Restart::Always,
        Restart::OnSuccess,
        Restart::OnFailure,
        Restart::OnAbnormal,
        Restart::OnWatchdog,
        Restart::OnAbort,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Restart::No => "no",
            Restart::Always => "always",
            Restart::OnSuccess => "on-success",
            Restart::OnFailure => "on-failure",
            Restart::OnAbnormal => "on-abnormal",
            Restart::OnWatchdog => "on-watchdog",
            Restart::OnAbort => "on-abort",
        }
    }
}

impl FromStr for Restart {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Restart::ALL.into_iter().find(|r| r.as_str() == text).ok_or_else(|| format!("unknown Restart= value {text:?}"))
    }
}

impl fmt::Display for Restart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A setting's effective value and the line that set it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sourced<T> {
    pub value: T,
    /// The value as written.
    pub text: String,
    pub origin: FileLine,
}

/// A line of a file on the node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileLine {
    pub file: String,
    pub line: u32,
}

impl fmt::Display for FileLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The `[Install]` section of the unit file (drop-ins do not change it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSection {
    pub wanted_by: Vec<String>,
    pub required_by: Vec<String>,
    pub upheld_by: Vec<String>,
    pub alias: Vec<String>,
    pub also: Vec<String>,
}

impl InstallSection {
    /// Whether `systemctl enable` would create symlinks (else the unit is static).
    fn has_rules(&self) -> bool {
        !(self.wanted_by.is_empty()
            && self.required_by.is_empty()
            && self.upheld_by.is_empty()
            && self.alias.is_empty())
    }
}

/// What `systemctl show` says about a unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveUnit {
    pub active_state: ActiveState,
    /// `running`, `auto-restart` (waiting out RestartSec=), `dead`, ...
    pub sub_state: String,
    pub unit_file_state: UnitFileState,
    pub restart: Restart,
    /// How often systemd restarted the unit; `None` before systemd 235
    /// (CentOS 7 ships 219), which does not count.
    pub n_restarts: Option<u32>,
    /// `None` when no main process runs.
    pub main_pid: Option<u32>,
}

/// `ActiveState=` of a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActiveState {
    Active,
    Reloading,
    Inactive,
    Failed,
    Activating,
    Deactivating,
    Maintenance,
    Refreshing,
}

impl ActiveState {
    const ALL: [ActiveState; 8] = [
        ActiveState::Active,
        ActiveState::Reloading,
        ActiveState::Inactive,
        ActiveState::Failed,
        ActiveState::Activating,
        ActiveState::Deactivating,
        ActiveState::Maintenance,
        ActiveState::Refreshing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActiveState::Active => "active",
            ActiveState::Reloading => "reloading",
            ActiveState::Inactive => "inactive",
            ActiveState::Failed => "failed",
            ActiveState::Activating => "activating",
            ActiveState::Deactivating => "deactivating",
            ActiveState::Maintenance => "maintenance",
            ActiveState::Refreshing => "refreshing",
        }
    }

    /// Running or about to run (including waiting to be restarted).
    pub fn is_up(self) -> bool {
        matches!(self, ActiveState::Active | ActiveState::Activating | ActiveState::Reloading | ActiveState::Refreshing)
    }
}

impl fmt::Display for ActiveState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Mesos cluster scripts (`mesos-start-cluster.sh` and friends) and the
/// host lists they read, as found on the node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterScripts {
    /// Scripts present (paths on the node).
    pub scripts: Vec<String>,
    /// Deploy files present (`masters`, `slaves`, `agents`).
    pub deploy_files: Vec<DeployFile>,
}

impl ClusterScripts {
    /// Whether the node shows signs of being driven by the scripts.
    pub fn in_use(&self) -> bool {
        !self.scripts.is_empty() || !self.deploy_files.is_empty()
    }
}

/// A host list the cluster scripts read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeployFile {
    pub path: String,
    /// The hosts it lists (comments and blank lines left out).
    pub hosts: Vec<String>,
    /// Why it could not be read, when it could not.
    pub error: Option<String>,
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<SystemdFacts> {
    let units = match g.knowledge().await {
        Fact::Observed { value } => value.cluster_units.clone(),
        other => return Fact::failed(format!("check data: {}", other.problem().unwrap_or_default())),
    };
    let root = g.cfg.root.clone();
    let read = tokio::task::spawn_blocking(move || read_files(&root, &units)).await;
    let mut facts = match read {
        Ok(Some(facts)) => facts,
        Ok(None) => {
            return Fact::unavailable(format!(
                "no systemd unit directories under {} (not a systemd system)",
                g.cfg.root.display()
            ));
        }
        Err(e) => return Fact::failed(format!("reading unit files: {e}")),
    };
    if g.cfg.live() {
        facts.manager = match pid1_name() {
            Ok(name) if name == "systemd" => Manager::Running,
            Ok(name) => Manager::NotRunning { pid1: name },
            Err(e) => Manager::NotRunning { pid1: format!("unknown ({e})") },
        };
        if facts.manager == Manager::Running {
            let shows = facts.units.iter().map(|u| show(&u.name, g.cfg.timeout));
            let lives = futures::future::join_all(shows).await;
            for (unit, live) in facts.units.iter_mut().zip(lives) {
                unit.live = Some(live);
            }
        }
    }
    Fact::observed(facts)
}

fn pid1_name() -> io::Result<String> {
    Ok(std::fs::read_to_string("/proc/1/comm")?.trim().to_string())
}

/// Everything the files under `root` say; `None` when no unit directory exists.
fn read_files(root: &NodeRoot, data: &ClusterUnits) -> Option<SystemdFacts> {
    let tree = Tree::new(root);
    if tree.dirs.is_empty() {
        return None;
    }
    Some(SystemdFacts {
        search_path: tree.dirs.iter().map(|d| d.node.display().to_string()).collect(),
        units: data.units.iter().map(|name| tree.unit(&unit_name(name))).collect(),
        scripts: cluster_scripts(root, data),
        manager: Manager::FilesOnly,
    })
}

/// A unit name as systemctl completes it: `mesos-master` -> `mesos-master.service`.
fn unit_name(name: &str) -> String {
    if name.contains('.') { name.to_string() } else { format!("{name}.service") }
}

/// A unit directory that exists on the node.
struct UnitDir {
    /// As listed in the search path.
    node: PathBuf,
    /// What it resolves to (to list each real directory once).
    resolved: PathBuf,
}

/// The unit directories of one node.
struct Tree<'a> {
    root: &'a NodeRoot,
    dirs: Vec<UnitDir>,
}

/// Where the unit file of a name was found.
enum Located {
    NotFound,
    /// Empty, or a symlink to /dev/null.
    Masked {
        entry: PathBuf,
    },
    Found {
        entry: PathBuf,
        resolved: PathBuf,
        content: Vec<u8>,
    },
    Unreadable {
        entry: PathBuf,
        error: String,
    },
}

impl<'a> Tree<'a> {
    fn new(root: &'a NodeRoot) -> Self {
        let mut dirs: Vec<UnitDir> = Vec::new();
        for listed in SEARCH_PATH {
            let node = PathBuf::from(listed);
            let Ok(resolved) = root.resolve(&node) else { continue };
            let is_dir = root.metadata(&resolved).is_ok_and(|m| m.is_dir());
            if is_dir && !dirs.iter().any(|d| d.resolved == resolved) {
                dirs.push(UnitDir { node, resolved });
            }
        }
        Tree { root, dirs }
    }

    fn unit(&self, name: &str) -> UnitFacts {
        let mut facts = UnitFacts {
            name: name.to_string(),
            file: None,
            target: None,
            state: UnitFileState::NotFound,
            pulled_in_by: Vec::new(),
            drop_ins: Vec::new(),
            restart: None,
            restart_sec: None,
            install: InstallSection::default(),
            warnings: Vec::new(),
            error: None,
            live: None,
        };
        match self.locate_unit(name) {
            Located::NotFound => {}
            Located::Masked { entry } => {
                facts.file = Some(display(&entry));
                facts.state = if entry.starts_with(RUNTIME_CONFIG) {
                    UnitFileState::MaskedRuntime
                } else {
                    UnitFileState::Masked
                };
            }
            Located::Unreadable { entry, error } => {
                facts.file = Some(display(&entry));
                facts.state = UnitFileState::Bad;
                facts.error = Some(error);
            }
            Located::Found { entry, resolved, content } => {
                self.read_unit(name, &entry, &resolved, &content, &mut facts)
            }
        }
        facts
    }

    /// Fills in what the unit file `resolved` (found as `entry`) and its
    /// drop-ins and symlinks say.
    fn read_unit(&self, name: &str, entry: &Path, resolved: &Path, content: &[u8], facts: &mut UnitFacts) {
        facts.file = Some(display(entry));
        facts.target = (resolved != entry).then(|| display(resolved));
        match self.load(name, resolved, content) {
            Ok(files) => {
                facts.drop_ins = files.iter().skip(1).map(|(path, _)| path.clone()).collect();
                facts.install = install_section(&files);
                let settings = Settings::of(&files);
                facts.restart = settings.restart;
                facts.restart_sec = settings.restart_sec;
                facts.warnings = files.iter().flat_map(|(path, f)| f.warnings.lines(&format!("{path}: "))).collect();
                facts.warnings.extend(settings.warnings.lines(""));
                facts.warnings.extend(files.iter().filter_map(|(path, f)| {
                    f.first_bare_line_end.map(|line| {
                        format!(
                            "{path}: line {line} ends with a bare CR or a NUL: systemd 252 ends the line there, as \
                             judged here; older systemd (CentOS 7's 219) reads on to the next LF"
                        )
                    })
                }));
                let stopped: Vec<String> = files
                    .iter()
                    .filter_map(|(path, f)| {
                        f.stopped.as_ref().map(|stop| {
                            format!(
                                "{path}: {stop}: systemd stops reading this drop-in here; the lines before it apply"
                            )
                        })
                    })
                    .collect();
                facts.pulled_in_by = self.dependency_links(name, &facts.install.alias);
                // `systemctl is-enabled` says `bad` for such a unit, though the manager loads it.
                facts.state =
                    if stopped.is_empty() { self.enablement(name, entry, resolved, facts) } else { UnitFileState::Bad };
                facts.warnings.extend(stopped);
            }
            Err(e) => {
                facts.error = Some(e);
                facts.pulled_in_by = self.dependency_links(name, &[]);
                facts.state = UnitFileState::Bad;
            }
        }
    }

    /// The unit file and its drop-ins, parsed, in the order systemd applies
    /// them. systemd refuses the unit when it stops reading the unit file
    /// early (load-fragment.c unit_load_fragment() returns the error), but
    /// applies a drop-in up to the line it stops at (load-dropin.c
    /// unit_load_dropin() ignores config_parse()'s result).
    fn load(&self, name: &str, file: &Path, content: &[u8]) -> Result<Vec<(String, unit_file::UnitFile)>, String> {
        let shown = display(file);
        let main = unit_file::parse(content);
        if let Some(stop) = &main.stopped {
            return Err(format!("{shown}: {stop}"));
        }
        let mut files = vec![(shown, main)];
        let names = self.names(name, file);
        self.check_alias_order_is_irrelevant(&names)?;
        for path in self.drop_in_paths(&names) {
            let shown = display(&path);
            let resolved = self.root.resolve(&path).map_err(|e| format!("drop-in {shown}: {e}"))?;
            if resolved == Path::new("/dev/null") {
                continue;
            }
            let content = match self.root.read(&path, Limit::UNIT_FILE) {
                Ok(Some(content)) => content,
                Ok(None) => return Err(format!("drop-in {shown}: {}", io::Error::from(io::ErrorKind::NotFound))),
                Err(e) => return Err(format!("drop-in {e}")),
            };
            files.push((shown, unit_file::parse(&content)));
        }
        Ok(files)
    }

    /// The names of the unit `name` whose unit file is `file`, in the order
    /// systemd reads their drop-in directories. The unit is named after its
    /// file (load-fragment.c: merge_by_names() with `basename(fragment)`), and
    /// that name comes first; then its other names (dropin.c
    /// unit_file_find_dropin_paths()): the one asked for and every symlink in
    /// a unit directory that names the same file. systemd keeps those in a
    /// hash set, in no fixed order; here they are sorted.
    fn names(&self, name: &str, file: &Path) -> Vec<String> {
        let id = file.file_name().and_then(|f| f.to_str()).unwrap_or(name).to_string();
        let mut others: Vec<String> =
            self.dirs.iter().filter_map(|d| d.node.to_str()).flat_map(|dir| self.alias_links(dir, file)).collect();
        others.push(name.to_string());
        others.sort();
        others.dedup();
        others.retain(|n| *n != id);
        std::iter::once(id).chain(others).collect()
    }

    /// systemd reads the drop-in directories of a unit's aliases in hash-set
    /// order, which nobody can predict: when two aliases each have a drop-in
    /// of the same file name (and the unit file's own name has none), which
    /// one applies is unknown, so the unit cannot be judged.
    fn check_alias_order_is_irrelevant(&self, names: &[String]) -> Result<(), String> {
        let Some((id, aliases)) = names.split_first() else { return Ok(()) };
        if aliases.len() < 2 {
            return Ok(());
        }
        let by_name = |name: &String| -> BTreeMap<OsString, PathBuf> {
            self.drop_in_paths(std::slice::from_ref(name))
                .into_iter()
                .filter_map(|p| Some((p.file_name()?.to_os_string(), p)))
                .collect()
        };
        let own = by_name(id);
        let mut seen: BTreeMap<OsString, PathBuf> = BTreeMap::new();
        for alias in aliases {
            for (file_name, path) in by_name(alias) {
                if own.contains_key(&file_name) {
                    continue;
                }
                match seen.get(&file_name) {
                    Some(other) if *other != path => {
                        return Err(format!(
                            "drop-ins {} and {} belong to different aliases of the unit, and systemd applies only \
                             one of them, in an order it does not fix",
                            display(other),
                            display(&path)
                        ));
                    }
                    _ => {
                        seen.insert(file_name, path);
                    }
                }
            }
        }
        Ok(())
    }

    /// Where systemd finds the unit file of `name`. An alias (a symlink in a
    /// unit directory to a unit file of another name there) is followed by
    /// name, not by path: systemd takes the first file of the target's name
    /// along the search path (unit-file.c unit_ids_map_get()), which may be
    /// another copy than the one the symlink points at.
    fn locate_unit(&self, name: &str) -> Located {
        let located = self.locate(name);
        let Located::Found { entry, resolved, .. } = &located else { return located };
        let Some(target) = resolved.file_name().and_then(|f| f.to_str()) else { return located };
        let in_unit_dir = self.dirs.iter().any(|d| resolved.parent() == Some(d.resolved.as_path()));
        if target == name || !in_unit_dir {
            return located;
        }
        match self.locate(target) {
            Located::Found { resolved, content, .. } => Located::Found { entry: entry.clone(), resolved, content },
            // Masked or unreadable under the target's name: say where.
            other => other,
        }
    }

    /// The first entry named `name` along the search path, and what it is.
    fn locate(&self, name: &str) -> Located {
        let Some(entry) = self.dirs.iter().map(|d| d.node.join(name)).find(|p| self.root.symlink_metadata(p).is_ok())
        else {
            return Located::NotFound;
        };
        let unreadable = |error: String| Located::Unreadable { entry: entry.clone(), error };
        let resolved = match self.root.resolve(&entry) {
            Ok(r) => r,
            Err(e) => return unreadable(format!("{}: {e}", entry.display())),
        };
        if resolved == Path::new("/dev/null") {
            return Located::Masked { entry };
        }
        match self.root.read(&entry, Limit::UNIT_FILE) {
            Ok(Some(content)) if content.is_empty() => Located::Masked { entry },
            Ok(Some(content)) => Located::Found { entry, resolved, content },
            Ok(None) => {
                unreadable(format!("{} is a symlink to {}, which does not exist", entry.display(), resolved.display()))
            }
            Err(e) => unreadable(e.to_string()),
        }
    }

    /// The drop-ins of a unit with these names, in the order systemd applies
    /// them: `*.conf` files, one per file name, sorted by file name, the
    /// first directory in `drop_in_dirs` order holding a name winning.
    fn drop_in_paths(&self, names: &[String]) -> Vec<PathBuf> {
        let mut chosen: BTreeMap<OsString, PathBuf> = BTreeMap::new();
        for node_dir in self.drop_in_dirs(names) {
            let Ok(entries) = self.root.read_dir(&node_dir) else { continue };
            for entry in entries {
                let file_name = entry.name;
                if is_drop_in_name(&file_name) {
                    chosen.entry(file_name.clone()).or_insert_with(|| node_dir.join(&file_name));
                }
            }
        }
        chosen.into_values().collect()
    }

    /// Drop-in directories by precedence, as systemd's dropin.c lists them:
    /// for each name and unit directory, `mesos-master.service.d` then its
    /// truncated prefixes (`mesos-.service.d`); the per-type `service.d` of
    /// every unit directory last.
    fn drop_in_dirs(&self, names: &[String]) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = names
            .iter()
            .flat_map(|name| {
                self.dirs.iter().flat_map(move |d| drop_in_dir_names(name).into_iter().map(|n| d.node.join(n)))
            })
            .collect();
        if let Some((_, kind)) = names.first().and_then(|n| n.rsplit_once('.')) {
            dirs.extend(self.dirs.iter().map(|d| d.node.join(format!("{kind}.d"))));
        }
        dirs
    }

    /// Symlinks named after the unit (or one of its aliases) in dependency
    /// directories (`multi-user.target.wants/`) of the search path.
    fn dependency_links(&self, name: &str, aliases: &[String]) -> Vec<String> {
        let names: Vec<&str> = std::iter::once(name).chain(aliases.iter().map(String::as_str)).collect();
        let mut links = Vec::new();
        for dir in &self.dirs {
            for dependency_dir in self.subdirs(&dir.node) {
                for name in &names {
                    let link = dependency_dir.join(name);
                    let is_link = self.root.symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink());
                    if is_link {
                        links.push(display(&link));
                    }
                }
            }
        }
        links
    }

    /// The `*.wants`, `*.requires`, `*.upholds` directories of a unit directory.
    fn subdirs(&self, dir: &Path) -> Vec<PathBuf> {
        let Ok(entries) = self.root.read_dir(dir) else { return Vec::new() };
        entries
            .into_iter()
            .filter(|e| e.file_type.is_dir())
            .map(|e| e.name)
            .filter(|n| DEPENDENCY_DIR_SUFFIXES.iter().any(|s| n.to_string_lossy().ends_with(s)))
            .map(|n| dir.join(n))
            .collect()
    }

    /// The state `systemctl is-enabled` derives from the symlinks and the
    /// `[Install]` section of a unit that is neither masked nor broken.
    fn enablement(&self, name: &str, entry: &Path, resolved: &Path, facts: &UnitFacts) -> UnitFileState {
        if entry != resolved && resolved.file_name().is_some_and(|f| f != name) {
            return UnitFileState::Alias;
        }
        let in_config = |config: &str| {
            facts.pulled_in_by.iter().any(|l| Path::new(l).starts_with(config))
                || self.alias_links(config, resolved).iter().any(|link| facts.install.alias.contains(link))
        };
        if in_config(PERSISTENT_CONFIG) {
            return UnitFileState::Enabled;
        }
        if in_config(RUNTIME_CONFIG) {
            return UnitFileState::EnabledRuntime;
        }
        if entry != resolved && !self.dirs.iter().any(|d| resolved.parent() == Some(d.resolved.as_path())) {
            if entry.starts_with(PERSISTENT_CONFIG) {
                return UnitFileState::Linked;
            }
            if entry.starts_with(RUNTIME_CONFIG) {
                return UnitFileState::LinkedRuntime;
            }
        }
        let known_elsewhere =
            [PERSISTENT_CONFIG, RUNTIME_CONFIG].iter().any(|c| !self.alias_links(c, resolved).is_empty());
        if known_elsewhere || (!facts.install.has_rules() && !facts.install.also.is_empty()) {
            UnitFileState::Indirect
        } else if facts.install.has_rules() {
            UnitFileState::Disabled
        } else {
            UnitFileState::Static
        }
    }

    /// The names of the top-level symlinks of a configuration directory that
    /// give the unit file `resolved` another name.
    fn alias_links(&self, config: &str, resolved: &Path) -> Vec<String> {
        let dir = Path::new(config);
        let Ok(entries) = self.root.read_dir(dir) else { return Vec::new() };
        entries
            .into_iter()
            .filter(|e| e.file_type.is_symlink())
            .filter(|e| resolved.file_name() != Some(e.name.as_os_str()))
            .filter(|e| self.root.resolve(dir.join(&e.name)).is_ok_and(|target| target == resolved))
            .map(|e| e.name.to_string_lossy().into_owned())
            .collect()
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// A unit's own drop-in directory name and those of its truncated dash
/// prefixes, most specific first: `foo-bar-baz.service.d`,
/// `foo-bar-.service.d`, `foo-.service.d` (systemd.unit(5)).
fn drop_in_dir_names(unit: &str) -> Vec<String> {
    let mut names = vec![format!("{unit}.d")];
    if let Some((stem, kind)) = unit.rsplit_once('.') {
        let prefixes = stem.trim_end_matches('-').rmatch_indices('-').filter(|(i, _)| *i > 0);
        names.extend(prefixes.map(|(i, _)| format!("{}-.{kind}.d", &stem[..i])));
    }
    names
}

/// Whether systemd reads a file of this name in a drop-in directory: a
/// `.conf` file that is not hidden (conf-files.c files_add() lists with
/// FOREACH_DIRENT, which skips names starting with a dot).
fn is_drop_in_name(file_name: &std::ffi::OsStr) -> bool {
    let name = file_name.as_encoded_bytes();
    name.ends_with(b".conf") && !name.starts_with(b".")
}

/// The `[Service]` settings the check needs, as later lines override them.
#[derive(Default)]
struct Settings {
    restart: Option<Sourced<Restart>>,
    restart_sec: Option<Sourced<String>>,
    warnings: unit_file::Warnings,
}

impl Settings {
    /// The settings after applying `files` (path, parsed) in order.
    fn of(files: &[(String, unit_file::UnitFile)]) -> Self {
        let mut settings = Settings::default();
        for (path, file) in files {
            for a in file.assignments.iter().filter(|a| a.section == "Service") {
                settings.apply(FileLine { file: path.clone(), line: a.line }, a);
            }
        }
        settings
    }

    /// `Restart=` is parsed by config_parse_service_restart(), made by
    /// `DEFINE_CONFIG_PARSE_ENUM` (load-fragment.c, conf-parser.h): a value
    /// it does not know, the empty one included, is logged ("Failed to parse
    /// service restart specifier, ignoring") and the previous value stands.
    /// `RestartSec=` (config_parse_sec) ignores an empty value the same way.
    fn apply(&mut self, origin: FileLine, a: &unit_file::Assignment) {
        match a.key.as_str() {
            "Restart" => match a.value.parse() {
                Ok(value) => self.restart = Some(Sourced { value, text: a.value.clone(), origin }),
                Err(e) => self.warnings.push(format!(
                    "{origin}: {e}: systemd ignores it (\"Failed to parse service restart specifier, ignoring\"){}",
                    self.restart
                        .as_ref()
                        .map(|r| format!(", Restart={} from {} stands", r.value, r.origin))
                        .unwrap_or_default()
                )),
            },
            "RestartSec" if a.value.is_empty() => {
                self.warnings.push(format!("{origin}: empty RestartSec= is not a time span: systemd ignores it"))
            }
            "RestartSec" => self.restart_sec = Some(Sourced { value: a.value.clone(), text: a.value.clone(), origin }),
            _ => {}
        }
    }
}

/// The `[Install]` lists of a unit file and its drop-ins; an empty
/// assignment clears a list.
fn install_section(files: &[(String, unit_file::UnitFile)]) -> InstallSection {
    let list = |key: &str| {
        let mut items: Vec<String> = Vec::new();
        for a in files.iter().flat_map(|(_, f)| f.values("Install", key)) {
            if a.value.is_empty() {
                items.clear();
            } else {
                items.extend(a.value.split_whitespace().map(String::from));
            }
        }
        items
    };
    InstallSection {
        wanted_by: list("WantedBy"),
        required_by: list("RequiredBy"),
        upheld_by: list("UpheldBy"),
        alias: list("Alias"),
        also: list("Also"),
    }
}

/// The cluster scripts and deploy files present under `root`.
fn cluster_scripts(root: &NodeRoot, data: &ClusterUnits) -> ClusterScripts {
    let exists = |node: &str| root.symlink_metadata(node).is_ok();
    let scripts = data
        .script_dirs
        .iter()
        .flat_map(|dir| data.scripts.iter().map(move |s| format!("{}/{s}", dir.trim_end_matches('/'))))
        .filter(|p| exists(p))
        .collect();
    let deploy_files = data
        .deploy_files
        .iter()
        .filter(|p| exists(p))
        .map(|path| match root.read(path, Limit::CONFIG) {
            Ok(Some(bytes)) => {
                DeployFile { path: path.clone(), hosts: host_list(&String::from_utf8_lossy(&bytes)), error: None }
            }
            Ok(None) => DeployFile {
                path: path.clone(),
                hosts: Vec::new(),
                error: Some("a symlink to a file that does not exist".into()),
            },
            Err(e) => DeployFile { path: path.clone(), hosts: Vec::new(), error: Some(e.to_string()) },
        })
        .collect();
    ClusterScripts { scripts, deploy_files }
}

/// The hosts of a `masters` / `slaves` file: one per line, `#` comments.
fn host_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

const SHOW_PROPERTIES: &str = "ActiveState,SubState,UnitFileState,Restart,NRestarts,MainPID";

/// `systemctl show` for one unit, bounded by the run's timeout.
pub(crate) async fn show(unit: &str, timeout: Duration) -> Fact<LiveUnit> {
    let mut command = tokio::process::Command::new("systemctl");
    command.args(["show", "--no-pager", "-p", SHOW_PROPERTIES, "--", unit]).kill_on_drop(true);
    let what = format!("systemctl show {unit}");
    let output = match tokio::time::timeout(timeout, command.output()).await {
        Err(_) => return Fact::failed(format!("{what}: no answer within {}", humantime::format_duration(timeout))),
        Ok(Err(e)) => return Fact::failed(format!("{what}: {e}")),
        Ok(Ok(output)) => output,
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Fact::failed(format!("{what}: {} {}", output.status, stderr.trim()));
    }
    match parse_show(&String::from_utf8_lossy(&output.stdout)) {
        Ok(live) => Fact::observed(live),
        Err(e) => Fact::failed(format!("{what}: {e}")),
    }
}

/// Parses the `Key=value` lines of `systemctl show -p ...`.
pub fn parse_show(text: &str) -> Result<LiveUnit, String> {
    let properties: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let get = |key: &str| properties.get(key).copied().ok_or_else(|| format!("no {key}= in the output"));
    let active = get("ActiveState")?;
    let file_state = get("UnitFileState")?;
    let restart = get("Restart")?;
    Ok(LiveUnit {
        active_state: ActiveState::ALL
            .into_iter()
            .find(|s| s.as_str() == active)
            .ok_or_else(|| format!("unknown ActiveState={active}"))?,
        sub_state: get("SubState")?.to_string(),
        unit_file_state: UnitFileState::from_show(file_state)
            .ok_or_else(|| format!("unknown UnitFileState={file_state}"))?,
        restart: restart.parse()?,
        n_restarts: match properties.get("NRestarts") {
            None | Some(&"") => None,
            Some(n) => Some(n.parse().map_err(|_| format!("NRestarts={n} is not a count"))?),
        },
        main_pid: match get("MainPID")?.parse::<u32>() {
            Ok(0) => None,
            Ok(pid) => Some(pid),
            Err(_) => return Err(format!("MainPID={} is not a pid", get("MainPID")?)),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_in_directories_include_the_prefixes() {
        assert_eq!(
            drop_in_dir_names("foo-bar-baz.service"),
            ["foo-bar-baz.service.d", "foo-bar-.service.d", "foo-.service.d"]
        );
        assert_eq!(drop_in_dir_names("marathon.service"), ["marathon.service.d"]);
        // A leading dash is not a prefix; a trailing one is chopped once.
        assert_eq!(drop_in_dir_names("-x.service"), ["-x.service.d"]);
        assert_eq!(drop_in_dir_names("a-.service"), ["a-.service.d"]);
    }

    fn parsed(path: &str, text: &str) -> (String, unit_file::UnitFile) {
        (path.to_string(), unit_file::parse(text.as_bytes()))
    }

    /// load-fragment.c: `DEFINE_CONFIG_PARSE_ENUM(config_parse_service_restart, ...,
    /// "Failed to parse service restart specifier")`; conf-parser.h: on a value
    /// the enum does not know, `log_syntax(..., msg ", ignoring: %s", rvalue);
    /// return 0;` without touching the setting. The empty value is one of them.
    #[test]
    fn unknown_and_empty_values_are_ignored_as_systemd_does() {
        let files = vec![
            parsed("/usr/lib/systemd/system/x.service", "[Service]\nRestart=always\nRestartSec=20\n"),
            parsed("/etc/systemd/system/x.service.d/a.conf", "[Service]\nRestart=sometimes\nRestartSec=\n"),
            parsed("/etc/systemd/system/x.service.d/b.conf", "[Service]\nRestart=\n"),
        ];
        let settings = Settings::of(&files);
        let restart = settings.restart.unwrap();
        assert_eq!(
            (restart.value, restart.origin.to_string()),
            (Restart::Always, "/usr/lib/systemd/system/x.service:2".into())
        );
        assert_eq!(settings.restart_sec.unwrap().origin.to_string(), "/usr/lib/systemd/system/x.service:3");
        assert_eq!(
            settings.warnings.listed,
            [
                "/etc/systemd/system/x.service.d/a.conf:2: unknown Restart= value \"sometimes\": systemd ignores it \
                 (\"Failed to parse service restart specifier, ignoring\"), Restart=always from \
                 /usr/lib/systemd/system/x.service:2 stands",
                "/etc/systemd/system/x.service.d/a.conf:3: empty RestartSec= is not a time span: systemd ignores it",
                "/etc/systemd/system/x.service.d/b.conf:2: unknown Restart= value \"\": systemd ignores it \
                 (\"Failed to parse service restart specifier, ignoring\"), Restart=always from \
                 /usr/lib/systemd/system/x.service:2 stands",
            ]
        );
    }

    #[test]
    fn hidden_and_other_files_are_not_drop_ins() {
        let is = |name: &str| is_drop_in_name(std::ffi::OsStr::new(name));
        assert!(is("10-restart.conf") && is("a.b.conf"));
        assert!(!is(".10-restart.conf") && !is(".conf") && !is("x.conf~") && !is("x.confx"));
    }

    #[test]
    fn install_lists_split_and_reset_across_drop_ins() {
        let files = vec![
            parsed("u", "[Install]\nWantedBy=a.target b.target\nAlias=x.service\n"),
            parsed("d", "[Install]\nAlias=\nAlso=y.service\n"),
        ];
        let install = install_section(&files);
        assert_eq!(install.wanted_by, ["a.target", "b.target"]);
        assert!(install.alias.is_empty());
        assert_eq!(install.also, ["y.service"]);
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("usr/lib/systemd/system")).unwrap();
        std::os::unix::fs::symlink("usr/lib", r.join("lib")).unwrap();
        std::fs::create_dir_all(r.join("etc/systemd/system")).unwrap();
        std::os::unix::fs::symlink("/lib/systemd/system/x.service", r.join("etc/systemd/system/x.service")).unwrap();
        let root = NodeRoot::new(r).unwrap();
        assert_eq!(
            root.resolve("/etc/systemd/system/x.service").unwrap(),
            Path::new("/usr/lib/systemd/system/x.service")
        );
        // /lib is the same directory as /usr/lib: listed once.
        let tree = Tree::new(&root);
        let listed: Vec<_> = tree.dirs.iter().map(|d| d.node.display().to_string()).collect();
        assert_eq!(listed, ["/etc/systemd/system", "/usr/lib/systemd/system"]);
    }

    #[test]
    fn bare_unit_names_are_services() {
        assert_eq!(unit_name("mesos-master"), "mesos-master.service");
        assert_eq!(unit_name("zookeeper.service"), "zookeeper.service");
    }

    #[test]
    fn deploy_files_list_hosts() {
        assert_eq!(host_list("# masters\nm1\n\n m2  # the second\n"), ["m1", "m2"]);
    }

    #[test]
    fn systemctl_show_output_parses() {
        let live = parse_show(
            "ActiveState=activating\nSubState=auto-restart\nUnitFileState=enabled\nRestart=always\nNRestarts=4\nMainPID=0\n",
        )
        .unwrap();
        assert_eq!(live.active_state, ActiveState::Activating);
        assert_eq!(live.sub_state, "auto-restart");
        assert_eq!(live.unit_file_state, UnitFileState::Enabled);
        assert_eq!((live.restart, live.n_restarts, live.main_pid), (Restart::Always, Some(4), None));
        // systemd 219 (CentOS 7) has no NRestarts; a missing unit has no file state.
        let old = parse_show("ActiveState=inactive\nSubState=dead\nUnitFileState=\nRestart=no\nMainPID=0\n").unwrap();
        assert_eq!((old.n_restarts, old.unit_file_state), (None, UnitFileState::NotFound));
        assert!(parse_show("ActiveState=sideways\nSubState=x\nUnitFileState=\nRestart=no\nMainPID=0\n").is_err());
        assert!(parse_show("garbage").unwrap_err().contains("ActiveState"));
    }
}
