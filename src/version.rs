//! Release versions of the cluster's components (Marathon, Flink, ZooKeeper).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A `major.minor.patch` version; missing parts are zero, suffixes such as
/// `-SNAPSHOT` or `+build` are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version { major, minor, patch }
    }

    /// The release line, `1.4` for `1.4.13`.
    pub fn line(self) -> (u32, u32) {
        (self.major, self.minor)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a version (expected MAJOR.MINOR[.PATCH], e.g. 1.4.13)")]
pub struct BadVersion(String);

impl FromStr for Version {
    type Err = BadVersion;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadVersion(text.to_string());
        let core = text.trim().trim_start_matches(['v', 'V']);
        let core = core.split(['-', '+', ' ']).next().unwrap_or_default();
        let mut parts = core.split('.');
        let mut number = |required: bool| -> Result<u32, BadVersion> {
            match parts.next() {
                Some(p) => p.parse().map_err(|_| bad()),
                None if required => Err(bad()),
                None => Ok(0),
            }
        };
        let version = Version::new(number(true)?, number(true)?, number(false)?);
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(version)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        let v: Version = "1.4.13".parse().unwrap();
        assert_eq!(v, Version::new(1, 4, 13));
        assert_eq!("1.10".parse::<Version>().unwrap(), Version::new(1, 10, 0));
        assert_eq!("v1.2.0-SNAPSHOT".parse::<Version>().unwrap(), Version::new(1, 2, 0));
        assert!(Version::new(1, 10, 0) > Version::new(1, 9, 9));
        assert!("1".parse::<Version>().is_err());
        assert!("a.b".parse::<Version>().is_err());
        assert!("1.2.3.4".parse::<Version>().is_err());
    }
}
