//! Flags + environment + TOML file -> `Config`, keeping track of which targets
//! the user named (explicit) and which are implicit defaults.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::cli::RunArgs;
use crate::facts::node_fs::NodeRoot;
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
}

impl Config {
    /// True when facts come from the running node; false under `--root DIR`.
    pub fn live(&self) -> bool {
        self.root.is_live()
    }

    pub fn from_args(args: &RunArgs) -> Result<Self, ConfigError> {
        let file = FileConfig::load(args.config.as_deref())?;
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
        let duration = |flag: &Option<String>, key: &Option<String>, name: &str, default: Duration| match flag
            .as_ref()
            .or(key.as_ref())
        {
            Some(text) => parse_duration(text).map_err(|e| ConfigError::Value(name.into(), e)),
            None => Ok(default),
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
            timeout: duration(&args.timeout, &file.timeout, "--timeout", Duration::from_secs(3))?,
            deadline: duration(&args.deadline, &file.deadline, "--deadline", Duration::from_secs(30))?,
            ca_cert: args.ca_cert.clone().or(file.ca_cert.clone()),
            insecure: args.insecure || file.insecure.unwrap_or(false),
            checks_dirs,
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

/// `500ms`, `3s`, `1m`; zero is refused (it would make every probe fail).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| format!("{text:?}: {e} (e.g. 500ms, 3s, 1m)"))?;
    if d.is_zero() {
        return Err(format!("{text:?}: must be more than zero"));
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

impl FileConfig {
    /// The named file (must exist), else the first default location present.
    pub fn load(named: Option<&Path>) -> Result<Self, ConfigError> {
        let path = match named {
            Some(p) => p.to_path_buf(),
            None => match DEFAULT_CONFIG_FILES.iter().map(PathBuf::from).find(|p| p.is_file()) {
                Some(p) => p,
                None => return Ok(FileConfig::default()),
            },
        };
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::File(path.clone(), e.to_string()))?;
        toml::from_str(&text).map_err(|e| ConfigError::File(path, e.message().to_string()))
    }
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

/// Removes `user:pass@` from URL-ish text so it can appear in messages.
pub fn redact(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}{}", &text[..s + 3], &text[at + 1..]),
        (None, Some(at)) if !text[..at].contains('/') => text[at + 1..].to_string(),
        _ => text.to_string(),
    }
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
