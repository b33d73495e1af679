//! Flink settings in command lines: the `-Dkey=value` dynamic properties that
//! `mesos-appmaster.sh`, the JobManager and the TaskManagers take, the ports
//! they decide, and a command line rewritten with other values.
//!
//! Marathon runs an app's `cmd` with `sh -c`, so it is split into words the
//! way the shell does (quotes, backslashes, operators); an app's `args` and a
//! process's argv are words already.

use std::ops::Range;

/// What starts a Flink JobManager: the Mesos session script and the
/// JobManager main classes (Flink 1.1-1.4 Mesos, 1.5+ Mesos, standalone).
const JOBMANAGER_LAUNCHERS: [&str; 6] = [
    "mesos-appmaster.sh",
    "jobmanager.sh",
    "org.apache.flink.mesos.runtime.clusterframework.MesosApplicationMasterRunner",
    "org.apache.flink.mesos.entrypoint.MesosSessionClusterEntrypoint",
    "org.apache.flink.runtime.jobmanager.JobManager",
    "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
];

/// The TaskManager main classes (Flink 1.1-1.4 Mesos, 1.5+ Mesos, 1.5+ standalone).
const TASKMANAGER_CLASSES: [&str; 3] = [
    "org.apache.flink.mesos.runtime.clusterframework.MesosTaskManager",
    "org.apache.flink.mesos.entrypoint.MesosTaskExecutorRunner",
    "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
];

pub const RPC_ADDRESS: &str = "jobmanager.rpc.address";
pub const RPC_PORT: &str = "jobmanager.rpc.port";
/// Flink < 1.5; still read by 1.5+ as the deprecated name of `rest.port`.
pub const WEB_PORT: &str = "jobmanager.web.port";
pub const REST_PORT: &str = "rest.port";
pub const BLOB_PORT: &str = "blob.server.port";
pub const DEFAULT_RPC_PORT: u16 = 6123;
pub const DEFAULT_WEB_PORT: u16 = 8081;

/// Characters that end a word in `sh` unless quoted.
const SHELL_OPERATORS: &[char] = &[';', '&', '|', '<', '>', '(', ')'];

/// A word of a shell command line, its quotes removed, and the bytes of the
/// line it was written in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub span: Range<usize>,
}

/// Splits a command line into words as `sh` does: blanks and operators
/// separate, single and double quotes and backslashes escape. Never fails: an
/// unclosed quote runs to the end of the line.
pub fn shell_words(line: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut current: Option<(usize, String)> = None;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() || SHELL_OPERATORS.contains(&c) {
            if let Some((start, text)) = current.take() {
                words.push(Word { text, span: start..i });
            }
            continue;
        }
        let text = &mut current.get_or_insert_with(|| (i, String::new())).1;
        match c {
            '\'' => text.extend(chars.by_ref().map(|(_, c)| c).take_while(|&c| c != '\'')),
            '"' => {
                while let Some((_, c)) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next_if(|&(_, n)| matches!(n, '"' | '\\' | '$' | '`')) {
                            Some((_, escaped)) => text.push(escaped),
                            None => text.push('\\'),
                        },
                        c => text.push(c),
                    }
                }
            }
            '\\' => {
                if let Some((_, escaped)) = chars.next().filter(|&(_, n)| n != '\n') {
                    text.push(escaped);
                }
            }
            c => text.push(c),
        }
    }
    if let Some((start, text)) = current {
        words.push(Word { text, span: start..line.len() });
    }
    words
}

/// One `-Dkey=value` (or `-D key=value`) setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    pub key: String,
    pub value: String,
    /// The word that holds `key=value`.
    word: usize,
    /// Whether that word starts with `-D` (else `-D` is the word before).
    prefixed: bool,
}

/// The dynamic properties among some words, in order.
pub fn dynamic_properties<S: AsRef<str>>(words: &[S]) -> Vec<Property> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let Some(rest) = words[i].as_ref().strip_prefix("-D") else {
            i += 1;
            continue;
        };
        let (word, prefixed, setting) = match (rest, words.get(i + 1).map(AsRef::as_ref)) {
            ("", Some(next)) if !next.starts_with('-') => (i + 1, false, next),
            ("", _) => (i, true, ""),
            (rest, _) => (i, true, rest),
        };
        if let Some((key, value)) = setting.split_once('=').filter(|(key, _)| !key.is_empty()) {
            found.push(Property { key: key.to_string(), value: value.to_string(), word, prefixed });
        }
        i = word + 1;
    }
    found
}

/// A command line, as words, with the text it came from when it was one
/// shell line (a Marathon `cmd`).
#[derive(Clone, Debug)]
pub struct CommandLine<'a> {
    shell: Option<&'a str>,
    words: Vec<Word>,
    properties: Vec<Property>,
}

/// A command line with some settings changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rewritten {
    /// A new `cmd`.
    Shell(String),
    /// New `args`.
    Args(Vec<String>),
}

impl<'a> CommandLine<'a> {
    /// A Marathon app's command: `cmd` (a shell line) or else `args`.
    pub fn of_app(cmd: Option<&'a str>, args: &[String]) -> Self {
        match cmd {
            Some(line) => Self::new(Some(line), shell_words(line)),
            None => Self::new(None, args.iter().map(|a| Word { text: a.clone(), span: 0..0 }).collect()),
        }
    }

    /// A process's argv; an argument that is itself a command line
    /// (`sh -c "..."`) is split into its words too.
    pub fn of_argv(argv: &[String]) -> Self {
        let words = argv
            .iter()
            .flat_map(|arg| match arg.contains(char::is_whitespace) {
                true => shell_words(arg).into_iter().map(|w| w.text).collect(),
                false => vec![arg.clone()],
            })
            .map(|text| Word { text, span: 0..0 })
            .collect();
        Self::new(None, words)
    }

    fn new(shell: Option<&'a str>, words: Vec<Word>) -> Self {
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        let properties = dynamic_properties(&texts);
        CommandLine { shell, words, properties }
    }

    /// The value of a setting; the last one given wins, as in Flink.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.properties.iter().rev().find(|p| p.key == key).map(|p| p.value.as_str())
    }

    /// The word that starts a Flink JobManager, if one does.
    pub fn jobmanager_launcher(&self) -> Option<usize> {
        self.words.iter().position(|w| names_one_of(&w.text, &JOBMANAGER_LAUNCHERS))
    }

    /// Whether this runs a Flink TaskManager class.
    pub fn runs_taskmanager(&self) -> bool {
        self.words.iter().any(|w| names_one_of(&w.text, &TASKMANAGER_CLASSES))
    }

    /// This command line with `changes` (key, new value) applied: every
    /// occurrence of a key given is changed, a key not given is added after
    /// the last `-D` setting (or after the launcher, or at the end).
    pub fn with_settings(&self, changes: &[(&str, String)]) -> Rewritten {
        // (word index, replacement) and (insert after word index, new words)
        let mut replaced: Vec<(usize, String)> = Vec::new();
        let mut added: Vec<String> = Vec::new();
        for (key, value) in changes {
            let mut given = false;
            for p in self.properties.iter().filter(|p| p.key == *key) {
                given = true;
                let prefix = if p.prefixed { "-D" } else { "" };
                replaced.push((p.word, format!("{prefix}{key}={value}")));
            }
            if !given {
                added.push(format!("-D{key}={value}"));
            }
        }
        let anchor = self.properties.last().map(|p| p.word).or_else(|| self.jobmanager_launcher());
        match self.shell {
            Some(line) => Rewritten::Shell(self.rewrite_shell(line, &replaced, anchor, &added)),
            None => Rewritten::Args(self.rewrite_words(&replaced, anchor, added)),
        }
    }

    fn rewrite_shell(
        &self,
        line: &str,
        replaced: &[(usize, String)],
        anchor: Option<usize>,
        added: &[String],
    ) -> String {
        let mut edits: Vec<(Range<usize>, String)> =
            replaced.iter().map(|(word, text)| (self.words[*word].span.clone(), text.clone())).collect();
        if !added.is_empty() {
            let at = anchor.map_or(line.len(), |w| self.words[w].span.end);
            edits.push((at..at, format!(" {}", added.join(" "))));
        }
        // From the end, so that earlier spans stay valid.
        edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
        let mut out = line.to_string();
        for (span, text) in edits {
            out.replace_range(span, &text);
        }
        out
    }

    fn rewrite_words(&self, replaced: &[(usize, String)], anchor: Option<usize>, added: Vec<String>) -> Vec<String> {
        let mut words: Vec<String> = self.words.iter().map(|w| w.text.clone()).collect();
        for (word, text) in replaced {
            words[*word] = text.clone();
        }
        let at = anchor.map_or(words.len(), |w| w + 1);
        words.splice(at..at, added);
        words
    }
}

/// Whether a word names one of `names`: a script by its file name, a class by
/// its full name.
fn names_one_of(word: &str, names: &[&str]) -> bool {
    let file_name = word.rsplit('/').next().unwrap_or(word);
    names.contains(&file_name)
}

/// What a port setting asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortSetting {
    Fixed(u16),
    /// `0`: the system picks a free port.
    Ephemeral,
    /// `-1` (the web monitor is off).
    Disabled,
    /// `$PORT0`, `${PORT_HTTP}`: a port Marathon assigned the task.
    Assigned,
    /// `50100-50200`: Flink takes a free one.
    Range(u16, u16),
}

/// Reads a port setting; Err says why it cannot be read.
pub fn port_setting(text: &str) -> Result<PortSetting, String> {
    let text = text.trim();
    let unreadable = || format!("{text:?} is not a port, -1, 0, a range or a Marathon $PORTn variable");
    if let Some(variable) = text.strip_prefix('$') {
        let name = variable.trim_start_matches('{').trim_end_matches('}');
        return if name.starts_with("PORT") { Ok(PortSetting::Assigned) } else { Err(unreadable()) };
    }
    if let Some((low, high)) = text.split_once('-').filter(|(low, _)| !low.is_empty()) {
        return match (low.trim().parse::<u16>(), high.trim().parse::<u16>()) {
            (Ok(low), Ok(high)) if 0 < low && low <= high => Ok(PortSetting::Range(low, high)),
            _ => Err(unreadable()),
        };
    }
    match text.parse::<i32>().map_err(|_| unreadable())? {
        -1 => Ok(PortSetting::Disabled),
        0 => Ok(PortSetting::Ephemeral),
        port => u16::try_from(port).map(PortSetting::Fixed).map_err(|_| unreadable()),
    }
}

/// What a JobManager port serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortRole {
    Rpc,
    Web,
    Blob,
}

impl PortRole {
    pub fn describe(self) -> &'static str {
        match self {
            PortRole::Rpc => "JobManager RPC",
            PortRole::Web => "JobManager web/REST",
            PortRole::Blob => "blob server",
        }
    }
}

/// A fixed port a Flink JobManager binds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobManagerPort {
    pub role: PortRole,
    pub port: u16,
    /// The setting that moves it.
    pub key: &'static str,
    /// Given on the command line (else Flink's default).
    pub explicit: bool,
}

/// The fixed ports a JobManager started by `line` binds, from its `-D`
/// settings and Flink's defaults (settings in flink-conf.yaml are not
/// visible here). Err names a setting that cannot be read.
pub fn jobmanager_ports(line: &CommandLine) -> Result<Vec<JobManagerPort>, String> {
    let read = |key: &'static str| -> Result<Option<PortSetting>, String> {
        line.setting(key).map(|v| port_setting(v).map_err(|e| format!("-D{key}: {e}"))).transpose()
    };
    let mut ports = Vec::new();
    let mut fixed = |role, key, setting: Option<PortSetting>, default: Option<u16>| match (setting, default) {
        (Some(PortSetting::Fixed(port)), _) => ports.push(JobManagerPort { role, port, key, explicit: true }),
        (None, Some(port)) => ports.push(JobManagerPort { role, port, key, explicit: false }),
        _ => {}
    };
    match read(RPC_PORT)? {
        Some(PortSetting::Disabled | PortSetting::Range(..)) => {
            return Err(format!("-D{RPC_PORT}={} is not a single port", line.setting(RPC_PORT).unwrap_or_default()));
        }
        rpc => fixed(PortRole::Rpc, RPC_PORT, rpc, Some(DEFAULT_RPC_PORT)),
    }
    let (rest, web) = (read(REST_PORT)?, read(WEB_PORT)?);
    if rest.is_none() && web.is_none() {
        fixed(PortRole::Web, WEB_PORT, None, Some(DEFAULT_WEB_PORT));
    }
    fixed(PortRole::Web, REST_PORT, rest, None);
    fixed(PortRole::Web, WEB_PORT, web, None);
    fixed(PortRole::Blob, BLOB_PORT, read(BLOB_PORT)?, None);
    ports.dedup_by(|a, b| a.port == b.port && a.role == b.role);
    Ok(ports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(line: &str) -> Vec<String> {
        shell_words(line).into_iter().map(|w| w.text).collect()
    }

    fn props(line: &str) -> Vec<(String, String)> {
        dynamic_properties(&texts(line)).into_iter().map(|p| (p.key, p.value)).collect()
    }

    fn pair(key: &str, value: &str) -> (String, String) {
        (key.to_string(), value.to_string())
    }

    #[test]
    fn words_split_like_sh() {
        assert_eq!(texts(r#"a  'b c' "d \"e\" \$f" g\ h"#), ["a", "b c", r#"d "e" $f"#, "g h"]);
        assert_eq!(texts("x=1&&y;z|w >log 2>&1"), ["x=1", "y", "z", "w", "log", "2", "1"]);
        assert_eq!(texts("-D'a=b c'd ''"), ["-Da=b cd", ""]);
        assert_eq!(texts("unclosed 'quote runs on"), ["unclosed", "quote runs on"]);
        let words = shell_words("sh  -Dk=\"v\" tail");
        assert_eq!(words[1].span, 4..11);
    }

    #[test]
    fn every_form_of_a_dynamic_property() {
        assert_eq!(
            props(r#"mesos-appmaster.sh -Da=1 -D b=2 "-Dc=3" -D'd'="4 4" -D"e=5" -Dnovalue -D -Dk=v"#),
            [pair("a", "1"), pair("b", "2"), pair("c", "3"), pair("d", "4 4"), pair("e", "5"), pair("k", "v")]
        );
        assert_eq!(props("-D=x -D"), []);
        assert_eq!(props("java -Dlog.file=/x/y=z Main"), [pair("log.file", "/x/y=z")]);
    }

    #[test]
    fn the_last_setting_wins() {
        let line = CommandLine::of_app(Some("x -Djobmanager.rpc.port=1 -Djobmanager.rpc.port=2"), &[]);
        assert_eq!(line.setting(RPC_PORT), Some("2"));
        assert_eq!(line.setting("absent"), None);
    }

    #[test]
    fn port_settings() {
        assert_eq!(port_setting("6124"), Ok(PortSetting::Fixed(6124)));
        assert_eq!(port_setting(" 0 "), Ok(PortSetting::Ephemeral));
        assert_eq!(port_setting("-1"), Ok(PortSetting::Disabled));
        assert_eq!(port_setting("$PORT0"), Ok(PortSetting::Assigned));
        assert_eq!(port_setting("${PORT_HTTP}"), Ok(PortSetting::Assigned));
        assert_eq!(port_setting("50100-50200"), Ok(PortSetting::Range(50100, 50200)));
        for bad in ["", "70000", "-2", "x", "$HOME", "200-100", "1-x", "6123.0"] {
            assert!(port_setting(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_reference_app_binds_the_default_rpc_port_and_no_web_port() {
        let cmd = "/home/flink-1.2.0/bin/mesos-appmaster.sh -Dmesos.master=10.120.177.85:5050 \
                   -Dmesos.initial-tasks=3 -Djobmanager.web.port=-1";
        let line = CommandLine::of_app(Some(cmd), &[]);
        assert_eq!(line.jobmanager_launcher(), Some(0));
        let ports = jobmanager_ports(&line).unwrap();
        assert_eq!(ports, [JobManagerPort { role: PortRole::Rpc, port: 6123, key: RPC_PORT, explicit: false }]);
    }

    #[test]
    fn defaults_explicit_ports_and_what_binds_nothing() {
        let ports = |cmd: &str| {
            let line = CommandLine::of_app(Some(cmd), &[]);
            jobmanager_ports(&line).map(|ps| ps.iter().map(|p| (p.port, p.key, p.explicit)).collect::<Vec<_>>())
        };
        assert_eq!(ports("mesos-appmaster.sh"), Ok(vec![(6123, RPC_PORT, false), (8081, WEB_PORT, false)]));
        assert_eq!(
            ports("x -Djobmanager.rpc.port=6124 -Djobmanager.web.port=8082 -Dblob.server.port=6130"),
            Ok(vec![(6124, RPC_PORT, true), (8082, WEB_PORT, true), (6130, BLOB_PORT, true)])
        );
        assert_eq!(ports("x -Drest.port=8090"), Ok(vec![(6123, RPC_PORT, false), (8090, REST_PORT, true)]));
        assert_eq!(ports("x -Djobmanager.rpc.port=$PORT0 -Drest.port=0 -Dblob.server.port=50100-50200"), Ok(vec![]));
        assert!(ports("x -Djobmanager.rpc.port=$RPC").unwrap_err().contains("-Djobmanager.rpc.port"));
        assert!(ports("x -Djobmanager.rpc.port=-1").is_err());
    }

    #[test]
    fn a_shell_command_is_rewritten_in_place() {
        let line = CommandLine::of_app(Some("cd /x && bin/mesos-appmaster.sh -D jobmanager.rpc.port=6123 >log"), &[]);
        let changed = line.with_settings(&[(RPC_PORT, "6124".into()), (WEB_PORT, "8082".into())]);
        assert_eq!(
            changed,
            Rewritten::Shell(
                "cd /x && bin/mesos-appmaster.sh -D jobmanager.rpc.port=6124 -Djobmanager.web.port=8082 >log".into()
            )
        );
        let quoted = CommandLine::of_app(Some(r#"mesos-appmaster.sh "-Djobmanager.rpc.port=6123" -Dx=1; echo"#), &[]);
        assert_eq!(
            quoted.with_settings(&[(RPC_PORT, "6124".into())]),
            Rewritten::Shell("mesos-appmaster.sh -Djobmanager.rpc.port=6124 -Dx=1; echo".into())
        );
        let bare = CommandLine::of_app(Some("/opt/flink/bin/mesos-appmaster.sh && sleep 1"), &[]);
        assert_eq!(
            bare.with_settings(&[(RPC_PORT, "6124".into())]),
            Rewritten::Shell("/opt/flink/bin/mesos-appmaster.sh -Djobmanager.rpc.port=6124 && sleep 1".into())
        );
    }

    #[test]
    fn args_are_rewritten_word_by_word() {
        let args: Vec<String> =
            ["mesos-appmaster.sh", "-D", "jobmanager.rpc.port=6123", "-Dother=1", "tail"].map(String::from).to_vec();
        let line = CommandLine::of_app(None, &args);
        assert_eq!(
            line.with_settings(&[(RPC_PORT, "6124".into()), (WEB_PORT, "8082".into())]),
            Rewritten::Args(
                [
                    "mesos-appmaster.sh",
                    "-D",
                    "jobmanager.rpc.port=6124",
                    "-Dother=1",
                    "-Djobmanager.web.port=8082",
                    "tail"
                ]
                .map(String::from)
                .to_vec()
            )
        );
    }

    #[test]
    fn taskmanagers_and_jobmanagers_are_known_by_class_or_script() {
        let argv = |line: &str| line.split(' ').map(String::from).collect::<Vec<_>>();
        let tm = CommandLine::of_argv(&argv(
            "java -cp x org.apache.flink.mesos.runtime.clusterframework.MesosTaskManager -Djobmanager.rpc.port=6124",
        ));
        assert!(tm.runs_taskmanager() && tm.jobmanager_launcher().is_none());
        assert_eq!(tm.setting(RPC_PORT), Some("6124"));
        let wrapped = CommandLine::of_argv(&["sh".into(), "-c".into(), "exec /opt/bin/jobmanager.sh -Da='b c'".into()]);
        assert!(wrapped.jobmanager_launcher().is_some() && !wrapped.runs_taskmanager());
        assert_eq!(wrapped.setting("a"), Some("b c"));
        assert!(!CommandLine::of_argv(&argv("python3 MesosTaskManager.py")).runs_taskmanager());
    }

    proptest! {
        #[test]
        fn parsing_never_panics(line in ".{0,200}") {
            let parsed = CommandLine::of_app(Some(&line), &[]);
            let _ = jobmanager_ports(&parsed);
            let _ = parsed.with_settings(&[(RPC_PORT, "6124".into()), (WEB_PORT, "8082".into())]);
            let _ = port_setting(&line);
        }

        #[test]
        fn near_misses_never_panic(line in r#"(-D|-D |["' \\;&]|[a-z.]{1,8}|=|\$PORT0|6123| ){0,30}"#) {
            let parsed = CommandLine::of_app(Some(&line), &[]);
            let _ = jobmanager_ports(&parsed);
            if let Rewritten::Shell(changed) = parsed.with_settings(&[(RPC_PORT, "6124".into())]) {
                // The change is visible to the parser (unclosed quotes aside).
                let again = CommandLine::of_app(Some(&changed), &[]);
                if !line.contains(['\'', '"', '\\']) {
                    prop_assert_eq!(again.setting(RPC_PORT), Some("6124"));
                }
            }
            let values: Vec<String> = dynamic_properties(&texts(&line)).into_iter().map(|p| p.value).collect();
            let _ = dynamic_properties(&values);
        }
    }
}
