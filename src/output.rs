//! Writing a report, a snapshot or a script to a file named with `-o` or
//! `--script`, as safely as `curl -o`: a regular file (or a new one) is
//! replaced atomically, so a reader (node_exporter's textfile collector, a CI
//! step) never sees half of it; anything else that exists there (/dev/null,
//! a FIFO, a socket, a terminal, and whatever /dev/stdout leads to) is opened
//! and written in place, never replaced: as root, replacing /dev/null with a
//! regular file breaks the node.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Writes `text` to `path`; the error names the path and says what failed.
pub fn write_file(path: &Path, text: &str) -> Result<(), String> {
    let fail = |what: &str, e: std::io::Error| format!("cannot write {}: {what}: {e}", path.display());
    // Follow symbolic links as `curl -o` does: the link stays, its target is written.
    let existing = match std::fs::metadata(path) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(format!("cannot write {}: it is a symbolic link to nothing", path.display()));
            }
            None
        }
        Err(e) => return Err(fail("cannot look at it", e)),
    };
    // /dev/stdout and its kin lead through /proc to whatever the descriptor
    // is; replacing a file found there would detach it from the descriptor.
    let through_proc = path.starts_with("/dev/") || path.starts_with("/proc/");
    match existing {
        Some(meta) if !meta.is_file() || through_proc => {
            if meta.is_dir() {
                return Err(format!("cannot write {}: it is a directory", path.display()));
            }
            // A device, FIFO or socket: write into it, as a shell redirection does.
            let mut target = OpenOptions::new()
                .write(true)
                .truncate(meta.is_file())
                .open(path)
                .map_err(|e| fail("cannot open it", e))?;
            target.write_all(text.as_bytes()).and_then(|_| target.flush()).map_err(|e| fail("write failed", e))
        }
        Some(meta) => {
            let target = std::fs::canonicalize(path).map_err(|e| fail("cannot resolve it", e))?;
            replace(&target, text, Some(meta.permissions().mode())).map_err(|(what, e)| fail(what, e))
        }
        None => replace(path, text, None).map_err(|(what, e)| fail(what, e)),
    }
}

/// Writes a temporary file beside `target`, flushes it to disk and renames
/// it over `target`. The replaced file's permission bits are kept; a new
/// file gets the usual 0666 less the umask. The temporary file is removed
/// on any failure.
fn replace(target: &Path, text: &str, mode: Option<u32>) -> Result<(), (&'static str, std::io::Error)> {
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (tmp, mut file) = temporary(dir, &name).map_err(|e| ("cannot create a temporary file beside it", e))?;
    let written = (|| {
        if let Some(mode) = mode {
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()
    })();
    let renamed = written.map_err(|e| ("write failed", e)).and_then(|_| {
        drop(file);
        std::fs::rename(&tmp, target).map_err(|e| ("cannot rename the temporary file over it", e))
    });
    if renamed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    renamed
}

/// A new file `.NAME.PID.N.tmp` in `dir`, created exclusively (never an
/// existing file or a link planted there).
fn temporary(dir: &Path, name: &str) -> std::io::Result<(PathBuf, File)> {
    let mut attempt = 0;
    loop {
        let tmp = dir.join(format!(".{name}.{}.{attempt}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).custom_flags(libc::O_CLOEXEC).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_appears_whole_with_no_temporary_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_file(&path, "{}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}\n");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["report.json"]);
    }

    #[test]
    fn a_replaced_file_keeps_its_mode_and_a_link_keeps_pointing_at_it() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.prom");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.prom");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_file(&link, "new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o7777, 0o640);
    }

    #[test]
    fn directories_and_dangling_links_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_file(dir.path(), "x").unwrap_err();
        assert!(err.ends_with("it is a directory"), "{err}");
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere/x"), &dangling).unwrap();
        let err = write_file(&dangling, "x").unwrap_err();
        assert!(err.contains("symbolic link to nothing"), "{err}");
        let err = write_file(&dir.path().join("missing/report"), "x").unwrap_err();
        assert!(err.contains("cannot create a temporary file beside it"), "{err}");
    }
}
