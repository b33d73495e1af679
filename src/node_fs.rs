//! The inspected node's file system: `/` on a live node, or the directory
//! named with `--root`. Every read of a node file goes through [`NodeRoot`],
//! which keeps paths inside that directory and reads only regular files, and
//! only so much of them.
//!
//! Paths are resolved one component at a time, as the node itself would
//! resolve them: an absolute symlink target starts again at the node's `/`
//! (as `systemctl --root` resolves unit links), `..` never climbs above it,
//! and at most [`MAX_SYMLINK_HOPS`] links are followed. With root `/` this is
//! the ordinary file system.
//!
//! Files are opened with `O_NONBLOCK | O_NOFOLLOW`, after checking that the
//! resolved entry is a regular file (a FIFO, a device or a socket is never
//! opened: opening one can block or have side effects), and `fstat` checks
//! again what was opened.

use std::ffi::OsString;
use std::fmt;
use std::fs::{File, FileType, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// As systemd's `CHASE_MAX`: more links than this is a loop.
pub const MAX_SYMLINK_HOPS: u32 = 32;

/// The most clusterdoc reads of one kind of node file. A larger file is a
/// broken or hostile one, never read whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    bytes: u64,
    /// What kind of file the limit is for ("a hosts file").
    what: &'static str,
}

impl Limit {
    /// `/etc/hosts`: big ones (ad blockers' lists) run to a few MiB.
    pub const HOSTS: Limit = Limit { bytes: 16 << 20, what: "a hosts file" };
    /// A systemd unit file or drop-in. systemd reads files of any length
    /// in lines of less than 1 MiB (LONG_LINE_MAX); 4 MiB holds such a line
    /// and a flood of ignored ones, and still bounds what is read.
    pub const UNIT_FILE: Limit = Limit { bytes: 4 << 20, what: "a unit file" };
    /// Small configuration files: /etc/hostname, flag files, firewalld.conf
    /// and its XML, zoo.cfg, flink-conf.yaml, ifcfg files, host lists.
    pub const CONFIG: Limit = Limit { bytes: 1 << 20, what: "a configuration file" };
    /// What a pack's `file` check searches (it reads up to this and says so).
    pub const PACK_FILE: Limit = Limit { bytes: 4 << 20, what: "a file a pack check searches" };
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} MiB", self.bytes >> 20)
    }
}

/// Why a node file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A FIFO, device, socket or directory where a file was expected.
    #[error("{shown} is {kind}, not a regular file")]
    NotRegular { shown: String, kind: &'static str },
    #[error("{shown} is larger than the {limit} clusterdoc reads of {what}; it was not read", what = limit.what)]
    TooLarge { shown: String, limit: Limit },
    #[error("{shown}: {source}")]
    Io { shown: String, source: io::Error },
}

/// What an entry is, for messages: "a FIFO".
fn describe(file_type: FileType) -> &'static str {
    if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else {
        "a regular file"
    }
}

/// One entry of a node directory: its name and what it is itself (a
/// symlink is not followed).
#[derive(Debug)]
pub struct Entry {
    pub name: OsString,
    pub file_type: FileType,
}

/// A regular file of the node, opened.
#[derive(Debug)]
pub struct NodeFile {
    file: File,
    meta: Metadata,
    shown: String,
}

/// A file's first bytes, up to a [`Limit`].
#[derive(Debug)]
pub struct Contents {
    pub bytes: Vec<u8>,
    /// The file holds more than the limit.
    pub cut: bool,
}

impl NodeFile {
    /// At most `limit` bytes, and whether there was more.
    pub fn read_up_to(self, limit: Limit) -> Result<Contents, ReadError> {
        let mut bytes = Vec::new();
        let shown = self.shown;
        self.file.take(limit.bytes + 1).read_to_end(&mut bytes).map_err(|source| ReadError::Io { shown, source })?;
        let cut = bytes.len() as u64 > limit.bytes;
        bytes.truncate(limit.bytes as usize);
        Ok(Contents { bytes, cut })
    }
}

/// The root of the inspected node's file system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRoot {
    dir: PathBuf,
}

impl NodeRoot {
    /// The running node's own file system.
    pub fn live() -> Self {
        NodeRoot { dir: PathBuf::from("/") }
    }

    /// `--root DIR`: it must be a directory clusterdoc can list.
    pub fn new(dir: &Path) -> Result<Self, String> {
        let shown = dir.display();
        match std::fs::metadata(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(format!("{shown} does not exist")),
            Err(e) => return Err(format!("{shown}: {e}")),
            Ok(meta) if !meta.is_dir() => {
                return Err(format!("{shown} is {}, not a directory", describe(meta.file_type())));
            }
            Ok(_) => {}
        }
        std::fs::read_dir(dir).map_err(|e| format!("{shown} cannot be read: {e}"))?;
        Ok(NodeRoot { dir: dir.to_path_buf() })
    }

    /// True for the running node's own file system.
    pub fn is_live(&self) -> bool {
        self.dir == Path::new("/")
    }

    /// The directory on this machine, for deciding what lies inside it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory, for messages and for tools given the same root
    /// (`systemctl --root`).
    pub fn display(&self) -> std::path::Display<'_> {
        self.dir.display()
    }

    /// A node path as messages show it: `/etc/hosts` live, `DIR/etc/hosts`
    /// under `--root`.
    pub fn shown(&self, node: impl AsRef<Path>) -> String {
        self.host(&absolute(node.as_ref())).display().to_string()
    }

    /// [`NodeRoot::shown`], naming the link followed when `node` is one:
    /// `DIR/etc/hosts (a link to /dev/zero)`.
    pub fn shown_linked(&self, node: impl AsRef<Path>) -> String {
        let node = node.as_ref();
        match self.resolve(node) {
            Ok(resolved) => linked(self.shown(node), &resolved, node),
            Err(_) => self.shown(node),
        }
    }

    /// Where an absolute node path without symlinks or `..` is on this
    /// machine. Only resolved paths get here.
    fn host(&self, resolved: &Path) -> PathBuf {
        self.dir.join(resolved.strip_prefix("/").unwrap_or(resolved))
    }

    /// `node` with every symlink resolved inside the root (see the module
    /// doc). A missing component ends the walk with the rest appended
    /// unresolved, so a later read reports it missing.
    pub fn resolve(&self, node: impl AsRef<Path>) -> io::Result<PathBuf> {
        let node = node.as_ref();
        let mut todo = components_reversed(node);
        let mut done = PathBuf::from("/");
        let mut hops = 0;
        while let Some(part) = todo.pop() {
            if part == ".." {
                done.pop();
                continue;
            }
            let next = done.join(&part);
            match std::fs::symlink_metadata(self.host(&next)) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(io::Error::other(format!(
                            "{}: too many levels of symbolic links",
                            self.shown(node)
                        )));
                    }
                    let target = std::fs::read_link(self.host(&next))?;
                    if target.is_absolute() {
                        done = PathBuf::from("/");
                    }
                    todo.extend(components_reversed(&target));
                }
                Ok(_) => done = next,
                Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {
                    done = next;
                    done.extend(todo.into_iter().rev());
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// What `node` is, symlinks followed inside the root (as `stat`).
    pub fn metadata(&self, node: impl AsRef<Path>) -> io::Result<Metadata> {
        std::fs::symlink_metadata(self.host(&self.resolve(node)?))
    }

    /// What the entry `node` itself is: a symlink is not followed, the
    /// directories leading to it are (as `lstat`).
    pub fn symlink_metadata(&self, node: impl AsRef<Path>) -> io::Result<Metadata> {
        let node = absolute(node.as_ref());
        match (node.parent(), node.file_name()) {
            (Some(parent), Some(name)) => std::fs::symlink_metadata(self.host(&self.resolve(parent)?.join(name))),
            _ => self.metadata(&node),
        }
    }

    /// The entries of the directory `node`, sorted by name.
    pub fn read_dir(&self, node: impl AsRef<Path>) -> io::Result<Vec<Entry>> {
        let mut entries: Vec<Entry> = std::fs::read_dir(self.host(&self.resolve(node)?))?
            .filter_map(|e| {
                let e = e.ok()?;
                Some(Entry { name: e.file_name(), file_type: e.file_type().ok()? })
            })
            .collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// Opens the regular file `node`; `None` when it does not exist.
    pub fn open(&self, node: impl AsRef<Path>) -> Result<Option<NodeFile>, ReadError> {
        let node = node.as_ref();
        let shown = self.shown(node);
        let io_error = |source| ReadError::Io { shown: shown.clone(), source };
        let resolved = self.resolve(node).map_err(io_error)?;
        let on_host = self.host(&resolved);
        // Look before opening: opening a FIFO or a device can block or act.
        match std::fs::symlink_metadata(&on_host) {
            Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => return Ok(None),
            Err(e) => return Err(io_error(e)),
            Ok(meta) if !meta.is_file() => return Err(not_regular(shown, &resolved, node, meta.file_type())),
            Ok(_) => {}
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(&on_host)
            .map_err(io_error)?;
        let meta = file.metadata().map_err(io_error)?;
        if !meta.is_file() {
            return Err(not_regular(shown, &resolved, node, meta.file_type()));
        }
        Ok(Some(NodeFile { file, meta, shown }))
    }

    /// The whole regular file `node`, refused when larger than `limit`;
    /// `None` when it does not exist.
    pub fn read(&self, node: impl AsRef<Path>, limit: Limit) -> Result<Option<Vec<u8>>, ReadError> {
        let Some(file) = self.open(node)? else { return Ok(None) };
        let shown = file.shown.clone();
        if file.meta.len() > limit.bytes {
            return Err(ReadError::TooLarge { shown, limit });
        }
        // The size can lie (a file in /proc, one that grows): read at most the limit anyway.
        let contents = file.read_up_to(limit)?;
        if contents.cut {
            return Err(ReadError::TooLarge { shown, limit });
        }
        Ok(Some(contents.bytes))
    }
}

/// `shown`, naming the link that led to `resolved` if any.
fn linked(shown: String, resolved: &Path, node: &Path) -> String {
    if resolved == absolute(node) { shown } else { format!("{shown} (a link to {})", resolved.display()) }
}

/// The error for a resolved entry that is not a regular file.
fn not_regular(shown: String, resolved: &Path, node: &Path, file_type: FileType) -> ReadError {
    ReadError::NotRegular { shown: linked(shown, resolved, node), kind: describe(file_type) }
}

/// `etc/hosts` -> `/etc/hosts`.
fn absolute(node: &Path) -> PathBuf {
    Path::new("/").join(node)
}

/// The path components of `path`, last first (a stack to resolve from).
fn components_reversed(path: &Path) -> Vec<OsString> {
    let mut parts: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    parts.reverse();
    parts
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    /// A node tree and, beside it, a file of the analyst's that must never be read.
    struct Fixture {
        _dir: tempfile::TempDir,
        root: NodeRoot,
        node: PathBuf,
        outside: PathBuf,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let node = dir.path().join("node");
        std::fs::create_dir_all(node.join("etc")).unwrap();
        std::fs::create_dir_all(node.join("usr/lib/systemd/system")).unwrap();
        std::fs::write(node.join("etc/shadow"), "node's own\n").unwrap();
        let outside = dir.path().join("analyst-secret");
        std::fs::write(&outside, "the analyst's file\n").unwrap();
        Fixture { root: NodeRoot::new(&node).unwrap(), node, outside, _dir: dir }
    }

    fn text(root: &NodeRoot, node: &str) -> Option<String> {
        root.read(node, Limit::CONFIG).unwrap().map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn absolute_links_start_again_at_the_node_root() {
        let f = fixture();
        symlink("/etc/shadow", f.node.join("etc/hostname")).unwrap();
        assert_eq!(f.root.resolve("/etc/hostname").unwrap(), Path::new("/etc/shadow"));
        assert_eq!(text(&f.root, "/etc/hostname").as_deref(), Some("node's own\n"));
        // A link to the analyst's file by its absolute path names a file the node does not have.
        symlink(&f.outside, f.node.join("etc/hosts")).unwrap();
        assert_eq!(text(&f.root, "/etc/hosts"), None);
        let shown = f.root.shown_linked("/etc/hosts");
        assert_eq!(shown, format!("{} (a link to {})", f.node.join("etc/hosts").display(), f.outside.display()));
    }

    #[test]
    fn dot_dot_never_climbs_above_the_root() {
        let f = fixture();
        let up = format!("../../../../../..{}", f.outside.display());
        symlink(&up, f.node.join("etc/hostname")).unwrap();
        assert_eq!(f.root.resolve("/etc/hostname").unwrap(), absolute(&f.outside));
        assert_eq!(text(&f.root, "/etc/hostname"), None);
        symlink("../analyst-secret", f.node.join("escape")).unwrap();
        assert_eq!(text(&f.root, "/escape"), None);
        assert_eq!(text(&f.root, "/../../analyst-secret"), None);
        assert!(f.root.metadata("/escape").is_err());
        // Relative links inside the node work as on the node.
        symlink("../etc/shadow", f.node.join("usr/shadow")).unwrap();
        assert_eq!(text(&f.root, "/usr/shadow").as_deref(), Some("node's own\n"));
    }

    #[test]
    fn directories_are_resolved_inside_the_root_too() {
        let f = fixture();
        std::fs::create_dir_all(f.node.join("opt")).unwrap();
        // /opt/flink -> / (the analyst's root, were it followed on the host).
        symlink("/", f.node.join("opt/flink")).unwrap();
        let names: Vec<OsString> = f.root.read_dir("/opt/flink").unwrap().into_iter().map(|e| e.name).collect();
        assert!(names.contains(&OsString::from("etc")) && names.contains(&OsString::from("usr")), "{names:?}");
        assert!(!names.contains(&OsString::from("analyst-secret")), "{names:?}");
        symlink("usr/lib", f.node.join("lib")).unwrap();
        assert!(f.root.metadata("/lib/systemd/system").unwrap().is_dir());
        assert!(f.root.symlink_metadata("/lib").unwrap().file_type().is_symlink());
        assert!(f.root.symlink_metadata("/lib/systemd").unwrap().is_dir());
    }

    #[test]
    fn symlink_loops_end_with_an_error() {
        let f = fixture();
        symlink("loop", f.node.join("etc/loop")).unwrap();
        let error = f.root.resolve("/etc/loop").unwrap_err().to_string();
        assert!(error.contains("too many levels of symbolic links"), "{error}");
        let error = f.root.read("/etc/loop", Limit::CONFIG).unwrap_err().to_string();
        assert!(error.contains("etc/loop") && error.contains("too many levels"), "{error}");
    }

    #[test]
    fn only_regular_files_are_read() {
        let f = fixture();
        let fifo = f.node.join("etc/hostname");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success(), "mkfifo failed");
        let error = f.root.read("/etc/hostname", Limit::CONFIG).unwrap_err().to_string();
        assert_eq!(error, format!("{} is a FIFO, not a regular file", fifo.display()));
        symlink("hostname", f.node.join("etc/mailname")).unwrap();
        let error = f.root.read("/etc/mailname", Limit::CONFIG).unwrap_err().to_string();
        assert!(error.ends_with("mailname (a link to /etc/hostname) is a FIFO, not a regular file"), "{error}");
        let error = f.root.read("/etc", Limit::CONFIG).unwrap_err().to_string();
        assert!(error.ends_with("etc is a directory, not a regular file"), "{error}");
        // On the live file system a device is refused the same way.
        let error = NodeRoot::live().read("/dev/zero", Limit::HOSTS).unwrap_err().to_string();
        assert_eq!(error, "/dev/zero is a character device, not a regular file");
    }

    #[test]
    fn reads_stop_at_the_limit() {
        let f = fixture();
        let big = std::fs::File::create(f.node.join("etc/hosts")).unwrap();
        big.set_len(2 << 30).unwrap();
        let error = f.root.read("/etc/hosts", Limit::HOSTS).unwrap_err().to_string();
        assert!(
            error.ends_with("hosts is larger than the 16 MiB clusterdoc reads of a hosts file; it was not read"),
            "{error}"
        );
        let file = f.root.open("/etc/hosts").unwrap().unwrap();
        let contents = file.read_up_to(Limit::PACK_FILE).unwrap();
        assert_eq!((contents.bytes.len() as u64, contents.cut), (Limit::PACK_FILE.bytes, true));
        std::fs::write(f.node.join("etc/small"), "x").unwrap();
        let contents = f.root.open("/etc/small").unwrap().unwrap().read_up_to(Limit::PACK_FILE).unwrap();
        assert_eq!((contents.bytes, contents.cut), (b"x".to_vec(), false));
        // A /proc file says it is empty: the limit holds on what is read.
        assert!(NodeRoot::live().read("/proc/self/status", Limit::CONFIG).unwrap().is_some_and(|b| !b.is_empty()));
    }

    #[test]
    fn the_live_root_is_the_ordinary_file_system() {
        let f = fixture();
        let live = NodeRoot::live();
        assert!(live.is_live() && !f.root.is_live());
        let shown = f.outside.display().to_string();
        assert_eq!(live.read(&f.outside, Limit::CONFIG).unwrap().unwrap(), b"the analyst's file\n");
        assert_eq!(live.shown(&f.outside), shown);
        assert_eq!(f.root.shown("/etc/hosts"), f.node.join("etc/hosts").display().to_string());
    }

    #[test]
    fn a_root_must_be_a_readable_directory() {
        let f = fixture();
        assert_eq!(NodeRoot::new(Path::new("/nonexistent/x")).unwrap_err(), "/nonexistent/x does not exist");
        let error = NodeRoot::new(&f.outside).unwrap_err();
        assert!(error.ends_with("analyst-secret is a regular file, not a directory"), "{error}");
        assert!(NodeRoot::new(Path::new("/")).unwrap().is_live());
    }
}
