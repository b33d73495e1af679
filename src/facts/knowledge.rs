//! The knowledge built-in checks use as data (which units count as cluster
//! daemons, which ports each role serves): embedded from `checks/data/`, and
//! overridden whole, file by file, by a file of the same name in
//! `/etc/clusterdoc/checks.d/` and then each `--checks-dir`.

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};
use crate::target::Role;

const CLUSTER_UNITS: (&str, &str) = ("cluster-units.toml", include_str!("../../checks/data/cluster-units.toml"));
const ROLE_PORTS: (&str, &str) = ("role-ports.toml", include_str!("../../checks/data/role-ports.toml"));
/// The system-wide pack directory, read before each `--checks-dir`.
pub const SYSTEM_PACK_DIR: &str = "/etc/clusterdoc/checks.d";
/// The dependencies between checks' findings (read by `causes`, not a fact).
pub const DEPENDENCIES: (&str, &str) = ("dependencies.toml", include_str!("../../checks/data/dependencies.toml"));
/// The check data files a pack directory may hold (not check packs).
pub const DATA_FILES: [&str; 3] = [CLUSTER_UNITS.0, ROLE_PORTS.0, DEPENDENCIES.0];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Knowledge {
    pub cluster_units: ClusterUnits,
    pub role_ports: RolePorts,
    /// Where each piece came from (`built-in` or an override file).
    pub sources: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterUnits {
    pub units: Vec<String>,
    pub scripts: Vec<String>,
    pub script_dirs: Vec<String>,
    pub deploy_files: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolePorts {
    pub port: Vec<RolePort>,
    /// How to recognise the daemon that serves a role's ports.
    #[serde(default)]
    pub daemon: Vec<RoleDaemon>,
}

/// The daemon that serves a role: a process is it when a word of its command
/// line (the program or an argument), taken by its file name, matches one of
/// `matches` (`*` matches any run of characters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDaemon {
    pub role: Role,
    /// How reports name it (`mesos-master`, `ZooKeeper`).
    pub name: String,
    pub matches: Vec<String>,
}

impl RoleDaemon {
    pub fn matches_command(&self, argv: &[String]) -> bool {
        argv.iter()
            .map(|word| word.rsplit('/').next().unwrap_or(word))
            .any(|file_name| self.matches.iter().any(|pattern| crate::glob::matches(pattern, file_name)))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolePort {
    pub role: Role,
    pub port: PortSpec,
    pub what: String,
    /// The node settings that override this port, first found wins
    /// (`clientPort`, `http_port`, `rest.port`, ...; read by `facts::roles`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// Served only when the node's configuration sets one of `keys` (Marathon
    /// serves HTTPS only when configured for it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// One port or an inclusive range (`"31000-32000"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PortSpec {
    One(u16),
    #[serde(with = "range_text")]
    Range(u16, u16),
}

impl PortSpec {
    pub fn low(self) -> u16 {
        match self {
            PortSpec::One(p) | PortSpec::Range(p, _) => p,
        }
    }

    pub fn high(self) -> u16 {
        match self {
            PortSpec::One(p) | PortSpec::Range(_, p) => p,
        }
    }

    /// `lo..=hi` as a spec: a single port when they are equal.
    pub fn between(lo: u16, hi: u16) -> Self {
        if lo == hi { PortSpec::One(lo) } else { PortSpec::Range(lo, hi) }
    }

    /// The parts of this spec that none of `allowed` covers (ranges may
    /// together cover a range that none covers alone).
    pub fn uncovered_by(self, allowed: &[PortSpec]) -> Vec<PortSpec> {
        let mut covering: Vec<PortSpec> = allowed.to_vec();
        covering.sort_by_key(|a| a.low());
        let mut missing = Vec::new();
        let mut next = u32::from(self.low());
        let end = u32::from(self.high());
        for a in covering {
            if next > end {
                break;
            }
            let (lo, hi) = (u32::from(a.low()), u32::from(a.high()));
            if hi < next {
                continue;
            }
            if lo > next {
                missing.push((next, (lo - 1).min(end)));
            }
            next = next.max(hi + 1);
        }
        if next <= end {
            missing.push((next, end));
        }
        missing.into_iter().map(|(lo, hi)| PortSpec::between(lo as u16, hi as u16)).collect()
    }
}

impl std::fmt::Display for PortSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortSpec::One(p) => write!(f, "{p}"),
            PortSpec::Range(lo, hi) => write!(f, "{lo}-{hi}"),
        }
    }
}

mod range_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(lo: &u16, hi: &u16, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{lo}-{hi}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(u16, u16), D::Error> {
        let text = String::deserialize(d)?;
        let bad = || serde::de::Error::custom(format!("{text:?} is not a port range LOW-HIGH"));
        let (lo, hi) = text.split_once('-').ok_or_else(bad)?;
        let (lo, hi): (u16, u16) = (lo.trim().parse().map_err(|_| bad())?, hi.trim().parse().map_err(|_| bad())?);
        if lo > hi {
            return Err(bad());
        }
        Ok((lo, hi))
    }
}

impl Knowledge {
    /// The built-in knowledge, with no overrides.
    pub fn embedded() -> Self {
        Knowledge {
            cluster_units: parse(CLUSTER_UNITS.1, CLUSTER_UNITS.0).expect("embedded cluster-units.toml parses"),
            role_ports: parse(ROLE_PORTS.1, ROLE_PORTS.0).expect("embedded role-ports.toml parses"),
            sources: vec!["built-in".into()],
        }
    }
}

fn parse<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| format!("{origin}: {e}"))
}

/// The last override of `name` among the pack directories, if any.
/// The last override file of that name that may steer clusterdoc
/// (`trust`: the pack loader reports those passed over).
fn override_of(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    use crate::trust::{Kind, check};
    dirs.iter()
        .rev()
        .filter(|d| check(d, Kind::Directory).is_ok())
        .map(|d| d.join(name))
        .find(|p| p.is_file() && check(p, Kind::File).is_ok())
}

/// The text of a check data file: its last override among `dirs`, else
/// the embedded one; with where it came from (`None`: built in).
pub fn data_file(dirs: &[PathBuf], (name, embedded): (&str, &str)) -> Result<(String, Option<PathBuf>), String> {
    match override_of(dirs, name) {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok((text, Some(path)))
        }
        None => Ok((embedded.to_string(), None)),
    }
}

/// Where check data overrides are looked for: the system directory, then
/// each `--checks-dir`.
pub fn data_dirs(checks_dirs: &[PathBuf]) -> Vec<PathBuf> {
    std::iter::once(PathBuf::from(SYSTEM_PACK_DIR)).chain(checks_dirs.iter().cloned()).collect()
}

fn load<T: DeserializeOwned>(dirs: &[PathBuf], file: (&str, &str), sources: &mut Vec<String>) -> Result<T, String> {
    let (text, from) = data_file(dirs, file)?;
    let origin = match from {
        Some(path) => {
            sources.push(path.display().to_string());
            path.display().to_string()
        }
        None => file.0.to_string(),
    };
    parse(&text, &origin)
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<Knowledge> {
    let dirs = data_dirs(&g.cfg.checks_dirs);
    let mut sources = vec!["built-in".to_string()];
    let loaded = load(&dirs, CLUSTER_UNITS, &mut sources)
        .and_then(|cluster_units| Ok((cluster_units, load(&dirs, ROLE_PORTS, &mut sources)?)));
    match loaded {
        Ok((cluster_units, role_ports)) => Fact::observed(Knowledge { cluster_units, role_ports, sources }),
        Err(e) => Fact::failed(format!("check data override: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_parses() {
        let k = Knowledge::embedded();
        assert!(k.cluster_units.units.contains(&"mesos-master.service".to_string()));
        assert!(k.role_ports.port.iter().any(|p| p.role == Role::Agent && p.port == PortSpec::Range(31000, 32000)));
    }

    #[test]
    fn daemons_are_recognised_by_program_or_argument_file_name() {
        let k = Knowledge::embedded();
        let daemon = |role| k.role_ports.daemon.iter().find(|d| d.role == role).unwrap();
        let argv = |line: &str| line.split(' ').map(String::from).collect::<Vec<_>>();
        assert!(daemon(Role::Master).matches_command(&argv("/usr/sbin/mesos-master --zk=zk://h:2181/mesos")));
        assert!(!daemon(Role::Master).matches_command(&argv("python3 -m http.server 5050")));
        assert!(daemon(Role::Zookeeper).matches_command(&argv(
            "java -cp /usr/share/java/zookeeper.jar org.apache.zookeeper.server.quorum.QuorumPeerMain /etc/zookeeper/zoo.cfg"
        )));
        assert!(daemon(Role::Marathon).matches_command(&argv("java -jar /opt/marathon/marathon-assembly-1.1.1.jar")));
        assert!(!daemon(Role::Marathon).matches_command(&argv("python3 -m http.server --directory /srv/marathon")));
    }

    #[test]
    fn an_override_replaces_the_embedded_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("role-ports.toml"), "[[port]]\nrole = \"master\"\nport = 5055\nwhat = \"x\"\n")
            .unwrap();
        let mut sources = Vec::new();
        let ports: RolePorts = load(&[dir.path().to_path_buf()], ROLE_PORTS, &mut sources).unwrap();
        assert_eq!(ports.port.len(), 1);
        assert_eq!(ports.port[0].port, PortSpec::One(5055));
        assert_eq!(sources.len(), 1);
        std::fs::write(dir.path().join("role-ports.toml"), "[[port]]\nrole = \"nope\"\n").unwrap();
        assert!(load::<RolePorts>(&[dir.path().to_path_buf()], ROLE_PORTS, &mut sources).is_err());
    }

    #[test]
    fn uncovered_parts_of_a_port_range() {
        use PortSpec::{One, Range};
        assert_eq!(One(5050).uncovered_by(&[Range(5000, 5100)]), []);
        assert_eq!(One(5050).uncovered_by(&[One(5051)]), [One(5050)]);
        assert_eq!(Range(31000, 32000).uncovered_by(&[Range(31000, 31500), Range(31501, 32000)]), []);
        assert_eq!(
            Range(31000, 32000).uncovered_by(&[One(31000), Range(31100, 31999)]),
            [Range(31001, 31099), One(32000)]
        );
        assert_eq!(Range(1, 65535).uncovered_by(&[Range(1, 65535)]), []);
        assert_eq!(One(65535).uncovered_by(&[]), [One(65535)]);
        assert_eq!(Range(31000, 32000).to_string(), "31000-32000");
    }
}
