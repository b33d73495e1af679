//! What runs on the node: one `sh -c` script per session that runs
//! `clusterdoc collect --node` from the node's PATH, from a path the user
//! named, or pushed over the session's own stdin into a private `mktemp -d`
//! directory that the script removes however the run ends.
//!
//! A killed non-tty ssh session sends the node no SIGHUP, so the remote run
//! bounds itself: clusterdoc gets its own `--deadline`, and `timeout` ends
//! the whole script (a hostile or stuck program too) a little after it; the
//! pushed directory goes with the script's EXIT trap.

use std::str::FromStr;
use std::time::Duration;

use crate::target::NodeAsks;

/// `--remote-bin`: which clusterdoc runs on the node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RemoteBin {
    /// `clusterdoc` on the node's PATH when its version is ours, else push.
    #[default]
    Auto,
    /// Always push this binary.
    Push,
    /// That program on the node.
    Path(String),
}

impl FromStr for RemoteBin {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(RemoteBin::Auto),
            "push" => Ok(RemoteBin::Push),
            "" => Err("--remote-bin is empty: auto, push or the program's path on the node".into()),
            path if path.starts_with('-') => Err(format!("--remote-bin {path:?}: a path may not start with '-'")),
            path if path.chars().any(char::is_control) => {
                Err(format!("--remote-bin {path:?}: a path may not hold control characters"))
            }
            path => Ok(RemoteBin::Path(path.to_string())),
        }
    }
}

impl RemoteBin {
    /// Whether the session's stdin carries this binary (the script may
    /// need it; with `auto` a matching installed clusterdoc leaves it unread).
    pub fn streams_binary(&self) -> bool {
        !matches!(self, RemoteBin::Path(_))
    }
}

/// How long past its own `--deadline` the remote run may take before
/// `timeout` ends it (clusterdoc's watchdog needs 2 s), and then how long
/// before `timeout` sends SIGKILL.
const TIMEOUT_GRACE: Duration = Duration::from_secs(3);
const KILL_AFTER: &str = "1";
/// `timeout`'s exit code when it had to end the run.
pub const TIMED_OUT: i32 = 124;

/// The remote run's limits.
#[derive(Clone, Copy, Debug)]
pub struct RemoteLimits {
    /// The remote clusterdoc's `--deadline`.
    pub deadline: Duration,
    /// Its `--timeout`, per network operation on the node.
    pub timeout: Duration,
}

/// The command line ssh hands the node's login shell: `timeout ... sh -c
/// SCRIPT`, the script one quoted word. `timeout` ends the whole script (its
/// process group) a little after the remote deadline, whatever hangs in it.
/// Every value in it is clusterdoc's own (limits, sizes, its version), the
/// user's `--remote-bin` path, or an endpoint to probe (validated as a role
/// and a host name or address), quoted.
pub fn command(bin: &RemoteBin, limits: RemoteLimits, binary_size: u64, asks: &NodeAsks) -> String {
    let mut collect = format!(
        "collect --node --deadline {}ms --timeout {}ms",
        limits.deadline.as_millis().max(1),
        limits.timeout.as_millis().max(1)
    );
    for probe in &asks.probes {
        collect.push_str(&format!(" --probe {}", quote(&probe.to_string())));
    }
    for name in &asks.names {
        collect.push_str(&format!(" --resolve {}", quote(&name.to_string())));
    }
    for id in &asks.pack_checks {
        collect.push_str(&format!(" --pack-check {}", quote(id)));
    }
    let script = match bin {
        RemoteBin::Path(path) => format!("{} {collect}", quote(path)),
        RemoteBin::Push => push(&collect, binary_size),
        RemoteBin::Auto => format!(
            "if v=$(clusterdoc --version 2>/dev/null) && [ \"$v\" = {ours} ]; then clusterdoc {collect} </dev/null; else {pushed}; fi",
            ours = quote(&format!("clusterdoc {}", env!("CARGO_PKG_VERSION"))),
            pushed = push(&collect, binary_size),
        ),
    };
    let seconds = (limits.deadline + TIMEOUT_GRACE).as_millis().div_ceil(1000);
    format!("timeout -k {KILL_AFTER} {seconds} sh -c {}", quote(&script))
}

/// Receives the binary from stdin into a private directory, checks that all
/// of it arrived, runs it, and removes the directory on every exit (`timeout`
/// ends the script with SIGTERM, which the trap turns into an exit). SIGPIPE
/// is ignored first: once ssh is gone, the shell's own "Terminated" notice
/// to the dead stderr would otherwise kill it before its EXIT trap.
fn push(collect: &str, size: u64) -> String {
    let received = "\"$d/clusterdoc\"";
    [
        "trap '' PIPE".to_string(),
        "d=$(mktemp -d) || exit 125".into(),
        "trap 'rm -rf \"$d\"' EXIT".into(),
        "trap 'exit 129' HUP INT TERM".into(),
        format!("cat > {received} || exit 125"),
        format!("n=$(wc -c < {received})"),
        format!(
            "[ \"$n\" -eq {size} ] || {{ echo \"clusterdoc: received $n of {size} bytes of the pushed binary\" >&2; exit 125; }}"
        ),
        format!("chmod 700 {received}"),
        format!("{received} {collect}"),
    ]
    .join("; ")
}

/// One shell word for a POSIX shell.
fn quote(text: &str) -> String {
    shlex::try_quote(text).expect("clusterdoc's own words hold no NUL").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: RemoteLimits =
        RemoteLimits { deadline: Duration::from_millis(4500), timeout: Duration::from_secs(3) };

    /// The script inside `timeout ... sh -c`, as the node's shell will see it.
    fn script(bin: &RemoteBin) -> String {
        let words = shlex::split(&command(bin, LIMITS, 1234, &NodeAsks::default())).unwrap();
        assert_eq!(words[..6], ["timeout", "-k", "1", "8", "sh", "-c"], "{words:?}");
        assert_eq!(words.len(), 7, "{words:?}");
        words[6].clone()
    }

    #[test]
    fn remote_bin_is_auto_push_or_a_path_that_is_no_option() {
        assert_eq!("auto".parse(), Ok(RemoteBin::Auto));
        assert_eq!("push".parse(), Ok(RemoteBin::Push));
        assert_eq!("/opt/cd/clusterdoc".parse(), Ok(RemoteBin::Path("/opt/cd/clusterdoc".into())));
        assert!("-x".parse::<RemoteBin>().unwrap_err().contains("may not start with '-'"));
        assert!("a\nb".parse::<RemoteBin>().unwrap_err().contains("control characters"));
        assert!("".parse::<RemoteBin>().is_err());
    }

    #[test]
    fn a_named_program_runs_quoted_under_its_own_deadline() {
        assert_eq!(
            script(&RemoteBin::Path("/opt/my tools/clusterdoc".into())),
            "'/opt/my tools/clusterdoc' collect --node --deadline 4500ms --timeout 3000ms"
        );
    }

    #[test]
    fn push_checks_the_size_runs_and_removes_its_directory_on_every_exit() {
        let pushed = script(&RemoteBin::Push);
        let steps: Vec<&str> = pushed.split("; ").collect();
        assert_eq!(
            steps[..4],
            ["trap '' PIPE", "d=$(mktemp -d) || exit 125", "trap 'rm -rf \"$d\"' EXIT", "trap 'exit 129' HUP INT TERM"]
        );
        assert!(pushed.contains("[ \"$n\" -eq 1234 ]"), "{pushed}");
        assert!(pushed.ends_with("\"$d/clusterdoc\" collect --node --deadline 4500ms --timeout 3000ms"), "{pushed}");
        assert!(!pushed.contains("exec "), "exec would skip the EXIT trap: {pushed}");
    }

    #[test]
    fn auto_runs_the_installed_clusterdoc_only_when_its_version_is_ours() {
        let auto = script(&RemoteBin::Auto);
        let version = format!("[ \"$v\" = 'clusterdoc {}' ]", env!("CARGO_PKG_VERSION"));
        let installed = "clusterdoc collect --node --deadline 4500ms --timeout 3000ms </dev/null";
        assert!(
            auto.starts_with(&format!(
                "if v=$(clusterdoc --version 2>/dev/null) && {version}; then {installed}; else trap '' PIPE; d=$(mktemp -d)"
            )),
            "{auto}"
        );
    }
}
