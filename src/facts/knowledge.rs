//! The knowledge built-in checks use as data (which units count as cluster
//! daemons, which ports each role serves): embedded from `checks/data/`, and
//! overridden whole, file by file, by a file of the same name in
//! `/etc/clusterdoc/checks.d/` and then each `--checks-dir`.

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Fact, Gatherer};
use crate::config::Role;

const CLUSTER_UNITS: (&str, &str) = ("cluster-units.toml", include_str!("../../checks/data/cluster-units.toml"));
const ROLE_PORTS: (&str, &str) = ("role-ports.toml", include_str!("../../checks/data/role-ports.toml"));
const SYSTEM_PACK_DIR: &str = "/etc/clusterdoc/checks.d";

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
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolePort {
    pub role: Role,
    pub port: PortSpec,
    pub what: String,
}

/// One port or an inclusive range (`"31000-32000"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PortSpec {
    One(u16),
    #[serde(with = "range_text")]
    Range(u16, u16),
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
fn override_of(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    dirs.iter().rev().map(|d| d.join(name)).find(|p| p.is_file())
}

fn load<T: DeserializeOwned>(
    dirs: &[PathBuf],
    (name, embedded): (&str, &str),
    sources: &mut Vec<String>,
) -> Result<T, String> {
    match override_of(dirs, name) {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            sources.push(path.display().to_string());
            parse(&text, &path.display().to_string())
        }
        None => parse(embedded, name),
    }
}

pub(crate) async fn gather(g: &Gatherer) -> Fact<Knowledge> {
    let mut dirs = vec![PathBuf::from(SYSTEM_PACK_DIR)];
    dirs.extend(g.cfg.checks_dirs.iter().cloned());
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
}
