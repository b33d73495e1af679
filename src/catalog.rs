//! The checks of a run: the built-in checks, then the checks of the packs,
//! and the `--only` / `--skip` selection over them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::checks::{self, Check};
use crate::facts::packs::{Action, PackProbe};
use crate::glob::check_matches;
use crate::packs;

/// The checks of a run, what the pack checks look at, and the pack
/// directories and files passed over.
#[derive(Clone, Default)]
pub struct Catalog {
    pub checks: Vec<Arc<dyn Check>>,
    /// The probe of each pack check.
    pub probes: Vec<PackProbe>,
    pub ignored: Vec<crate::trust::Ignored>,
}

impl Catalog {
    /// What the check runs or sends beyond clusterdoc's read-only looks.
    pub fn acts(&self, id: &str) -> Option<Action> {
        self.probes.iter().find(|p| p.check == id).and_then(|p| p.probe.acts())
    }
}

/// Every check: the built-ins, then the checks of the packs (built-in packs,
/// `/etc/clusterdoc/checks.d`, then `pack_dirs`), then `packs.load` if a pack
/// could not be loaded (see [`packs`]). Packs inside `root` (`--root DIR`,
/// when not `/`) and packs others could have written are passed over.
pub fn catalog_with_packs(pack_dirs: &[PathBuf], root: &Path) -> Catalog {
    let built_in: Vec<Arc<dyn Check>> = checks::catalog().into_iter().map(Arc::from).collect();
    let taken: Vec<&str> = built_in.iter().map(|c| c.meta().id.as_ref()).collect();
    let packs = packs::load(pack_dirs, &taken, root);
    Catalog { checks: built_in.into_iter().chain(packs.checks).collect(), probes: packs.probes, ignored: packs.ignored }
}

/// `--only` / `--skip` (ids, or families: `zk.`, `zk*`) over a catalog.
#[derive(Clone, Default)]
pub struct Selection {
    only: Vec<String>,
    skip: Vec<String>,
    catalog: Catalog,
}

impl Selection {
    /// Refuses patterns that match no check: a typo in `--only` must not
    /// turn into a green run of nothing.
    pub fn new(catalog: Catalog, only: &[String], skip: &[String]) -> Result<Self, String> {
        let ids: Vec<&str> = catalog.checks.iter().map(|c| c.meta().id.as_ref()).collect();
        for pattern in only.iter().chain(skip) {
            if !ids.iter().any(|id| check_matches(pattern, id)) {
                let broken = if ids.contains(&packs::LOAD_ID) {
                    " (some check packs did not load: see `clusterdoc explain packs.load`)"
                } else {
                    ""
                };
                return Err(format!("no check matches {pattern:?}; known checks: {}{broken}", ids.join(", ")));
            }
        }
        Ok(Selection { only: only.to_vec(), skip: skip.to_vec(), catalog })
    }

    pub fn selects(&self, id: &str) -> bool {
        (self.only.is_empty() || self.only.iter().any(|p| check_matches(p, id)))
            && !self.skip.iter().any(|p| check_matches(p, id))
    }

    pub fn checks(&self) -> Vec<Arc<dyn Check>> {
        self.catalog.checks.iter().filter(|c| self.selects(&c.meta().id)).cloned().collect()
    }

    /// The checks `ids` of this selection only (a rerun of some of them).
    pub fn narrowed(&self, ids: &[String]) -> Selection {
        let only = ids.iter().filter(|id| self.selects(id)).cloned().collect();
        Selection { only, skip: Vec::new(), catalog: self.catalog.clone() }
    }

    /// The probes of the selected pack checks: what the `packs` fact source runs.
    pub fn probes(&self) -> Vec<PackProbe> {
        self.catalog.probes.iter().filter(|p| self.selects(&p.check)).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_typos() {
        let built_in =
            || Catalog { checks: checks::catalog().into_iter().map(Arc::from).collect(), ..Catalog::default() };
        let s = Selection::new(built_in(), &["zk.".into()], &["zk.quorum".into()]).unwrap();
        let ids: Vec<String> = s.checks().iter().map(|c| c.meta().id.to_string()).collect();
        assert_eq!(ids, ["zk.marathon-reuse"]);
        assert!(Selection::new(built_in(), &["marathon*".into()], &[]).unwrap().selects("marathon.queue"));
        assert!(Selection::new(built_in(), &["zk.quorom".into()], &[]).is_err());
    }
}
