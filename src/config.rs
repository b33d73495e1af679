//! Settings layers -> `Config`: the command line (flags and their environment
//! variables) over the TOML file over defaults, keeping track of which
//! targets the user named (explicit) and which are implicit defaults.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::node_fs::NodeRoot;
use crate::target::{BadTarget, Phase, Role, Target, ZkTarget};
use crate::trust::{self, Ignored};
use crate::version::Version;

pub const DEFAULT_MESOS: &str = "http://127.0.0.1:5050";
pub const DEFAULT_MARATHON: &str = "http://127.0.0.1:8080";
pub const DEFAULT_ZK: &str = "zk://127.0.0.1:2181/marathon";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);
const DEFAULT_SSH: &str = "ssh";
/// Nodes worked on at once: pdsh's default.
const DEFAULT_FANOUT: usize = 32;
const DEFAULT_REMOTE_BIN: &str = "auto";
const DEFAULT_CONFIG_FILES: [&str; 2] = ["clusterdoc.toml", "/etc/clusterdoc/clusterdoc.toml"];

/// Everything a run needs to know about where to look and how long to wait.
#[derive(Clone, Debug)]
pub struct Config {
    pub mesos: Vec<Target>,
    pub marathon: Target,
    pub zk: ZkTarget,
    pub flink: Vec<Target>,
    /// `/`, or the directory named with `--root`: node files are read
    /// only through it.
    pub root: NodeRoot,
    pub roles: Vec<Role>,
    pub expect_marathon_version: Option<Version>,
    pub expect_flink_version: Option<Version>,
    pub timeout: Duration,
    pub deadline: Duration,
    pub ca_cert: Option<PathBuf>,
    pub insecure: bool,
    pub checks_dirs: Vec<PathBuf>,
    /// The fleet's nodes as listed (hosts and `@FILE`s; `facts::fleet`
    /// reads and validates them), empty without a fleet.
    pub nodes: Vec<String>,
    /// The command that reaches a node, unsplit.
    pub ssh: String,
    pub fanout: usize,
    /// `auto`, `push` or a path on the node.
    pub remote_bin: String,
    /// `http://{host}:9847`: pull each node's snapshot from its server
    /// instead of using ssh (`facts::fleet` checks it).
    pub pull: Option<String>,
    /// `--waivers`: accepted problems (`policy` reads it).
    pub waivers: Option<PathBuf>,
    /// `--baseline`: an earlier JSON report (`policy` reads it).
    pub baseline: Option<PathBuf>,
    /// `--phase`: before or after a deploy.
    pub phase: Option<Phase>,
    /// `--wait`: rerun the checks that did not pass for up to this long
    /// (within `deadline`); zero: once.
    pub wait: Duration,
    /// `--app`: Marathon apps to judge as if deployed (files; `plan` reads
    /// them before anything is probed).
    pub apps: Vec<PathBuf>,
    /// The config file in use, if any.
    pub config_file: Option<PathBuf>,
    /// Config files found but not used (untrusted, or inside `--root`).
    pub ignored: Vec<Ignored>,
}

impl Config {
    /// True when facts come from the running node; false under `--root DIR`.
    pub fn live(&self) -> bool {
        self.root.is_live()
    }

    /// The settings of a run: each one from the command line, else the
    /// config file (`config_file`, else the first usable implicit one), else
    /// its default; pack directories from both.
    pub fn resolve(config_file: Option<&Path>, flags: &Settings) -> Result<Self, ConfigError> {
        let loaded = LoadedConfig::load(config_file, flags.root.as_deref())?;
        let file = &loaded.settings;
        let either = |flag: &Option<String>, key: &Option<String>| flag.as_ref().or(key.as_ref()).cloned();
        Ok(Config {
            mesos: targets(either_list(&flags.mesos, &file.mesos), DEFAULT_MESOS)?,
            marathon: target(either(&flags.marathon, &file.marathon), DEFAULT_MARATHON)?,
            zk: match either(&flags.zk, &file.zk) {
                Some(text) => ZkTarget::parse(&text, true)?,
                None => ZkTarget::parse(DEFAULT_ZK, false)?,
            },
            flink: either_list(&flags.flink, &file.flink)
                .unwrap_or_default()
                .iter()
                .map(|f| Target::parse(f, true))
                .collect::<Result<_, _>>()?,
            root: node_root(flags.root.as_ref().or(file.root.as_ref()))?,
            roles: flags.role.as_ref().or(file.role.as_ref()).cloned().unwrap_or_default(),
            expect_marathon_version: version(
                either(&flags.expect_marathon_version, &file.expect_marathon_version),
                "--expect-marathon-version",
            )?,
            expect_flink_version: version(
                either(&flags.expect_flink_version, &file.expect_flink_version),
                "--expect-flink-version",
            )?,
            timeout: loaded.duration(&flags.timeout, &file.timeout, "timeout", DEFAULT_TIMEOUT)?,
            deadline: loaded.duration(&flags.deadline, &file.deadline, "deadline", DEFAULT_DEADLINE)?,
            ca_cert: flags.ca_cert.as_ref().or(file.ca_cert.as_ref()).cloned(),
            insecure: flags.insecure.unwrap_or(false) || file.insecure.unwrap_or(false),
            checks_dirs: file.checks_dir.iter().chain(&flags.checks_dir).flatten().cloned().collect(),
            nodes: either_list(&flags.nodes, &file.nodes).unwrap_or_default(),
            ssh: either(&flags.ssh, &file.ssh).unwrap_or_else(|| DEFAULT_SSH.into()),
            fanout: loaded.fanout(flags.fanout, file.fanout)?,
            remote_bin: either(&flags.remote_bin, &file.remote_bin).unwrap_or_else(|| DEFAULT_REMOTE_BIN.into()),
            pull: either(&flags.pull, &file.pull),
            waivers: flags.waivers.as_ref().or(file.waivers.as_ref()).cloned(),
            baseline: flags.baseline.as_ref().or(file.baseline.as_ref()).cloned(),
            phase: flags.phase.or(file.phase),
            wait: loaded.duration(&flags.wait, &file.wait, "wait", Duration::ZERO)?,
            apps: flags.apps.as_ref().or(file.apps.as_ref()).cloned().unwrap_or_default(),
            config_file: loaded.path.clone(),
            ignored: loaded.ignored.clone(),
        })
    }
}

/// The items of the first layer that names a list.
fn either_list(flag: &Option<StringOrList>, key: &Option<StringOrList>) -> Option<Vec<String>> {
    flag.as_ref().or(key.as_ref()).map(StringOrList::to_vec)
}

/// Named targets, else the implicit default.
fn targets(named: Option<Vec<String>>, default: &str) -> Result<Vec<Target>, BadTarget> {
    match named {
        Some(list) => list.iter().map(|text| Target::parse(text, true)).collect(),
        None => Ok(vec![Target::parse(default, false)?]),
    }
}

/// The named target, else the implicit default.
fn target(named: Option<String>, default: &str) -> Result<Target, BadTarget> {
    match named {
        Some(text) => Target::parse(&text, true),
        None => Target::parse(default, false),
    }
}

fn node_root(dir: Option<&PathBuf>) -> Result<NodeRoot, ConfigError> {
    match dir {
        Some(dir) => NodeRoot::new(dir).map_err(|e| ConfigError::Value("--root".into(), e)),
        None => Ok(NodeRoot::live()),
    }
}

fn version(text: Option<String>, flag: &str) -> Result<Option<Version>, ConfigError> {
    text.map(|v| v.parse().map_err(|e: crate::version::BadVersion| ConfigError::Value(flag.into(), e.to_string())))
        .transpose()
}

/// The longest `--timeout` or `--deadline`: a run is a diagnosis, not a
/// watch, and every time limit is `now + duration`, which must not overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// `500ms`, `3s`, `1m`; zero is refused (it would make every probe fail), and
/// so is anything longer than [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| format!("{text:?}: {e} (e.g. 500ms, 3s, 1m)"))?;
    if d.is_zero() {
        return Err(format!("{text:?}: must be more than zero"));
    }
    if d > MAX_DURATION {
        return Err(format!("{text:?}: longer than the most allowed, {}", humantime::format_duration(MAX_DURATION)));
    }
    Ok(d)
}

/// One layer of settings: the command line (flags and their environment
/// variables) or the TOML config file; unset is `None`. Unknown keys in the
/// file are errors: a typo must not silently fall back to a default target.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub mesos: Option<StringOrList>,
    pub marathon: Option<String>,
    pub zk: Option<String>,
    pub flink: Option<StringOrList>,
    pub root: Option<PathBuf>,
    pub role: Option<Vec<Role>>,
    pub expect_marathon_version: Option<String>,
    pub expect_flink_version: Option<String>,
    pub timeout: Option<String>,
    pub deadline: Option<String>,
    pub ca_cert: Option<PathBuf>,
    pub insecure: Option<bool>,
    pub checks_dir: Option<Vec<PathBuf>>,
    pub nodes: Option<StringOrList>,
    pub ssh: Option<String>,
    pub fanout: Option<usize>,
    pub remote_bin: Option<String>,
    pub pull: Option<String>,
    pub waivers: Option<PathBuf>,
    pub baseline: Option<PathBuf>,
    pub phase: Option<Phase>,
    pub wait: Option<String>,
    pub apps: Option<Vec<PathBuf>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    /// The items, also when given as `a, b`.
    fn to_vec(&self) -> Vec<String> {
        let items = match self {
            StringOrList::One(s) => std::slice::from_ref(s),
            StringOrList::Many(v) => v.as_slice(),
        };
        items
            .iter()
            .flat_map(|item| item.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }
}

/// The config file of a run: its settings, where they came from, and the
/// implicit files that were passed over.
#[derive(Debug, Default)]
pub struct LoadedConfig {
    pub settings: Settings,
    pub path: Option<PathBuf>,
    pub ignored: Vec<Ignored>,
}

impl LoadedConfig {
    /// The duration `key` from the flag, else the file, else `default`; a
    /// bad value is named where the user can find it.
    fn duration(
        &self,
        flag: &Option<String>,
        in_file: &Option<String>,
        key: &str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        match (flag, in_file) {
            (Some(text), _) => parse_duration(text).map_err(|e| ConfigError::Value(format!("--{key}"), e)),
            (None, Some(text)) => parse_duration(text)
                .map_err(|e| ConfigError::File(self.path.clone().unwrap_or_default(), format!("{key}: {e}"))),
            (None, None) => Ok(default),
        }
    }

    /// `--fanout` from the flag, else the file, else the default; zero
    /// would never start a node.
    fn fanout(&self, flag: Option<usize>, in_file: Option<usize>) -> Result<usize, ConfigError> {
        const AT_LEAST_ONE: &str = "must be at least 1";
        match (flag, in_file) {
            (Some(0), _) => Err(ConfigError::Value("--fanout".into(), AT_LEAST_ONE.into())),
            (None, Some(0)) => {
                Err(ConfigError::File(self.path.clone().unwrap_or_default(), format!("fanout: {AT_LEAST_ONE}")))
            }
            (flag, in_file) => Ok(flag.or(in_file).unwrap_or(DEFAULT_FANOUT)),
        }
    }

    /// The named file (`--config`, `CLUSTERDOC_CONFIG`: must exist), else the
    /// first implicit location present that may steer clusterdoc: owned by
    /// root or the user running it, not writable by others (`trust`), and
    /// not inside `root` (`--root DIR`: the image's own config is data, not
    /// instructions). A named file is used even when others could write it,
    /// or lies inside `root`, with a warning on stderr: the user chose it
    /// (packs it names are still checked). Passed-over implicit files are
    /// listed in `ignored`.
    pub fn load(named: Option<&Path>, root: Option<&Path>) -> Result<LoadedConfig, ConfigError> {
        let mut ignored = Vec::new();
        let path = match named {
            Some(path) => chosen_by_user(path, root),
            None => match first_usable_implicit(root, &mut ignored) {
                Some(path) => path,
                None => return Ok(LoadedConfig { ignored, ..LoadedConfig::default() }),
            },
        };
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::File(path.clone(), e.to_string()))?;
        let settings = toml::from_str(&text).map_err(|e| ConfigError::File(path.clone(), e.message().to_string()))?;
        Ok(LoadedConfig { settings, path: Some(absolute(&path)), ignored })
    }
}

/// The file the user named, with a warning when it would not be trusted as
/// an implicit one.
fn chosen_by_user(path: &Path, root: Option<&Path>) -> PathBuf {
    let unsafe_because = match root {
        Some(root) if trust::inside(path, root) => Err(format!("inside --root {}", root.display())),
        _ => trust::check(path, trust::Kind::File),
    };
    if let Err(why) = unsafe_because
        && path.exists()
    {
        eprintln!("clusterdoc: warning: config file {}: {why}; used because it was named", path.display());
    }
    path.to_path_buf()
}

/// The first implicit config file present that may steer clusterdoc; those
/// passed over go to `ignored` with the reason.
fn first_usable_implicit(root: Option<&Path>, ignored: &mut Vec<Ignored>) -> Option<PathBuf> {
    let usable = |path: &Path| match root {
        Some(root) if trust::inside(path, root) => {
            Err(format!("inside --root {}: the inspected node's own config is not used", root.display()))
        }
        _ => trust::check(path, trust::Kind::File),
    };
    for candidate in DEFAULT_CONFIG_FILES.iter().map(Path::new).filter(|p| p.exists()) {
        match usable(candidate) {
            Ok(()) => return Some(candidate.to_path_buf()),
            Err(why) => ignored.push(Ignored::new(&absolute(candidate), why)),
        }
    }
    None
}

/// The path as the report names it: absolute, so a reader knows which
/// `./clusterdoc.toml` was meant.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {message}", path = .0.display(), message = .1)]
    File(PathBuf, String),
    #[error(transparent)]
    Target(#[from] BadTarget),
    #[error("{0}: {1}")]
    Value(String, String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let toml = file(
            "marathon = \"m9:8080\"\nmesos = \"a:5050, b:5050\"\ntimeout = \"7s\"\nchecks_dir = [\"/p1\"]\n\
             nodes = \"m1, m2\"\nssh = \"ssh -J jump\"\nfanout = 4\n",
        );
        let flags =
            Settings { marathon: Some("m1:8080".into()), checks_dir: Some(vec!["/p2".into()]), ..Settings::default() };
        let cfg = Config::resolve(Some(toml.path()), &flags).unwrap();
        assert_eq!((cfg.marathon.display(), cfg.marathon.explicit), ("http://m1:8080".into(), true));
        let mesos: Vec<String> = cfg.mesos.iter().map(Target::display).collect();
        assert_eq!(mesos, ["http://a:5050", "http://b:5050"]);
        assert_eq!(cfg.timeout, Duration::from_secs(7));
        assert_eq!(cfg.deadline, DEFAULT_DEADLINE);
        assert_eq!((cfg.zk.display(), cfg.zk.explicit), ("zk://127.0.0.1:2181/marathon".into(), false));
        assert_eq!(cfg.checks_dirs, [PathBuf::from("/p1"), PathBuf::from("/p2")]);
        assert_eq!((cfg.nodes, cfg.ssh.as_str(), cfg.fanout), (vec!["m1".into(), "m2".into()], "ssh -J jump", 4));
        assert_eq!(cfg.remote_bin, DEFAULT_REMOTE_BIN);
    }

    #[test]
    fn a_bad_value_is_named_where_it_was_set() {
        let toml = file("timeout = \"soon\"\n");
        let in_file = Config::resolve(Some(toml.path()), &Settings::default()).unwrap_err().to_string();
        assert!(in_file.starts_with(&format!("config file {}: timeout: \"soon\"", toml.path().display())), "{in_file}");
        let flag = Settings { timeout: Some("0s".into()), ..Settings::default() };
        let on_command_line = Config::resolve(Some(toml.path()), &flag).unwrap_err().to_string();
        assert_eq!(on_command_line, "--timeout: \"0s\": must be more than zero");
        let url = Settings { marathon: Some("ftp://u:secret@m1".into()), ..Settings::default() };
        let bad_url = Config::resolve(Some(toml.path()), &url).unwrap_err().to_string();
        assert_eq!(bad_url, "ftp://m1: not a usable URL: only http:// and https:// are supported");
        let no_fanout = file("fanout = 0\n");
        let in_file = Config::resolve(Some(no_fanout.path()), &Settings::default()).unwrap_err().to_string();
        assert_eq!(in_file, format!("config file {}: fanout: must be at least 1", no_fanout.path().display()));
        let flag = Settings { fanout: Some(0), ..Settings::default() };
        let on_command_line = Config::resolve(Some(no_fanout.path()), &flag).unwrap_err().to_string();
        assert_eq!(on_command_line, "--fanout: must be at least 1");
    }
}

#[cfg(test)]
mod example_tests {
    use super::*;

    /// The shipped example sets every key, and every key parses.
    #[test]
    fn example_config_covers_every_key_and_parses() {
        let text = include_str!("../clusterdoc.example.toml");
        let uncommented: String = text
            .lines()
            .map(|l| l.strip_prefix("# ").filter(|r| r.contains(" = ")).unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        let file: Settings = toml::from_str(&uncommented).expect("example parses");
        let all_set = [
            file.mesos.is_some(),
            file.marathon.is_some(),
            file.zk.is_some(),
            file.flink.is_some(),
            file.root.is_some(),
            file.role.is_some(),
            file.expect_marathon_version.is_some(),
            file.expect_flink_version.is_some(),
            file.timeout.is_some(),
            file.deadline.is_some(),
            file.ca_cert.is_some(),
            file.insecure.is_some(),
            file.checks_dir.is_some(),
            file.nodes.is_some(),
            file.ssh.is_some(),
            file.fanout.is_some(),
            file.remote_bin.is_some(),
            file.pull.is_some(),
            file.waivers.is_some(),
            file.baseline.is_some(),
            file.phase.is_some(),
            file.wait.is_some(),
            file.apps.is_some(),
        ];
        assert!(all_set.iter().all(|set| *set), "{file:?}");
        let keys = toml::from_str::<toml::Table>(&uncommented).unwrap().len();
        assert_eq!(keys, all_set.len(), "a Settings key is missing from this test or the example");
    }
}
