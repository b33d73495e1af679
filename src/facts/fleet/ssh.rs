//! The command that reaches a node: the user's `--ssh` (default `ssh`),
//! split like a shell word list, run as `CMD [-o ...] [-l USER] [-p PORT]
//! HOST -- REMOTE-COMMAND`. clusterdoc adds only what a batch run needs and
//! the user did not set, so `~/.ssh/config`, agents, ProxyJump and
//! ControlMaster work as they do for the user's own ssh.

use std::ffi::OsString;
use std::time::Duration;

use super::destination::Destination;

/// The user's `--ssh` command, split into words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshCommand {
    words: Vec<String>,
}

impl SshCommand {
    /// Splits `text` like a shell word list (`ssh -i "my key"`).
    pub fn parse(text: &str) -> Result<SshCommand, String> {
        let words = shlex::split(text).ok_or_else(|| format!("--ssh {text:?}: unbalanced quotes"))?;
        if words.is_empty() {
            return Err("--ssh is empty: name the command that reaches a node, e.g. ssh".into());
        }
        Ok(SshCommand { words })
    }

    /// The argv that runs `remote_command` on `node`. `-o BatchMode=yes`
    /// (never wait for a password) and `-o ConnectTimeout=` (`timeout`
    /// rounded up to whole seconds, at least 1) are added unless the user's
    /// command sets them. The destination is validated, so nothing in it can
    /// be read as an option, and `--` ends ssh's options before the command.
    pub fn argv(&self, node: &Destination, timeout: Duration, remote_command: &str) -> Vec<OsString> {
        let mut argv: Vec<String> = self.words.clone();
        if !self.sets_option("BatchMode") {
            argv.extend(["-o".into(), "BatchMode=yes".into()]);
        }
        if !self.sets_option("ConnectTimeout") {
            argv.extend(["-o".into(), format!("ConnectTimeout={}", whole_seconds(timeout))]);
        }
        if let Some(user) = &node.user {
            argv.extend(["-l".into(), user.as_str().into()]);
        }
        if let Some(port) = node.port {
            argv.extend(["-p".into(), port.to_string()]);
        }
        argv.extend([node.host.to_string(), "--".into(), remote_command.into()]);
        argv.into_iter().map(OsString::from).collect()
    }

    /// Whether the user's words set ssh option `key` (`-o Key=v`,
    /// `-oKey=v`, `-o "Key v"`; keys are case-insensitive, as in ssh_config).
    fn sets_option(&self, key: &str) -> bool {
        let mut words = self.words.iter().skip(1);
        while let Some(word) = words.next() {
            let option = match word.strip_prefix("-o") {
                Some("") => words.next().map(String::as_str),
                Some(inline) => Some(inline),
                None => None,
            };
            let named = option.and_then(|o| o.split(['=', ' ', '\t']).next());
            if named.is_some_and(|name| name.trim().eq_ignore_ascii_case(key)) {
                return true;
            }
        }
        false
    }
}

/// ssh's `ConnectTimeout` takes whole seconds: `timeout` rounded up, at least 1.
fn whole_seconds(timeout: Duration) -> u64 {
    timeout.as_millis().div_ceil(1000).max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(ssh: &str, node: &str, timeout_ms: u64) -> Vec<String> {
        let node = Destination::parse(node).unwrap();
        let argv = SshCommand::parse(ssh).unwrap().argv(&node, Duration::from_millis(timeout_ms), "uptime");
        argv.into_iter().map(|w| w.into_string().unwrap()).collect()
    }

    #[test]
    fn batch_mode_and_the_connect_timeout_are_added_then_login_host_and_command() {
        assert_eq!(
            argv("ssh", "ops@m1:2222", 3000),
            ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", "-l", "ops", "-p", "2222", "m1", "--", "uptime"]
        );
        assert_eq!(argv("ssh", "[fe80::1]", 3000)[5..], ["fe80::1", "--", "uptime"]);
    }

    #[test]
    fn the_connect_timeout_is_whole_seconds_rounded_up_at_least_one() {
        for (ms, seconds) in [(1, "1"), (500, "1"), (1000, "1"), (1001, "2"), (2500, "3"), (30_000, "30")] {
            assert_eq!(argv("ssh", "m1", ms)[4], format!("ConnectTimeout={seconds}"), "{ms} ms");
        }
    }

    #[test]
    fn options_the_user_sets_are_left_alone() {
        let words = argv("ssh -i 'my key' -oBatchMode=no -o 'connecttimeout 9' -J jump", "m1", 3000);
        assert_eq!(
            words,
            ["ssh", "-i", "my key", "-oBatchMode=no", "-o", "connecttimeout 9", "-J", "jump", "m1", "--", "uptime"]
        );
        let words = argv("/usr/bin/ssh -o BatchMode=yes", "m1", 3000);
        assert_eq!(words, ["/usr/bin/ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", "m1", "--", "uptime"]);
        // A value that merely mentions the option does not set it.
        assert!(argv("ssh -i BatchMode", "m1", 3000).contains(&"BatchMode=yes".to_string()));
    }

    #[test]
    fn a_command_that_does_not_split_is_refused() {
        assert_eq!(SshCommand::parse("ssh -i 'key").unwrap_err(), "--ssh \"ssh -i 'key\": unbalanced quotes");
        assert!(SshCommand::parse("  ").unwrap_err().starts_with("--ssh is empty"));
    }
}
