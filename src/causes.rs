//! Root causes first (DESIGN.md C2): which problems of a judged report
//! explain which, by the dependencies in `checks/data/dependencies.toml`.
//! A dependent keeps its status (the exit code counts it) and names its
//! causes; the problems nothing explains are the report's roots, in the
//! order to fix them.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use serde::Deserialize;

use crate::facts::knowledge::{DEPENDENCIES, data_dirs, data_file};
use crate::remedy::Remedy;
use crate::report::{Cause, CheckReport, Report, RootCause, Scope, ScopeKind, Status, UNJUDGED};

/// Which problems explain which, as read from the data file.
#[derive(Clone, Debug)]
pub struct Dependencies {
    edges: Vec<Edge>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DependencyFile {
    #[serde(default)]
    edge: Vec<Edge>,
}

/// A parent's problems explain a dependent's when both are about the same thing.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    pub parent: Selector,
    pub dependent: Selector,
    pub same: ScopeKind,
    #[serde(default)]
    pub why: String,
}

/// Some problems of a check.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// An id or a family (`zk.`), as `--only` reads it.
    pub check: String,
    /// Their kinds (`no-quorum`, [`UNJUDGED`]); none: every problem.
    #[serde(default)]
    pub problems: Vec<String>,
    /// Their subjects, `*` globs; none: every subject.
    #[serde(default)]
    pub subjects: Vec<String>,
}

impl Selector {
    fn selects(&self, problem: &Problem) -> bool {
        crate::glob::check_matches(&self.check, problem.check)
            && (self.problems.is_empty() || self.problems.iter().any(|p| p == problem.kind.unwrap_or_default()))
            && (self.subjects.is_empty() || self.subjects.iter().any(|s| crate::glob::matches(s, problem.subject)))
    }
}

impl Dependencies {
    /// The embedded file, or its last override among the system directory
    /// and `checks_dirs`; the error names the file and what is wrong.
    pub fn load(checks_dirs: &[PathBuf]) -> Result<Dependencies, String> {
        let (text, from) = data_file(&data_dirs(checks_dirs), DEPENDENCIES)?;
        let origin = from.map_or_else(|| format!("built-in {}", DEPENDENCIES.0), |p| p.display().to_string());
        Dependencies::parse(&text).map_err(|e| format!("{origin}: {e}"))
    }

    fn parse(text: &str) -> Result<Dependencies, String> {
        let file: DependencyFile = toml::from_str(text).map_err(|e| e.to_string())?;
        for (n, edge) in file.edge.iter().enumerate() {
            if edge.parent.check.trim().is_empty() || edge.dependent.check.trim().is_empty() {
                return Err(format!("edge {}: parent and dependent each name a check", n + 1));
            }
        }
        Ok(Dependencies { edges: file.edge })
    }

    /// Marks each problem of `report` that another explains with
    /// `caused_by`, and lists the roots in `report.root_causes`. Problems a
    /// waiver or the baseline accepts take no part.
    pub fn trace(&self, report: &mut Report) {
        let problems = problems_of(&report.checks);
        let parents = self.links(&problems);
        let groups = Groups::of(&problems, &self.edges);
        let causes: Vec<Vec<Cause>> = parents
            .iter()
            .map(|of| {
                let mut named: Vec<Cause> = Vec::new();
                for &p in of {
                    let cause = groups.cause(p, &problems);
                    if !named.contains(&cause) {
                        named.push(cause);
                    }
                }
                named
            })
            .collect();
        let roots = groups.roots(&problems, &parents, &report.checks);
        let places: Vec<(usize, Option<usize>)> = problems.iter().map(|p| p.at).collect();
        clear(&mut report.checks);
        for ((c, finding), caused_by) in places.into_iter().zip(causes) {
            let check = &mut report.checks[c];
            match finding {
                Some(f) => check.findings[f].caused_by = caused_by,
                None => check.caused_by = caused_by,
            }
        }
        report.root_causes = roots;
    }

    /// For each problem, the problems that explain it directly. A link that
    /// would close a circle is left out: the first found wins.
    fn links(&self, problems: &[Problem]) -> Vec<Vec<usize>> {
        let mut parents: Vec<Vec<usize>> = vec![Vec::new(); problems.len()];
        for edge in &self.edges {
            let froms: Vec<usize> = (0..problems.len()).filter(|&p| edge.parent.selects(&problems[p])).collect();
            for (d, dependent) in problems.iter().enumerate() {
                if !edge.dependent.selects(dependent) {
                    continue;
                }
                for &p in &froms {
                    let explains = p != d
                        && problems[p].at.0 != dependent.at.0
                        && same(problems[p].scope, dependent.scope, edge.same)
                        && !parents[d].contains(&p)
                        && !descends(&parents, p, d);
                    if explains {
                        parents[d].push(p);
                    }
                }
            }
        }
        parents
    }
}

/// Whether `d` explains `p` already, directly or through others.
fn descends(parents: &[Vec<usize>], p: usize, d: usize) -> bool {
    let mut seen = vec![false; parents.len()];
    let mut stack = vec![p];
    while let Some(n) = stack.pop() {
        if n == d {
            return true;
        }
        if !std::mem::replace(&mut seen[n], true) {
            stack.extend(&parents[n]);
        }
    }
    false
}

/// Whether a parent and a dependent are about the same thing of `kind`:
/// each thing the dependent is about is one the parent is about. A side
/// that says nothing of that kind never matches.
fn same(parent: &[Scope], dependent: &[Scope], kind: ScopeKind) -> bool {
    let mut about = dependent.iter().filter(|s| s.kind == kind).peekable();
    about.peek().is_some() && about.all(|d| parent.iter().any(|p| p.same_as(d)))
}

/// A problem of the report: a finding, or a check that ended `error` with
/// only a reason.
struct Problem<'a> {
    /// The check's place, and the finding's (None: the check itself).
    at: (usize, Option<usize>),
    check: &'a str,
    kind: Option<&'a str>,
    subject: &'a str,
    message: &'a str,
    node: Option<&'a str>,
    status: Status,
    scope: &'a [Scope],
}

fn problems_of(checks: &[CheckReport]) -> Vec<Problem<'_>> {
    let mut problems = Vec::new();
    for (c, check) in checks.iter().enumerate() {
        if check.status == Status::Error && check.findings.is_empty() {
            problems.push(Problem {
                at: (c, None),
                check: &check.id,
                kind: Some(UNJUDGED),
                subject: "not judged",
                message: check.reason.as_deref().unwrap_or(&check.title),
                node: None,
                status: check.status,
                scope: &check.scope,
            });
        }
        for (f, finding) in check.findings.iter().enumerate() {
            if finding.status.is_problem() && finding.counts() {
                problems.push(Problem {
                    at: (c, Some(f)),
                    check: &check.id,
                    kind: finding.problem,
                    subject: &finding.subject,
                    message: &finding.message,
                    node: finding.node.as_deref(),
                    status: finding.status,
                    scope: &finding.scope,
                });
            }
        }
    }
    problems
}

/// Problems that are one cause: those of a check, on one node, of one
/// kind, about the same thing a dependency compares (zk.quorum's finding
/// for each stopped server of an ensemble without quorum). Others stand
/// alone.
struct Groups {
    /// Each problem's group.
    of: Vec<usize>,
    /// Each group's members.
    members: Vec<Vec<usize>>,
    /// Each group's name, when it has several members.
    names: Vec<Option<String>>,
}

impl Groups {
    fn of(problems: &[Problem], edges: &[Edge]) -> Groups {
        // A check's place, the node, the kind and the thing's first name.
        type Key<'a> = (usize, Option<&'a str>, Option<&'a str>, String);
        let mut keys: HashMap<Key, usize> = HashMap::new();
        let mut groups = Groups { of: Vec::new(), members: Vec::new(), names: Vec::new() };
        for (n, problem) in problems.iter().enumerate() {
            let thing = edges
                .iter()
                .filter(|e| e.parent.selects(problem))
                .find_map(|e| problem.scope.iter().find(|s| s.kind == e.same));
            let group = match thing {
                Some(thing) => {
                    let key = (problem.at.0, problem.node, problem.kind, thing.names[0].clone());
                    *keys.entry(key).or_insert_with(|| {
                        groups.members.push(Vec::new());
                        groups.names.push(Some(thing.describe()));
                        groups.members.len() - 1
                    })
                }
                None => {
                    groups.members.push(Vec::new());
                    groups.names.push(None);
                    groups.members.len() - 1
                }
            };
            groups.of.push(group);
            groups.members[group].push(n);
        }
        groups
    }

    /// How a dependent names the cause `p` stands for.
    fn cause(&self, p: usize, problems: &[Problem]) -> Cause {
        let group = self.of[p];
        let problem = &problems[p];
        Cause {
            check: problem.check.to_string(),
            subject: self.subject(group, problems),
            node: problem.node.map(String::from),
        }
    }

    fn subject(&self, group: usize, problems: &[Problem]) -> String {
        let first = &problems[self.members[group][0]];
        match &self.names[group] {
            Some(name) if self.members[group].len() > 1 || first.kind == Some(UNJUDGED) => name.clone(),
            _ => first.subject.to_string(),
        }
    }

    /// The groups with a member nothing explains, each with what it
    /// explains, most first (then the worst, then in report order).
    fn roots(&self, problems: &[Problem], parents: &[Vec<usize>], checks: &[CheckReport]) -> Vec<RootCause> {
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); problems.len()];
        for (d, of) in parents.iter().enumerate() {
            for &p in of {
                children[p].push(d);
            }
        }
        let mut roots: Vec<(usize, RootCause)> = Vec::new();
        for (group, members) in self.members.iter().enumerate() {
            if members.iter().all(|&m| !parents[m].is_empty()) {
                continue;
            }
            let explained = explained_by(members, &children);
            let checks_named: BTreeSet<usize> = explained.iter().map(|&d| problems[d].at.0).collect();
            let first = &problems[members[0]];
            let mut remediation: Vec<Remedy> = Vec::new();
            for &m in members {
                if let (c, Some(f)) = problems[m].at {
                    for remedy in &checks[c].findings[f].remediation {
                        if !remediation.contains(remedy) {
                            remediation.push(remedy.clone());
                        }
                    }
                }
            }
            let root = RootCause {
                check: first.check.to_string(),
                subject: self.subject(group, problems),
                node: first.node.map(String::from),
                status: crate::report::worst(members.iter().map(|&m| problems[m].status)),
                message: first.message.to_string(),
                explains: explained.len(),
                explained_checks: checks_named.into_iter().map(|c| checks[c].id.clone()).collect(),
                remediation,
                members: members.iter().map(|&m| problems[m].at).collect(),
            };
            roots.push((first.at.0, root));
        }
        let severity = |s: Status| match s {
            Status::Fail => 0,
            Status::Error => 1,
            _ => 2,
        };
        roots.sort_by_key(|(at, r)| (std::cmp::Reverse(r.explains), severity(r.status), *at));
        roots.into_iter().map(|(_, root)| root).collect()
    }
}

/// The problems `members` explain, directly or through others (not themselves).
fn explained_by(members: &[usize], children: &[Vec<usize>]) -> BTreeSet<usize> {
    let mut found = BTreeSet::new();
    let mut stack: Vec<usize> = members.iter().flat_map(|&m| children[m].iter().copied()).collect();
    while let Some(n) = stack.pop() {
        if !members.contains(&n) && found.insert(n) {
            stack.extend(&children[n]);
        }
    }
    found
}

/// Forgets what an earlier trace wrote.
fn clear(checks: &mut [CheckReport]) {
    for check in checks {
        check.caused_by.clear();
        for finding in &mut check.findings {
            finding.caused_by.clear();
        }
    }
}

#[cfg(test)]
mod tests;
