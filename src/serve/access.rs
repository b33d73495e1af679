//! Who may read what the server answers: anyone (a loopback listener, or one
//! the operator opened on purpose), or a client that sends the bearer token
//! or the basic-auth credentials kept in a file. Secrets files are used only
//! when nobody but root and the server's own user can write or read them.

use std::io::Read;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use base64::Engine;
use hyper::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use crate::trust;

/// The most a secrets file may hold.
const SECRET_CAP: u64 = 4096;

/// What a request must carry.
pub enum Access {
    Anyone,
    /// `Authorization: Bearer TOKEN`.
    Bearer(Vec<u8>),
    /// `Authorization: Basic base64(USER:PASSWORD)`; kept decoded.
    Basic(Vec<u8>),
}

impl Access {
    /// The access `serve`'s flags ask for. A listener beyond loopback needs
    /// credentials unless the operator waived them.
    pub fn new(
        listen: SocketAddr,
        token_file: Option<&Path>,
        basic_auth_file: Option<&Path>,
        unauthenticated: bool,
    ) -> Result<Access, String> {
        let access = match (token_file, basic_auth_file) {
            (Some(file), _) => Access::Bearer(read_secret(file, "--token-file")?.into_bytes()),
            (None, Some(file)) => {
                let pair = read_secret(file, "--basic-auth-file")?;
                match pair.split_once(':') {
                    Some((user, _)) if !user.is_empty() => Access::Basic(pair.into_bytes()),
                    _ => return Err(format!("--basic-auth-file {}: the line is not USER:PASSWORD", file.display())),
                }
            }
            (None, None) => Access::Anyone,
        };
        if matches!(access, Access::Anyone) && !listen.ip().is_loopback() && !unauthenticated {
            return Err(format!(
                "--listen {listen} is reachable beyond this machine: name --token-file or --basic-auth-file, \
                 or --allow-unauthenticated to let anyone who can connect read the reports"
            ));
        }
        Ok(access)
    }

    pub fn is_open(&self) -> bool {
        matches!(self, Access::Anyone)
    }

    /// Whether the request's headers carry what it takes.
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let given = |scheme: &str| {
            let value = headers.get(AUTHORIZATION)?.as_bytes();
            let (name, rest) = value.split_at_checked(scheme.len())?;
            (name.eq_ignore_ascii_case(scheme.as_bytes()) && rest.first() == Some(&b' ')).then(|| rest.trim_ascii())
        };
        match self {
            Access::Anyone => true,
            Access::Bearer(token) => given("Bearer").is_some_and(|sent| same(sent, token)),
            Access::Basic(pair) => given("Basic")
                .and_then(|sent| base64::engine::general_purpose::STANDARD.decode(sent).ok())
                .is_some_and(|sent| same(&sent, pair)),
        }
    }

    /// The `WWW-Authenticate` challenge of a refusal.
    pub fn challenge(&self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Access::Basic(_) => "Basic realm=\"clusterdoc\", charset=\"UTF-8\"",
            _ => "Bearer realm=\"clusterdoc\"",
        })
    }
}

/// Equal, in a time that depends on the lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// The first line of a secrets file (a token, credentials), read as
/// [`read_secrets_file`] does.
pub fn read_secret(file: &Path, flag: &str) -> Result<String, String> {
    let text = read_secrets_file(file, flag)?;
    let line = text.lines().next().unwrap_or_default().trim().to_string();
    if line.is_empty() {
        return Err(format!("{flag} {}: the file is empty", file.display()));
    }
    Ok(line)
}

/// A secrets file's text (a token, credentials, a TLS private key), if it
/// is trusted as a config file is ([`trust::check`]) and readable by nobody
/// but its owner and group.
pub fn read_secrets_file(file: &Path, flag: &str) -> Result<String, String> {
    let refuse = |why: String| format!("{flag} {}: {why}", file.display());
    trust::check(file, trust::Kind::File).map_err(refuse)?;
    let mut opened = std::fs::File::open(file).map_err(|e| refuse(e.to_string()))?;
    let mode = opened.metadata().map_err(|e| refuse(e.to_string()))?.permissions().mode();
    if mode & 0o007 != 0 {
        return Err(refuse(format!("others may read it (mode {:04o}): chmod o-rwx", mode & 0o7777)));
    }
    let mut text = String::new();
    (&mut opened).take(SECRET_CAP + 1).read_to_string(&mut text).map_err(|e| refuse(e.to_string()))?;
    if text.len() as u64 > SECRET_CAP {
        return Err(refuse(format!("larger than {SECRET_CAP} bytes")));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str, mode: u32) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        file
    }

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(authorization).unwrap());
        headers
    }

    const LOOPBACK: &str = "127.0.0.1:9847";
    const ANYWHERE: &str = "0.0.0.0:9847";

    #[test]
    fn a_listener_beyond_loopback_needs_credentials_or_a_waiver() {
        assert!(Access::new(LOOPBACK.parse().unwrap(), None, None, false).unwrap().is_open());
        assert!(Access::new("[::1]:9847".parse().unwrap(), None, None, false).unwrap().is_open());
        let refused = Access::new(ANYWHERE.parse().unwrap(), None, None, false).err().unwrap();
        assert!(refused.contains("--token-file"), "{refused}");
        assert!(Access::new(ANYWHERE.parse().unwrap(), None, None, true).unwrap().is_open());
    }

    #[test]
    fn a_bearer_token_from_its_file_is_what_admits() {
        let file = secret("s3cret-token\n", 0o600);
        let access = Access::new(ANYWHERE.parse().unwrap(), Some(file.path()), None, false).unwrap();
        assert!(access.admits(&headers("Bearer s3cret-token")));
        assert!(access.admits(&headers("bearer  s3cret-token ")));
        assert!(!access.admits(&headers("Bearer s3cret-toke")));
        assert!(!access.admits(&headers("Bearers3cret-token")));
        assert!(!access.admits(&headers("Basic czNjcmV0LXRva2Vu")));
        assert!(!access.admits(&HeaderMap::new()));
    }

    #[test]
    fn basic_credentials_are_compared_decoded() {
        let file = secret("prometheus:pa:ss\n", 0o640);
        let access = Access::new(ANYWHERE.parse().unwrap(), None, Some(file.path()), false).unwrap();
        let encoded = base64::engine::general_purpose::STANDARD.encode("prometheus:pa:ss");
        assert!(access.admits(&headers(&format!("Basic {encoded}"))));
        assert!(!access.admits(&headers("Basic cHJvbWV0aGV1czpwYQ==")));
        assert!(!access.admits(&headers("Basic !!!")));
        assert!(!access.admits(&headers(&format!("Bearer {encoded}"))));
    }

    #[test]
    fn secrets_files_others_can_read_or_that_say_nothing_are_refused() {
        let readable = secret("token", 0o644);
        let e = read_secret(readable.path(), "--token-file").unwrap_err();
        assert!(e.contains("others may read it (mode 0644)"), "{e}");
        let empty = secret("\n", 0o600);
        assert!(read_secret(empty.path(), "--token-file").unwrap_err().contains("empty"));
        let no_user = secret(":password", 0o600);
        let e = Access::new(LOOPBACK.parse().unwrap(), None, Some(no_user.path()), false).err().unwrap();
        assert!(e.contains("not USER:PASSWORD"), "{e}");
        let big = secret(&"x".repeat(5000), 0o600);
        assert!(read_secret(big.path(), "--token-file").unwrap_err().contains("larger than"));
    }
}
