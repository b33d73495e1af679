//! Which files may steer clusterdoc (DESIGN.md C0, "Untrusted configuration
//! is not used").
//!
//! clusterdoc runs as root, and a config file or a check pack decides what it
//! runs. Such a file is used only when nobody but root and the invoking user
//! (the effective uid) can have written it: the file is owned by one of them
//! and not writable by group or others, and so is every directory on its
//! canonical path up to `/`. That is OpenSSH's `safe_path` (misc.c, the
//! StrictModes check), with one difference, on purpose: a directory that
//! others may write but that has the sticky bit and belongs to root or you
//! (`/tmp`, mode 1777) passes. There the kernel lets only an entry's owner
//! rename or remove it, so the next component, itself root's or yours,
//! cannot be swapped by anyone else. A file another user created in `/tmp`
//! still fails on its owner. A symbolic link as the last component must be
//! root's or yours too (the target is then checked as above).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A file or directory clusterdoc did not use, and why: shown on stderr and
/// in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ignored {
    pub path: String,
    pub reason: String,
}

impl Ignored {
    pub fn new(path: &Path, reason: impl Into<String>) -> Self {
        Ignored { path: path.display().to_string(), reason: reason.into() }
    }
}

impl std::fmt::Display for Ignored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ignored {}: {}", self.path, self.reason)
    }
}

/// What a trusted path must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Directory,
}

/// `Ok` when `path` may steer clusterdoc, else why not (for [`Ignored`]).
pub fn check(path: &Path, kind: Kind) -> Result<(), String> {
    check_as(path, kind, unsafe { libc::geteuid() })
}

fn check_as(path: &Path, kind: Kind, euid: u32) -> Result<(), String> {
    let trusted_owner = |uid: u32| uid == 0 || uid == euid;
    let owner = |uid: u32| format!("owned by uid {uid}, neither root nor the user running clusterdoc (uid {euid})");
    let link = std::fs::symlink_metadata(path).map_err(|e| format!("cannot inspect it: {e}"))?;
    if link.file_type().is_symlink() {
        if !trusted_owner(link.uid()) {
            return Err(format!("a symbolic link {}", owner(link.uid())));
        }
        // The link itself could be swapped where it lies.
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let parent = std::fs::canonicalize(parent).map_err(|e| format!("cannot resolve its directory: {e}"))?;
        directories_are_safe(parent.ancestors(), euid)?;
    }
    let canonical = std::fs::canonicalize(path).map_err(|e| format!("cannot resolve it: {e}"))?;
    let meta = std::fs::metadata(&canonical).map_err(|e| format!("cannot inspect it: {e}"))?;
    let shown = |p: &Path| if p == path { String::new() } else { format!(" ({})", p.display()) };
    match kind {
        Kind::File if !meta.is_file() => return Err(format!("not a regular file{}", shown(&canonical))),
        Kind::Directory if !meta.is_dir() => return Err(format!("not a directory{}", shown(&canonical))),
        _ => {}
    }
    if !trusted_owner(meta.uid()) {
        return Err(format!("{}{}", owner(meta.uid()), shown(&canonical)));
    }
    if writable_by_others(meta.mode()) {
        return Err(format!("writable by group or others (mode {:04o}){}", meta.mode() & 0o7777, shown(&canonical)));
    }
    directories_are_safe(canonical.ancestors().skip(1), euid)
}

/// Each directory is root's or `euid`'s, and only they can write it (or it
/// is sticky: see the module comment).
fn directories_are_safe<'a>(dirs: impl Iterator<Item = &'a Path>, euid: u32) -> Result<(), String> {
    for dir in dirs {
        let meta =
            std::fs::metadata(dir).map_err(|e| format!("cannot inspect its directory {}: {e}", dir.display()))?;
        if meta.uid() != 0 && meta.uid() != euid {
            return Err(format!(
                "its directory {} is owned by uid {}, neither root nor the user running clusterdoc (uid {euid})",
                dir.display(),
                meta.uid()
            ));
        }
        let sticky = meta.permissions().mode() & libc::S_ISVTX != 0;
        if writable_by_others(meta.mode()) && !sticky {
            return Err(format!(
                "its directory {} is writable by group or others (mode {:04o})",
                dir.display(),
                meta.mode() & 0o7777
            ));
        }
    }
    Ok(())
}

fn writable_by_others(mode: u32) -> bool {
    mode & 0o022 != 0
}

/// True when `path` lies inside `root` (both resolved): under `--root DIR`
/// the inspected node's own config and packs are never used.
pub fn inside(path: &Path, root: &Path) -> bool {
    let resolve = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let root: PathBuf = resolve(root);
    root != Path::new("/") && resolve(path).starts_with(&root)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{PermissionsExt, symlink};

    use super::*;

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A private directory under a root-owned sticky /tmp: trusted.
    fn private_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        chmod(dir.path(), 0o700);
        dir
    }

    #[test]
    fn files_of_root_or_the_user_in_safe_directories_are_trusted() {
        let dir = private_dir();
        let file = dir.path().join("clusterdoc.toml");
        std::fs::write(&file, "").unwrap();
        chmod(&file, 0o644);
        let euid = unsafe { libc::geteuid() };
        assert_eq!(check_as(&file, Kind::File, euid), Ok(()));
        assert_eq!(check_as(dir.path(), Kind::Directory, euid), Ok(()));
        // Another effective uid does not own these root files: root's are trusted anyway.
        if euid == 0 {
            assert_eq!(check_as(&file, Kind::File, 1000), Ok(()));
        }
    }

    #[test]
    fn writable_files_and_directories_are_not_trusted() {
        let dir = private_dir();
        let file = dir.path().join("pack.toml");
        std::fs::write(&file, "").unwrap();
        chmod(&file, 0o664);
        assert!(check(&file, Kind::File).unwrap_err().contains("writable by group or others (mode 0664)"));
        chmod(&file, 0o644);
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        chmod(&open, 0o777);
        let inner = open.join("pack.toml");
        std::fs::write(&inner, "").unwrap();
        chmod(&inner, 0o644);
        let why = check(&inner, Kind::File).unwrap_err();
        assert!(why.contains(&format!("its directory {} is writable by group or others (mode 0777)", open.display())));
        // Sticky: only an entry's owner may replace it, so the directory passes.
        chmod(&open, 0o1777);
        assert_eq!(check(&inner, Kind::File), Ok(()));
        assert!(check(&open, Kind::Directory).unwrap_err().contains("mode 1777"));
        assert!(check(&file, Kind::Directory).unwrap_err().contains("not a directory"));
        assert!(check(dir.path(), Kind::File).unwrap_err().contains("not a regular file"));
    }

    #[test]
    fn links_are_followed_and_checked_at_their_target() {
        let dir = private_dir();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        chmod(&open, 0o777);
        let target = open.join("real.toml");
        std::fs::write(&target, "").unwrap();
        chmod(&target, 0o644);
        let link = dir.path().join("clusterdoc.toml");
        symlink(&target, &link).unwrap();
        let why = check(&link, Kind::File).unwrap_err();
        assert!(why.contains("writable by group or others"), "{why}");
        // A link to a safe file, lying where anyone may replace it.
        chmod(&open, 0o755);
        let swappable = dir.path().join("swappable");
        std::fs::create_dir(&swappable).unwrap();
        chmod(&swappable, 0o777);
        symlink(&target, swappable.join("clusterdoc.toml")).unwrap();
        assert_eq!(check(&link, Kind::File), Ok(()));
        let why = check(&swappable.join("clusterdoc.toml"), Kind::File).unwrap_err();
        assert!(why.contains(&format!("its directory {} is writable", swappable.display())), "{why}");
        assert!(check(&dir.path().join("none"), Kind::File).unwrap_err().contains("cannot inspect"));
    }

    #[test]
    fn paths_inside_the_root_are_recognised() {
        let dir = private_dir();
        let image = dir.path().join("image");
        std::fs::create_dir(&image).unwrap();
        std::fs::write(image.join("clusterdoc.toml"), "").unwrap();
        std::fs::write(dir.path().join("clusterdoc.toml"), "").unwrap();
        assert!(inside(&image.join("clusterdoc.toml"), &image));
        // Reached through a link from outside, it is still the image's file.
        symlink(image.join("clusterdoc.toml"), dir.path().join("link.toml")).unwrap();
        assert!(inside(&dir.path().join("link.toml"), &image));
        assert!(!inside(&dir.path().join("clusterdoc.toml"), &image));
        assert!(!inside(&dir.path().join("clusterdoc.toml"), Path::new("/")));
    }
}
