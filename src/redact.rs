//! Secrets out of everything clusterdoc prints or records: credentials in
//! URLs and secret-named options in command lines.

use reqwest::Url;

/// Removes `user:pass@` from URL-ish text so it can appear in messages:
/// `zk://u:p@h:2181/m`, `--zk=zk://u:p@h/m`, `u:p@h:5050`.
pub fn redact(text: &str) -> String {
    let (scheme, rest) = text.find("://").map_or(("", text), |s| text.split_at(s + 3));
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => format!("{scheme}{}", &rest[at + 1..]),
        None => text.to_string(),
    }
}

/// What a secret is replaced with in a command line.
pub const REDACTED: &str = "<redacted>";
/// An option whose name holds one of these carries a secret (`-Dpassword=`,
/// `--zk_auth_token=`, `--password x`).
const SECRET_NAMES: [&str; 5] = ["password", "passwd", "secret", "token", "credential"];

/// A process's command line with its secrets removed, as every report and
/// snapshot shows it: credentials in URLs (`--zk zk://user:pw@h/m`), the value
/// of an option named like a secret (`-Dpassword=x`, `--password=x`) and the
/// word after such an option when it stands alone (`--password x`).
pub fn redact_argv(argv: &[String]) -> Vec<String> {
    let names_secret = |option: &str| {
        let option = option.to_ascii_lowercase();
        SECRET_NAMES.iter().any(|name| option.contains(name))
    };
    let mut clean = Vec::with_capacity(argv.len());
    let mut value_follows = false;
    for word in argv {
        if std::mem::take(&mut value_follows) {
            clean.push(REDACTED.to_string());
            continue;
        }
        let option = word.starts_with('-');
        match word.split_once('=') {
            Some((name, _)) if option && names_secret(name) => clean.push(format!("{name}={REDACTED}")),
            None if option && names_secret(word) => {
                value_follows = true;
                clean.push(word.clone());
            }
            _ if word.contains("://") => clean.push(redact(word)),
            _ => clean.push(word.clone()),
        }
    }
    clean
}

pub fn redact_url(url: &Url) -> String {
    let mut clean = url.clone();
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.to_string().trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(redact("zk://u:p@h:2181/m"), "zk://h:2181/m");
        assert_eq!(redact("u:p@h:5050"), "h:5050");
        // An @ past the host is not a credential.
        assert_eq!(redact("http://h/a@b"), "http://h/a@b");
    }

    #[test]
    fn command_lines_lose_their_secrets() {
        let argv: Vec<String> = [
            "java",
            "-Dpassword=s3cret",
            "-Dhost=h@x",
            "--zk",
            "zk://marathon:s3cret@zk1:2181/marathon",
            "--mesos=http://admin:s3cret@m1:5050",
            "--password=s3cret",
            "--Secret",
            "s3cret",
            "--master",
            "slave(1)@10.0.0.7:5051",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            redact_argv(&argv),
            [
                "java",
                "-Dpassword=<redacted>",
                "-Dhost=h@x",
                "--zk",
                "zk://zk1:2181/marathon",
                "--mesos=http://m1:5050",
                "--password=<redacted>",
                "--Secret",
                "<redacted>",
                "--master",
                "slave(1)@10.0.0.7:5051",
            ]
        );
    }
}
