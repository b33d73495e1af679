//! The TOML form of pack checks, and its translation into a probe (what to
//! look at), an expectation (how to judge it) and remediation templates.
//! Every mistake is reported with its line: TOML errors where they are, a
//! bad declaration at the line of its `id`.

use std::borrow::Cow;
use std::path::Path;

use regex_lite::Regex;
use serde::Deserialize;
use toml::Spanned;

use super::judge::{Bounds, Expect, JsonExpect, JsonTest, PortState, TextTest};
use super::template::{RemedyTemplate, Var};
use super::{LoadProblem, PackCheck};
use crate::checks::{CheckMeta, Explain, Texts, texts};
use crate::config::MAX_DURATION;
use crate::facts::Need;
use crate::facts::packs::{PackProbe, Part, Probe, Template};
use crate::facts::systemd::Restart;
use crate::remedy::Risk;
use crate::report::Status;

/// The file a pack came from.
pub struct PackFile<'a> {
    /// `built-in` or the file's path: the `source` that `list` shows.
    pub source: &'a str,
    /// How problems name the file.
    pub file: String,
    /// The pack's directory (plugins are found there); none for built-in packs.
    pub dir: Option<&'a Path>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackDef {
    #[serde(default)]
    check: Vec<CheckDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckDef {
    /// Spanned: problems name the line of the id.
    id: Spanned<String>,
    title: String,
    severity: SeverityDef,
    #[serde(default)]
    tags: Vec<String>,
    explain: ExplainDef,
    #[serde(default)]
    remedy: Vec<RemedyDef>,
    /// Look only when one of these paths exists on the node.
    #[serde(default)]
    only_if_exists: Vec<String>,
    tcp: Option<TcpDef>,
    http: Option<HttpDef>,
    command: Option<CommandDef>,
    unit: Option<UnitDef>,
    file: Option<FileDef>,
    process: Option<ProcessDef>,
    plugin: Option<PluginDef>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SeverityDef {
    Warn,
    Fail,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainDef {
    what: String,
    why: String,
    fix: String,
    risk: Option<String>,
    #[serde(default)]
    references: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemedyDef {
    command: String,
    risk: Risk,
    note: Option<String>,
}

#[derive(Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum PortDef {
    #[default]
    Open,
    Closed,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TcpDef {
    address: String,
    #[serde(default)]
    expect: PortDef,
    send: Option<String>,
    #[serde(rename = "match")]
    pattern: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StatusDef {
    One(u16),
    Many(Vec<u16>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpDef {
    url: String,
    status: Option<StatusDef>,
    #[serde(default)]
    json: Vec<JsonDef>,
    max_date_skew: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonDef {
    pointer: String,
    equals: Option<toml::Value>,
    contains: Option<toml::Value>,
    min: Option<f64>,
    max: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandDef {
    argv: Vec<String>,
    #[serde(default)]
    exit: i32,
    #[serde(rename = "match")]
    pattern: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitDef {
    unit: String,
    enabled: Option<bool>,
    active: Option<bool>,
    restart: Option<Restart>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDef {
    path: String,
    #[serde(default = "yes")]
    exists: bool,
    /// Octal text: `"0600"`.
    mode: Option<String>,
    contains: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcessDef {
    #[serde(rename = "match")]
    pattern: String,
    running: Option<bool>,
    min: Option<usize>,
    max: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginDef {
    /// The executable: a file of the pack's directory, or an absolute path.
    path: String,
    #[serde(default)]
    args: Vec<String>,
}

/// A check declared by a pack, with the plugin file of its directory it
/// claims (that file is then not a bare plugin check of its own).
pub struct Declared {
    pub check: PackCheck,
    pub claims: Option<String>,
    pub line: usize,
}

/// The checks of one TOML pack: `Err` when the file does not parse at all,
/// else each `[[check]]`, declared or refused with its line.
pub type Parsed = Result<Vec<Result<Declared, LoadProblem>>, LoadProblem>;

pub fn parse_pack(text: &str, origin: &PackFile) -> Parsed {
    let pack: PackDef = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|span| line_of(text, span.start));
        LoadProblem::new(&origin.file, line, e.message().trim().to_string(), text)
    })?;
    if pack.check.is_empty() {
        return Err(LoadProblem::new(&origin.file, None, "no [[check]] table: not a check pack".into(), text));
    }
    Ok(pack
        .check
        .into_iter()
        .map(|def| {
            let line = line_of(text, def.id.span().start);
            let id = def.id.get_ref().clone();
            build(def, origin)
                .map(|(check, claims)| Declared { check, claims, line })
                .map_err(|e| LoadProblem::new(&origin.file, Some(line), format!("check {id:?}: {e}"), text))
        })
        .collect())
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Ids are words a shell and `--only` take as they are.
pub fn check_id(id: &str) -> Result<(), String> {
    let fine = !id.is_empty()
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && !id.starts_with('.')
        && !id.ends_with('.');
    if fine {
        Ok(())
    } else {
        Err(format!("id {id:?}: use letters, digits, '.', '-' and '_' (not at either end a '.')"))
    }
}

fn build(def: CheckDef, origin: &PackFile) -> Result<(PackCheck, Option<String>), String> {
    let id = def.id.get_ref().clone();
    check_id(&id)?;
    for path in &def.only_if_exists {
        if !path.starts_with('/') {
            return Err(format!("only_if_exists: {path:?} is not an absolute path"));
        }
    }
    let kind = Kind::of(&def)?;
    let (probe, expect, claims) = kind.build(origin)?;
    let mut vars = vec![("target", Var::Target)];
    if matches!(probe, Probe::Tcp { .. } | Probe::Http { .. }) || probe.list().is_some() {
        vars.extend([("host", Var::Host), ("port", Var::Port)]);
    }
    match &probe {
        Probe::Unit { .. } => vars.push(("unit", Var::Target)),
        Probe::File { .. } => vars.push(("path", Var::Target)),
        _ => {}
    }
    let remedies = def
        .remedy
        .into_iter()
        .map(|r| RemedyTemplate::parse(&r.command, &vars, r.risk, r.note))
        .collect::<Result<Vec<_>, _>>()?;
    let severity = match def.severity {
        SeverityDef::Warn => Status::Warn,
        SeverityDef::Fail => Status::Fail,
    };
    let risk = def.explain.risk.unwrap_or_else(|| default_risk(&remedies));
    let mut references = def.explain.references;
    references.push(declared_in(origin));
    let meta = CheckMeta {
        id: Cow::Owned(id.clone()),
        title: Cow::Owned(def.title),
        severity,
        needs: &[Need::Packs],
        tags: owned_all(def.tags),
        source: Cow::Owned(origin.source.to_string()),
        explain: Explain {
            what: Cow::Owned(def.explain.what),
            why: Cow::Owned(def.explain.why),
            fix: Cow::Owned(def.explain.fix),
            risk: Cow::Owned(risk),
            references: owned_all(references),
        },
    };
    let probe = PackProbe { check: id, pack: origin.source.to_string(), probe, only_if_exists: def.only_if_exists };
    Ok((PackCheck { meta, probe, expect, remedies }, claims))
}

/// Owned [`Texts`] for a pack check's metadata.
pub fn owned_all(texts: Vec<String>) -> Texts {
    Cow::Owned(texts.into_iter().map(Cow::Owned).collect())
}

fn default_risk(remedies: &[RemedyTemplate]) -> String {
    let mut risks: Vec<Risk> = remedies.iter().map(|r| r.risk()).collect();
    risks.sort();
    risks.dedup();
    match risks.as_slice() {
        [] => "This check prints no commands.".into(),
        risks => format!(
            "Each printed command is labelled with its risk ({}).",
            risks.iter().map(Risk::to_string).collect::<Vec<_>>().join(", ")
        ),
    }
}

pub fn declared_in(origin: &PackFile) -> String {
    match origin.dir {
        Some(_) => format!("declared in {}", origin.file),
        None => format!(
            "declared in the built-in pack {}; a check with the same id in /etc/clusterdoc/checks.d or a --checks-dir replaces it",
            origin.file
        ),
    }
}

/// The one kind table of a check.
enum Kind<'a> {
    Tcp(&'a TcpDef),
    Http(&'a HttpDef),
    Command(&'a CommandDef),
    Unit(&'a UnitDef),
    File(&'a FileDef),
    Process(&'a ProcessDef),
    Plugin(&'a PluginDef),
}

type Built = (Probe, Expect, Option<String>);

impl<'a> Kind<'a> {
    fn of(def: &'a CheckDef) -> Result<Self, String> {
        let kinds: Vec<Kind> = [
            def.tcp.as_ref().map(Kind::Tcp),
            def.http.as_ref().map(Kind::Http),
            def.command.as_ref().map(Kind::Command),
            def.unit.as_ref().map(Kind::Unit),
            def.file.as_ref().map(Kind::File),
            def.process.as_ref().map(Kind::Process),
            def.plugin.as_ref().map(Kind::Plugin),
        ]
        .into_iter()
        .flatten()
        .collect();
        let count = kinds.len();
        match <[Kind; 1]>::try_from(kinds) {
            Ok([kind]) => Ok(kind),
            Err(_) => Err(format!(
                "needs exactly one of the tables [check.tcp], [check.http], [check.command], [check.unit], [check.file], [check.process], [check.plugin] (found {count})"
            )),
        }
    }

    fn build(&self, origin: &PackFile) -> Result<Built, String> {
        match self {
            Kind::Tcp(def) => tcp(def),
            Kind::Http(def) => http(def),
            Kind::Command(def) => command(def),
            Kind::Unit(def) => unit(def),
            Kind::File(def) => file(def),
            Kind::Process(def) => process(def),
            Kind::Plugin(def) => plugin(def, origin),
        }
    }
}

fn regex(field: &str, pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| format!("{field}: not a regex: {e}"))
}

/// A `match` regex with optional bounds on the number it captures.
fn text_test(
    kind: &str,
    pattern: Option<&str>,
    min: Option<f64>,
    max: Option<f64>,
) -> Result<Option<TextTest>, String> {
    let bounds = Bounds::new(min, max);
    match (pattern, bounds) {
        (None, Some(_)) => Err(format!("{kind}: min/max need a `match` regex whose first group is the number")),
        (None, None) => Ok(None),
        (Some(pattern), bounds) => Ok(Some(TextTest { regex: regex(&format!("{kind}.match"), pattern)?, bounds })),
    }
}

fn tcp(def: &TcpDef) -> Result<Built, String> {
    let address = Template::parse(&def.address, Part::Address).map_err(|e| format!("tcp.address: {e}"))?;
    let reply = text_test("tcp", def.pattern.as_deref(), def.min, def.max)?;
    let state = match def.expect {
        PortDef::Open => PortState::Open,
        PortDef::Closed if def.send.is_some() || reply.is_some() => {
            return Err("tcp: a port expected closed has no reply to send to or match".into());
        }
        PortDef::Closed => PortState::Closed,
    };
    let read_reply = def.send.is_some() || reply.is_some();
    let probe = Probe::Tcp { address, send: def.send.clone(), read_reply };
    Ok((probe, Expect::Tcp { state, reply }, None))
}

fn http(def: &HttpDef) -> Result<Built, String> {
    let url = Template::parse(&def.url, Part::Url).map_err(|e| format!("http.url: {e}"))?;
    if url.list().is_none() {
        reqwest::Url::parse(&def.url).map_err(|e| format!("http.url {:?}: {e}", def.url))?;
    }
    let status = match &def.status {
        None => Vec::new(),
        Some(StatusDef::One(code)) => vec![*code],
        Some(StatusDef::Many(codes)) => codes.clone(),
    };
    if let Some(bad) = status.iter().find(|c| !(100..=599).contains(*c)) {
        return Err(format!("http.status: {bad} is not an HTTP status"));
    }
    let json = def.json.iter().map(json_expect).collect::<Result<Vec<_>, _>>()?;
    let max_date_skew = def
        .max_date_skew
        .as_deref()
        .map(|text| {
            let skew =
                humantime::parse_duration(text).map_err(|e| format!("http.max_date_skew {text:?}: {e} (e.g. 2s)"))?;
            if skew > MAX_DURATION {
                let most = humantime::format_duration(MAX_DURATION);
                return Err(format!("http.max_date_skew {text:?}: longer than the most allowed, {most}"));
            }
            Ok(skew)
        })
        .transpose()?;
    let pointers = json.iter().map(|j| j.pointer.clone()).collect();
    Ok((Probe::Http { url, pointers }, Expect::Http { status, json, max_date_skew }, None))
}

fn json_expect(def: &JsonDef) -> Result<JsonExpect, String> {
    if !(def.pointer.is_empty() || def.pointer.starts_with('/')) {
        return Err(format!("http.json: pointer {:?} must start with '/' (RFC 6901)", def.pointer));
    }
    let value = |v: &toml::Value| serde_json::to_value(v).map_err(|e| format!("http.json: {e}"));
    let test = match (&def.equals, &def.contains, Bounds::new(def.min, def.max)) {
        (Some(v), None, None) => JsonTest::Equals(value(v)?),
        (None, Some(v), None) => JsonTest::Contains(value(v)?),
        (None, None, Some(bounds)) => JsonTest::Within(bounds),
        _ => return Err(format!("http.json {:?}: give one of equals, contains, or min/max", def.pointer)),
    };
    Ok(JsonExpect { pointer: def.pointer.clone(), test })
}

/// Argument templates; together they may name one endpoint list.
fn words(field: &str, words: &[String]) -> Result<Vec<Template>, String> {
    let templates = words
        .iter()
        .map(|w| Template::parse(w, Part::Address))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{field}: {e}"))?;
    let mut lists: Vec<_> = templates.iter().filter_map(Template::list).collect();
    lists.sort();
    lists.dedup();
    if lists.len() > 1 {
        return Err(format!("{field}: names more than one endpoint list; a check fans out over one"));
    }
    Ok(templates)
}

fn command(def: &CommandDef) -> Result<Built, String> {
    if def.argv.first().is_none_or(|p| p.trim().is_empty()) {
        return Err("command.argv: the program to run comes first (argv, not a shell line)".into());
    }
    let argv = words("command.argv", &def.argv)?;
    let stdout = text_test("command", def.pattern.as_deref(), def.min, def.max)?;
    Ok((Probe::Command { argv }, Expect::Command { exit: def.exit, stdout }, None))
}

fn unit(def: &UnitDef) -> Result<Built, String> {
    if def.unit.trim().is_empty() || def.unit.starts_with('-') {
        return Err(format!("unit.unit {:?} is not a unit name", def.unit));
    }
    if def.enabled.is_none() && def.active.is_none() && def.restart.is_none() {
        return Err("unit: expect at least one of enabled, active, restart".into());
    }
    let expect = Expect::Unit { enabled: def.enabled, active: def.active, restart: def.restart };
    Ok((Probe::Unit { unit: def.unit.clone() }, expect, None))
}

fn file(def: &FileDef) -> Result<Built, String> {
    if !def.path.starts_with('/') {
        return Err(format!("file.path {:?} is not an absolute path", def.path));
    }
    if !def.exists && (def.mode.is_some() || def.contains.is_some()) {
        return Err("file: a file expected absent has no mode or content".into());
    }
    let mode = def
        .mode
        .as_deref()
        .map(|m| {
            u32::from_str_radix(m, 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .ok_or(format!("file.mode {m:?}: not an octal mode like \"0640\""))
        })
        .transpose()?;
    if let Some(pattern) = &def.contains {
        regex("file.contains", pattern)?;
    }
    let probe = Probe::File { path: def.path.clone(), lines: def.contains.clone() };
    Ok((probe, Expect::File { exists: def.exists, mode, contains: def.contains.is_some() }, None))
}

fn process(def: &ProcessDef) -> Result<Built, String> {
    regex("process.match", &def.pattern)?;
    if def.running.is_none() && def.min.is_none() && def.max.is_none() {
        return Err("process: expect at least one of running, min, max".into());
    }
    let expect = Expect::Process { running: def.running, min: def.min, max: def.max };
    Ok((Probe::Process { pattern: def.pattern.clone() }, expect, None))
}

fn plugin(def: &PluginDef, origin: &PackFile) -> Result<Built, String> {
    let given = Path::new(&def.path);
    let (path, claims) = match origin.dir {
        _ if given.is_absolute() => (given.to_path_buf(), None),
        Some(dir) => (dir.join(given), given.to_str().filter(|p| !p.contains('/')).map(String::from)),
        None => return Err(format!("plugin.path {:?}: a built-in pack can name only absolute paths", def.path)),
    };
    let args = words("plugin.args", &def.args)?;
    Ok((Probe::Plugin { path, args }, Expect::Plugin, claims))
}

/// A check for an executable of a pack directory that no TOML entry beside
/// it describes: its id is its file name.
pub fn bare_plugin(path: &Path, origin: &PackFile) -> Result<PackCheck, String> {
    let name = path.file_name().and_then(|n| n.to_str()).ok_or("the file name is not UTF-8")?;
    check_id(name)?;
    let meta = CheckMeta {
        id: Cow::Owned(name.to_string()),
        title: Cow::Owned(format!("Plugin {name}")),
        severity: Status::Fail,
        needs: &[Need::Packs],
        tags: texts!["plugin"],
        source: Cow::Owned(origin.source.to_string()),
        explain: Explain {
            what: Cow::Owned(format!(
                "Runs the executable {} as a Nagios plugin: exit 0 is ok, 1 warning, 2 critical (fail), 3 unknown (error); the first line of its output is the message, performance data after '|' is kept as evidence.",
                path.display()
            )),
            why: Cow::Borrowed("See the plugin's own documentation: clusterdoc only runs it."),
            fix: Cow::Owned(format!(
                "Follow the plugin's message. To give it a title, explain text and remediation commands, describe it in a TOML pack in the same directory: [[check]] with [check.plugin] path = {name:?}."
            )),
            risk: Cow::Borrowed("This check prints no commands."),
            references: owned_all(vec![declared_in(origin)]),
        },
    };
    let probe = PackProbe {
        check: name.to_string(),
        pack: origin.source.to_string(),
        probe: Probe::Plugin { path: path.to_path_buf(), args: Vec::new() },
        only_if_exists: Vec::new(),
    };
    Ok(PackCheck { meta, probe, expect: Expect::Plugin, remedies: Vec::new() })
}
