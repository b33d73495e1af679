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

/// Writes `text` to `path` (stdout for `None`); the error names the path
/// and says what failed.
pub fn write(path: Option<&Path>, text: &str) -> Result<(), String> {
    let mut output = Output::open(path)?;
    output.write(text)?;
    output.finish()
}

/// Where a report or snapshot goes, written piece by piece (a fleet's
/// snapshot node by node, so no run holds every node's facts) and made
/// visible at once by [`Output::finish`]: a replaced file appears whole or
/// not at all.
pub struct Output {
    shown: String,
    sink: Sink,
}

enum Sink {
    Stdout(std::io::Stdout),
    /// A device, FIFO or socket (or a file reached through /dev or /proc),
    /// written in place as a shell redirection does.
    InPlace(std::io::BufWriter<File>),
    /// A temporary file beside the target, renamed over it when finished
    /// and removed if dropped before.
    Staged {
        tmp: PathBuf,
        target: PathBuf,
        file: Option<std::io::BufWriter<File>>,
    },
}

impl Output {
    /// `path`, or stdout for `None`. Refuses a directory and a link to
    /// nothing; the error names the path and says what failed.
    pub fn open(path: Option<&Path>) -> Result<Output, String> {
        let Some(path) = path else {
            return Ok(Output { shown: "stdout".into(), sink: Sink::Stdout(std::io::stdout()) });
        };
        let shown = path.display().to_string();
        let fail = |what: &str, e: std::io::Error| format!("cannot write {shown}: {what}: {e}");
        // Follow symbolic links as `curl -o` does: the link stays, its target is written.
        let existing = match std::fs::metadata(path) {
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if std::fs::symlink_metadata(path).is_ok() {
                    return Err(format!("cannot write {shown}: it is a symbolic link to nothing"));
                }
                None
            }
            Err(e) => return Err(fail("cannot look at it", e)),
        };
        // /dev/stdout and its kin lead through /proc to whatever the descriptor
        // is; replacing a file found there would detach it from the descriptor.
        let through_proc = path.starts_with("/dev/") || path.starts_with("/proc/");
        let sink = match existing {
            Some(meta) if meta.is_dir() => return Err(format!("cannot write {shown}: it is a directory")),
            Some(meta) if !meta.is_file() || through_proc => {
                let target = OpenOptions::new()
                    .write(true)
                    .truncate(meta.is_file())
                    .open(path)
                    .map_err(|e| fail("cannot open it", e))?;
                Sink::InPlace(std::io::BufWriter::new(target))
            }
            Some(meta) => {
                let target = std::fs::canonicalize(path).map_err(|e| fail("cannot resolve it", e))?;
                staged(target, Some(meta.permissions().mode())).map_err(|(what, e)| fail(what, e))?
            }
            None => staged(path.to_path_buf(), None).map_err(|(what, e)| fail(what, e))?,
        };
        Ok(Output { shown, sink })
    }

    pub fn write(&mut self, text: &str) -> Result<(), String> {
        let written = match &mut self.sink {
            Sink::Stdout(out) => out.write_all(text.as_bytes()),
            Sink::InPlace(file) => file.write_all(text.as_bytes()),
            Sink::Staged { file, .. } => file.as_mut().expect("open until finished").write_all(text.as_bytes()),
        };
        written.map_err(|e| self.failed("write failed", e))
    }

    /// Flushes what was written; a staged file is synced to disk and
    /// renamed over its target.
    pub fn finish(mut self) -> Result<(), String> {
        let done = match &mut self.sink {
            Sink::Stdout(out) => out.flush().map_err(|e| ("write failed", e)),
            Sink::InPlace(file) => file.flush().map_err(|e| ("write failed", e)),
            Sink::Staged { tmp, target, file } => {
                let file = file.take().expect("open until finished");
                file.into_inner()
                    .map_err(|e| e.into_error())
                    .and_then(|f| f.sync_all())
                    .map_err(|e| ("write failed", e))
                    .and_then(|()| {
                        std::fs::rename(&*tmp, &*target).map_err(|e| ("cannot rename the temporary file over it", e))
                    })
                    .inspect_err(|_| {
                        let _ = std::fs::remove_file(&*tmp);
                    })
            }
        };
        done.map_err(|(what, e)| self.failed(what, e))
    }

    fn failed(&self, what: &str, e: std::io::Error) -> String {
        match &self.sink {
            Sink::Stdout(_) => format!("stdout: {e}"),
            _ => format!("cannot write {}: {what}: {e}", self.shown),
        }
    }
}

impl Drop for Output {
    /// A staged file not finished (an error, a run cut short) goes: the
    /// target keeps what it had.
    fn drop(&mut self) {
        if let Sink::Staged { tmp, file: Some(_), .. } = &self.sink {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// A temporary file beside `target` with the replaced file's permission
/// bits (a new file gets the usual 0666 less the umask).
fn staged(target: PathBuf, mode: Option<u32>) -> Result<Sink, (&'static str, std::io::Error)> {
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (tmp, file) = temporary(dir, &name).map_err(|e| ("cannot create a temporary file beside it", e))?;
    if let Some(mode) = mode
        && let Err(e) = file.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))
    {
        let _ = std::fs::remove_file(&tmp);
        return Err(("write failed", e));
    }
    Ok(Sink::Staged { tmp, target, file: Some(std::io::BufWriter::new(file)) })
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
        write(Some(&path), "{}\n").unwrap();
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
        write(Some(&link), "new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o7777, 0o640);
    }

    #[test]
    fn directories_and_dangling_links_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let err = write(Some(dir.path()), "x").unwrap_err();
        assert!(err.ends_with("it is a directory"), "{err}");
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere/x"), &dangling).unwrap();
        let err = write(Some(&dangling), "x").unwrap_err();
        assert!(err.contains("symbolic link to nothing"), "{err}");
        let err = write(Some(&dir.path().join("missing/report")), "x").unwrap_err();
        assert!(err.contains("cannot create a temporary file beside it"), "{err}");
    }

    #[test]
    fn an_output_dropped_before_it_is_finished_leaves_the_target_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fleet.json");
        std::fs::write(&path, "old").unwrap();
        let mut output = Output::open(Some(&path)).unwrap();
        output.write("{\"half\": ").unwrap();
        drop(output);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["fleet.json"], "no temporary file is left");
    }
}
