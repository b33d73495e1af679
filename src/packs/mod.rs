//! Pack checks: checks users add without recompiling (DESIGN.md, "Pluggable
//! checks"), declared in TOML packs of generic kinds (`tcp`, `http`,
//! `command`, `unit`, `file`, `process`) or provided as executables that
//! follow the Nagios plugin protocol. `checks/packs/README.md` is the format.
//!
//! Load order: the built-in packs (embedded from `checks/packs/`), then
//! `/etc/clusterdoc/checks.d/`, then each `--checks-dir`, each directory's
//! files by name. A later declaration of an id replaces the earlier one in
//! place. A pack may not take the id of a built-in Rust check: those ids are
//! the contract scripts depend on, so such a declaration is refused (`--skip`
//! the built-in and declare the replacement under a new id).
//!
//! A pack directory or file that others could have written, or that lies
//! inside `--root DIR`, is passed over and listed as ignored (`trust`).
//!
//! A pack that cannot be loaded (unreadable, bad TOML, a bad declaration)
//! does not stop anything else: the synthetic check `packs.load` reports each
//! problem with its file and line as an `error`, in every report format.
//!
//! What a pack check looks at is gathered as a fact (`facts::packs`); judging
//! it is pure (`judge`).

pub(crate) mod definition;
pub(crate) mod judge;
mod template;

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use definition::{PackFile, Parsed, bare_plugin, parse_pack};
use judge::Expect;
use template::RemedyTemplate;

use crate::checks::{Check, CheckMeta, Conclusion, Explain, Verdict, texts};
use crate::facts::Facts;
use crate::facts::knowledge::SYSTEM_PACK_DIR;
use crate::facts::packs::{BUILT_IN_PACK, PackContent, PackDir, PackProbe, read_pack_dir};
use crate::report::{Finding, Status};
use crate::trust::{self, Ignored};

/// The id of the check that reports packs that could not be loaded.
pub const LOAD_ID: &str = "packs.load";

/// The built-in packs, embedded at compile time.
const EMBEDDED: [(&str, &str); 2] = [
    ("checks/packs/mesos.toml", include_str!("../../checks/packs/mesos.toml")),
    ("checks/packs/zookeeper.toml", include_str!("../../checks/packs/zookeeper.toml")),
];

/// A check declared by a pack.
pub struct PackCheck {
    meta: CheckMeta,
    probe: PackProbe,
    expect: Expect,
    remedies: Vec<RemedyTemplate>,
}

impl Check for PackCheck {
    fn meta(&self) -> &CheckMeta {
        &self.meta
    }

    fn run(&self, facts: &Facts) -> Verdict {
        judge::judge(self, facts)
    }
}

/// A pack that could not be loaded, or one of its declarations.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadProblem {
    file: String,
    line: Option<usize>,
    message: String,
    /// The text of that line, to show where.
    text: Option<String>,
}

impl LoadProblem {
    fn new(file: &str, line: Option<usize>, message: String, source: &str) -> Self {
        let text = line.and_then(|n| source.lines().nth(n - 1)).map(|l| l.trim().to_string());
        LoadProblem { file: file.to_string(), line, message, text }
    }

    fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.file),
            None => self.file.clone(),
        }
    }
}

/// Every pack check, in catalog order, then `packs.load` when a pack had
/// problems; and the pack directories and files passed over because others
/// could have written them (`trust`) or because they lie inside `root` (the
/// `--root DIR` under inspection: its packs are data, not instructions).
/// `dirs` are the configured `--checks-dir`s; `taken` the ids of the
/// built-in checks.
pub fn load(dirs: &[PathBuf], taken: &[&str], root: &Path) -> Loaded {
    let mut loader = Loader { taken, checks: Vec::new(), problems: Vec::new(), ignored: Vec::new() };
    for (name, text) in EMBEDDED {
        let origin = PackFile { source: BUILT_IN_PACK, file: name.to_string(), dir: None };
        loader.add_parsed(parse_pack(text, &origin), &origin, &mut BTreeSet::new(), text);
    }
    loader.add_dir(Path::new(SYSTEM_PACK_DIR), false);
    for dir in dirs {
        if trust::inside(dir, root) {
            let why = format!("inside --root {}: the inspected node's own packs are not used", root.display());
            loader.ignored.push(Ignored::new(dir, why));
            continue;
        }
        loader.add_dir(dir, true);
    }
    loader.finish()
}

/// The pack checks, what each looks at, and what was passed over.
pub struct Loaded {
    /// In catalog order; `packs.load` last when a pack had problems.
    pub checks: Vec<Arc<dyn Check>>,
    /// The probe of each pack check (its `check` names it): what the `packs`
    /// fact source runs for the selected ones.
    pub probes: Vec<PackProbe>,
    pub ignored: Vec<Ignored>,
}

struct Loader<'a> {
    taken: &'a [&'a str],
    checks: Vec<PackCheck>,
    problems: Vec<LoadProblem>,
    ignored: Vec<Ignored>,
}

impl Loader<'_> {
    fn add_dir(&mut self, dir: &Path, named: bool) {
        let files = match read_pack_dir(dir) {
            Ok(PackDir::Files(files)) => files,
            Ok(PackDir::Missing) if named => {
                let problem = "no such directory (--checks-dir or checks_dir in the config file)".to_string();
                return self.problems.push(LoadProblem::new(&dir.display().to_string(), None, problem, ""));
            }
            Ok(PackDir::Missing) => return,
            Ok(PackDir::Untrusted(why)) => return self.ignored.push(Ignored::new(dir, why)),
            Err(e) => return self.problems.push(LoadProblem::new(&dir.display().to_string(), None, e, "")),
        };
        // Parsed first: a pack may describe a plugin file that sorts before it.
        let mut entries: Vec<(String, Entry)> = Vec::new();
        for file in files {
            let shown = file.path.display().to_string();
            let entry = match file.content {
                PackContent::Toml(text) => {
                    let parsed = parse_pack(&text, &PackFile { source: &shown, file: shown.clone(), dir: Some(dir) });
                    Entry::Pack(text, parsed)
                }
                PackContent::Executable => Entry::Plugin(file.path),
                PackContent::Unreadable(e) => Entry::Unreadable(e),
                PackContent::Untrusted(why) => {
                    self.ignored.push(Ignored::new(&file.path, why));
                    continue;
                }
            };
            entries.push((shown, entry));
        }
        let claimed: BTreeSet<String> = entries
            .iter()
            .filter_map(|(_, entry)| match entry {
                Entry::Pack(_, Ok(declared)) => Some(declared.iter().flatten().filter_map(|d| d.claims.clone())),
                _ => None,
            })
            .flatten()
            .collect();
        let mut ids = BTreeSet::new();
        for (shown, entry) in entries {
            let origin = PackFile { source: &shown, file: shown.clone(), dir: Some(dir) };
            match entry {
                Entry::Pack(text, parsed) => self.add_parsed(parsed, &origin, &mut ids, &text),
                Entry::Plugin(path) => {
                    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                    if claimed.contains(name) {
                        continue;
                    }
                    match bare_plugin(&path, &origin) {
                        Ok(check) => self.add(check, &origin, None, &mut ids, ""),
                        Err(e) => self.problems.push(LoadProblem::new(&shown, None, e, "")),
                    }
                }
                Entry::Unreadable(e) => self.problems.push(LoadProblem::new(&shown, None, e, "")),
            }
        }
    }

    /// `ids`: the ids declared so far in this directory (a second one is a mistake).
    fn add_parsed(&mut self, parsed: Parsed, origin: &PackFile, ids: &mut BTreeSet<String>, text: &str) {
        match parsed {
            Err(problem) => self.problems.push(problem),
            Ok(declared) => {
                for result in declared {
                    match result {
                        Ok(d) => self.add(d.check, origin, Some(d.line), ids, text),
                        Err(problem) => self.problems.push(problem),
                    }
                }
            }
        }
    }

    fn add(
        &mut self,
        check: PackCheck,
        origin: &PackFile,
        line: Option<usize>,
        ids: &mut BTreeSet<String>,
        text: &str,
    ) {
        let id = check.meta.id.to_string();
        let refuse = if self.taken.contains(&id.as_str()) {
            Some(format!("id {id:?} is a built-in check's; give this check another id (and --skip {id} to replace it)"))
        } else if id == LOAD_ID {
            Some(format!("id {id:?} is reserved for reporting pack problems"))
        } else if !ids.insert(id.clone()) {
            Some(format!("id {id:?} is declared twice in this directory"))
        } else {
            None
        };
        if let Some(message) = refuse {
            return self.problems.push(LoadProblem::new(&origin.file, line, message, text));
        }
        match self.checks.iter_mut().find(|c| c.meta.id == id) {
            Some(earlier) => *earlier = check,
            None => self.checks.push(check),
        }
    }

    fn finish(self) -> Loaded {
        let probes = self.checks.iter().map(|c| c.probe.clone()).collect();
        let mut checks: Vec<Arc<dyn Check>> = self.checks.into_iter().map(|c| Arc::new(c) as Arc<dyn Check>).collect();
        if !self.problems.is_empty() {
            checks.push(Arc::new(PackProblems::new(self.problems)));
        }
        Loaded { checks, probes, ignored: self.ignored }
    }
}

/// A file of a pack directory, read and parsed.
enum Entry {
    Pack(String, Parsed),
    Plugin(PathBuf),
    Unreadable(String),
}

/// `packs.load`: the packs that could not be loaded, each an `error` finding.
struct PackProblems {
    meta: CheckMeta,
    problems: Vec<LoadProblem>,
}

impl PackProblems {
    fn new(problems: Vec<LoadProblem>) -> Self {
        let listed: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.location(), p.message)).collect();
        let meta = CheckMeta {
            id: Cow::Borrowed(LOAD_ID),
            title: Cow::Owned(format!(
                "Check packs load ({} problems; see `clusterdoc explain {LOAD_ID}`)",
                problems.len()
            )),
            severity: Status::Error,
            needs: &[],
            tags: texts!["packs"],
            source: Cow::Borrowed("built-in"),
            explain: Explain {
                what: Cow::Owned(format!(
                    "Whether every check pack (checks/packs built in, /etc/clusterdoc/checks.d, each --checks-dir) loads. Packs that others could have written, or inside --root DIR, are not loaded at all: they are named on stderr and in the report's `ignored` list, not here. This time:\n{}",
                    listed.join("\n")
                )),
                why: Cow::Borrowed(
                    "A check whose pack does not load does not run, so its pitfall goes unexamined while the rest of the report looks complete.",
                ),
                fix: Cow::Borrowed(
                    "Correct the file at the line shown (checks/packs/README.md describes the format), or remove it from the pack directory.",
                ),
                risk: Cow::Borrowed("This check prints no commands."),
                references: Cow::Borrowed(&[]),
            },
        };
        PackProblems { meta, problems }
    }
}

impl Check for PackProblems {
    fn meta(&self) -> &CheckMeta {
        &self.meta
    }

    fn run(&self, _facts: &Facts) -> Verdict {
        let findings = self
            .problems
            .iter()
            .map(|p| {
                let finding = Finding::new(Status::Error, p.location(), p.message.clone());
                match &p.text {
                    Some(text) if !text.is_empty() => finding.evidence(format!("line {}: {text}", p.line.unwrap_or(0))),
                    _ => finding,
                }
                .evidence("its checks did not run; all other checks did")
            })
            .collect();
        Ok(Conclusion::findings(findings, "check packs"))
    }
}

#[cfg(test)]
mod tests;
