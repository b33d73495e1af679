//! Flags + environment + TOML file -> `Config`, keeping track of which targets
//! the user named (explicit) and which are implicit defaults.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::cli::RunArgs;
use crate::node_fs::NodeRoot;
use crate::trust::{self, Ignored};
use crate::version::Version;

pub const DEFAULT_MESOS: &str = "http://127.0.0.1:5050";
pub const DEFAULT_MARATHON: &str = "http://127.0.0.1:8080";
pub const DEFAULT_ZK: &str = "zk://127.0.0.1:2181/marathon";
const DEFAULT_CONFIG_FILES: [&str; 2] = ["clusterdoc.toml", "/etc/clusterdoc/clusterdoc.toml"];

/// A role a node plays in the cluster; decides which ports it must serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Master,
    Agent,
    Zookeeper,
    Marathon,
    Flink,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Agent => "agent",
            Role::Zookeeper => "zookeeper",
            Role::Marathon => "marathon",
            Role::Flink => "flink",
        }
    }
}

/// An HTTP endpoint (Mesos master, Marathon, Flink).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub url: Url,
    /// Named by flag, environment or config file (rather than the default).
    pub explicit: bool,
}

impl Target {
    pub fn parse(text: &str, explicit: bool) -> Result<Self, ConfigError> {
        let text = text.trim();
        let with_scheme = if text.contains("://") { text.to_string() } else { format!("http://{text}") };
        let url = Url::parse(&with_scheme).map_err(|e| ConfigError::Url(redact(text), e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::Url(redact(text), "only http:// and https:// are supported".into()));
        }
        if url.host_str().is_none() {
            return Err(ConfigError::Url(redact(text), "no host".into()));
        }
        Ok(Target { url, explicit })
    }

    /// The URL without credentials: the only form that is ever printed.
    pub fn display(&self) -> String {
        redact_url(&self.url)
    }

    /// `host:port` of the endpoint (port defaulted by scheme).
    pub fn host_port(&self) -> (String, u16) {
        let host = self.url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_string();
        (host, self.url.port_or_known_default().unwrap_or(80))
    }
}

/// One ZooKeeper server of an ensemble.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Marathon's ZooKeeper URL `zk://[user:pass@]h1:2181,h2:2181/marathon`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZkTarget {
    pub servers: Vec<HostPort>,
    /// The znode Marathon keeps its state under, e.g. `/marathon`.
    pub path: String,
    pub explicit: bool,
}

impl ZkTarget {
    pub fn parse(text: &str, explicit: bool) -> Result<Self, ConfigError> {
        let bad = |why: &str| ConfigError::Url(redact(text), why.to_string());
        let rest = text.trim().strip_prefix("zk://").ok_or_else(|| bad("expected zk://HOST:PORT[,HOST:PORT]/PATH"))?;
        let (hosts, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/marathon"),
        };
        let hosts = hosts.rsplit_once('@').map_or(hosts, |(_, h)| h);
        let servers = hosts
            .split(',')
            .map(|h| parse_host_port(h.trim(), 2181).ok_or_else(|| bad("bad HOST:PORT in the server list")))
            .collect::<Result<Vec<_>, _>>()?;
        let path = path.trim_end_matches('/');
        if path.is_empty() {
            return Err(bad("a path such as /marathon is required"));
        }
        Ok(ZkTarget { servers, path: path.to_string(), explicit })
    }

    /// `zk://h1:2181,h2:2181/marathon`, never with credentials.
    pub fn display(&self) -> String {
        let hosts: Vec<String> = self.servers.iter().map(|s| s.to_string()).collect();
        format!("zk://{}{}", hosts.join(","), self.path)
    }
}

/// `host`, `host:port`, `[v6]:port` -> HostPort.
pub fn parse_host_port(text: &str, default_port: u16) -> Option<HostPort> {
    if text.is_empty() {
        return None;
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        return Some(HostPort { host: host.to_string(), port });
    }
    match text.split_once(':') {
        Some((host, port)) if !host.is_empty() && !port.contains(':') => {
            Some(HostPort { host: host.to_string(), port: port.parse().ok()? })
        }
        Some(_) => None,
        None => Some(HostPort { host: text.to_string(), port: default_port }),
    }
}

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

    pub fn from_args(args: &RunArgs) -> Result<Self, ConfigError> {
        let loaded = FileConfig::load(args.config.as_deref(), args.root.as_deref())?;
        let file = &loaded.file;
        let mesos_texts = pick_list(&args.mesos, &file.mesos);
        let mesos = match mesos_texts {
            Some(list) => list.iter().map(|m| Target::parse(m, true)).collect::<Result<_, _>>()?,
            None => vec![Target::parse(DEFAULT_MESOS, false)?],
        };
        let marathon = match args.marathon.as_ref().or(file.marathon.as_ref()) {
            Some(m) => Target::parse(m, true)?,
            None => Target::parse(DEFAULT_MARATHON, false)?,
        };
        let zk = match args.zk.as_ref().or(file.zk.as_ref()) {
            Some(z) => ZkTarget::parse(z, true)?,
            None => ZkTarget::parse(DEFAULT_ZK, false)?,
        };
        let flink = pick_list(&args.flink, &file.flink)
            .unwrap_or_default()
            .iter()
            .map(|f| Target::parse(f, true))
            .collect::<Result<_, _>>()?;
        let roles = if args.role.is_empty() { file.role.clone().unwrap_or_default() } else { args.role.clone() };
        let version =
            |flag: &Option<String>, key: &Option<String>, name: &str| -> Result<Option<Version>, ConfigError> {
                flag.as_ref()
                    .or(key.as_ref())
                    .map(|v| {
                        v.parse()
                            .map_err(|e: crate::version::BadVersion| ConfigError::Value(name.into(), e.to_string()))
                    })
                    .transpose()
            };
        let duration = |flag: &Option<String>, key: &Option<String>, name: &str, default: Duration| match (flag, key) {
            (Some(text), _) => parse_duration(text).map_err(|e| ConfigError::Value(format!("--{name}"), e)),
            (None, Some(text)) => parse_duration(text).map_err(|e| loaded.key_error(name, e)),
            (None, None) => Ok(default),
        };
        let mut checks_dirs = file.checks_dir.clone().unwrap_or_default();
        checks_dirs.extend(args.checks_dir.iter().cloned());
        Ok(Config {
            mesos,
            marathon,
            zk,
            flink,
            root: match args.root.as_ref().or(file.root.as_ref()) {
                Some(dir) => NodeRoot::new(dir).map_err(|e| ConfigError::Value("--root".into(), e))?,
                None => NodeRoot::live(),
            },
            roles,
            expect_marathon_version: version(
                &args.expect_marathon_version,
                &file.expect_marathon_version,
                "--expect-marathon-version",
            )?,
            expect_flink_version: version(
                &args.expect_flink_version,
                &file.expect_flink_version,
                "--expect-flink-version",
            )?,
            timeout: duration(&args.timeout, &file.timeout, "timeout", Duration::from_secs(3))?,
            deadline: duration(&args.deadline, &file.deadline, "deadline", Duration::from_secs(30))?,
            ca_cert: args.ca_cert.clone().or(file.ca_cert.clone()),
            insecure: args.insecure || file.insecure.unwrap_or(false),
            checks_dirs,
            config_file: loaded.path.clone(),
            ignored: loaded.ignored.clone(),
        })
    }
}

fn pick_list(flag: &[String], file: &Option<StringOrList>) -> Option<Vec<String>> {
    if !flag.is_empty() {
        return Some(
            flag.iter().flat_map(|f| f.split(',')).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
        );
    }
    file.as_ref().map(StringOrList::to_vec)
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

/// The TOML config file. Unknown keys are errors: a typo must not silently
/// fall back to a default target.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
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
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    fn to_vec(&self) -> Vec<String> {
        match self {
            StringOrList::One(s) => s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
            StringOrList::Many(v) => v.clone(),
        }
    }
}

/// The config file of a run: its settings, where they came from, and the
/// implicit files that were passed over.
#[derive(Debug, Default)]
pub struct LoadedConfig {
    pub file: FileConfig,
    pub path: Option<PathBuf>,
    pub ignored: Vec<Ignored>,
}

impl LoadedConfig {
    /// A bad value of `key` in the file, named so the user can find it.
    fn key_error(&self, key: &str, message: String) -> ConfigError {
        let path = self.path.clone().unwrap_or_default();
        ConfigError::File(path, format!("{key}: {message}"))
    }
}

impl FileConfig {
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
            Some(p) => {
                let unsafe_because = match root {
                    Some(root) if trust::inside(p, root) => Err(format!("inside --root {}", root.display())),
                    _ => trust::check(p, trust::Kind::File),
                };
                if let Err(why) = unsafe_because
                    && p.exists()
                {
                    eprintln!("clusterdoc: warning: config file {}: {why}; used because it was named", p.display());
                }
                p.to_path_buf()
            }
            None => {
                let usable = |p: &Path| match root {
                    Some(root) if trust::inside(p, root) => {
                        Err(format!("inside --root {}: the inspected node's own config is not used", root.display()))
                    }
                    _ => trust::check(p, trust::Kind::File),
                };
                let mut chosen = None;
                for candidate in DEFAULT_CONFIG_FILES.iter().map(Path::new).filter(|p| p.exists()) {
                    match usable(candidate) {
                        Ok(()) => {
                            chosen = Some(candidate.to_path_buf());
                            break;
                        }
                        Err(why) => ignored.push(Ignored::new(&absolute(candidate), why)),
                    }
                }
                match chosen {
                    Some(p) => p,
                    None => return Ok(LoadedConfig { ignored, ..LoadedConfig::default() }),
                }
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::File(path.clone(), e.to_string()))?;
        let file = toml::from_str(&text).map_err(|e| ConfigError::File(path.clone(), e.message().to_string()))?;
        Ok(LoadedConfig { file, path: Some(absolute(&path)), ignored })
    }
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
    #[error("{0}: not a usable URL: {1}")]
    Url(String, String),
    #[error("{0}: {1}")]
    Value(String, String),
}

/// Removes `user:pass@` from URL-ish text so it can appear in messages:
/// `zk://u:p@h:2181/m`, `--zk=zk://u:p@h/m`, `u:p@h:5050`.
pub fn redact(text: &str) -> String {
    let (scheme, rest) = text.find("://").map_or(("", text), |s| text.split_at(s + 3));
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => format!("{scheme}{}", &rest[at + 1..]),
        None => text.to_string(),
    }
}

/// What a secret is replaced with in a command line.
pub const REDACTED: &str = "<redacted>";
/// An option whose name holds one of these carries a secret (`-Dpassword=`,
/// `--zk_auth_token=`, `--password x`).
const SECRET_NAMES: [&str; 5] = ["password", "passwd", "secret", "token", "credential"];

/// A process's command line with its secrets removed, as every report and
/// snapshot shows it: credentials in URLs (`--zk zk://user:pw@h/m`), the value
/// of an option named like a secret (`-Dpassword=x`, `--password=x`) and the
/// word after such an option when it stands alone (`--password x`).
pub fn redact_argv(argv: &[String]) -> Vec<String> {
    let names_secret = |option: &str| {
        let option = option.to_ascii_lowercase();
        SECRET_NAMES.iter().any(|name| option.contains(name))
    };
    let mut clean = Vec::with_capacity(argv.len());
    let mut value_follows = false;
    for word in argv {
        if std::mem::take(&mut value_follows) {
            clean.push(REDACTED.to_string());
            continue;
        }
        let option = word.starts_with('-');
        match word.split_once('=') {
            Some((name, _)) if option && names_secret(name) => clean.push(format!("{name}={REDACTED}")),
            None if option && names_secret(word) => {
                value_follows = true;
                clean.push(word.clone());
            }
            _ if word.contains("://") => clean.push(redact(word)),
            _ => clean.push(word.clone()),
        }
    }
    clean
}

pub fn redact_url(url: &Url) -> String {
    let mut clean = url.clone();
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.to_string().trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_normalise_and_hide_credentials() {
        let t = Target::parse("admin:s3cret@m1:5050", true).unwrap();
        assert_eq!(t.display(), "http://m1:5050");
        assert_eq!(t.host_port(), ("m1".to_string(), 5050));
        assert!(Target::parse("ftp://x", true).is_err());
        assert_eq!(redact("zk://u:p@h:2181/m"), "zk://h:2181/m");
        assert_eq!(redact("u:p@h:5050"), "h:5050");
        // An @ past the host is not a credential.
        assert_eq!(redact("http://h/a@b"), "http://h/a@b");
    }

    #[test]
    fn command_lines_lose_their_secrets() {
        let argv: Vec<String> = [
            "java",
            "-Dpassword=s3cret",
            "-Dhost=h@x",
            "--zk",
            "zk://marathon:s3cret@zk1:2181/marathon",
            "--mesos=http://admin:s3cret@m1:5050",
            "--password=s3cret",
            "--Secret",
            "s3cret",
            "--master",
            "slave(1)@10.0.0.7:5051",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            redact_argv(&argv),
            [
                "java",
                "-Dpassword=<redacted>",
                "-Dhost=h@x",
                "--zk",
                "zk://zk1:2181/marathon",
                "--mesos=http://m1:5050",
                "--password=<redacted>",
                "--Secret",
                "<redacted>",
                "--master",
                "slave(1)@10.0.0.7:5051",
            ]
        );
    }

    #[test]
    fn zk_urls_list_every_server() {
        let z = ZkTarget::parse("zk://u:p@h1:2181,h2,[::1]:2182/marathon-1.4/", true).unwrap();
        assert_eq!(z.path, "/marathon-1.4");
        assert_eq!(z.display(), "zk://h1:2181,h2:2181,[::1]:2182/marathon-1.4");
        assert!(ZkTarget::parse("http://h/x", true).is_err());
        assert!(ZkTarget::parse("zk://h:99999/x", true).is_err());
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
        let file: FileConfig = toml::from_str(&uncommented).expect("example parses");
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
        ];
        assert!(all_set.iter().all(|set| *set), "{file:?}");
        let keys = toml::from_str::<toml::Table>(&uncommented).unwrap().len();
        assert_eq!(keys, all_set.len(), "a FileConfig key is missing from this test or the example");
    }
}
