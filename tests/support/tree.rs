//! A test's node tree (`--root DIR`): files written at their node paths,
//! fixture trees copied in.

#![allow(dead_code)] // each test file uses the parts it needs

use std::path::{Path, PathBuf};

/// A node's file tree for `--root`, in a test's own temporary directory
/// (removed when dropped) beside a directory of the analyst's machine. Test
/// files add what their component needs (`impl NodeTree` in the test).
pub struct NodeTree {
    dir: tempfile::TempDir,
}

impl NodeTree {
    pub fn new() -> Self {
        let tree = NodeTree { dir: tempfile::tempdir().unwrap() };
        std::fs::create_dir_all(tree.root()).unwrap();
        std::fs::create_dir_all(tree.outside()).unwrap();
        tree
    }

    /// The node's `/`, what `--root` names.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("node")
    }

    /// A directory of the analyst's machine, next to the node tree.
    pub fn outside(&self) -> PathBuf {
        self.dir.path().join("analyst")
    }

    /// The test's directory: a working directory with no clusterdoc.toml.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// Where `node_path` lies in the tree; its directory exists.
    pub fn path(&self, node_path: &str) -> PathBuf {
        self::node_path(&self.root(), node_path)
    }

    pub fn mkdir(&self, node_path: &str) {
        std::fs::create_dir_all(self.root().join(node_path.trim_start_matches('/'))).unwrap();
    }

    pub fn write(&self, node_path: &str, content: impl AsRef<[u8]>) {
        std::fs::write(self.path(node_path), content).unwrap();
    }

    pub fn link(&self, target: impl AsRef<Path>, node_path: &str) {
        std::os::unix::fs::symlink(target, self.path(node_path)).unwrap();
    }

    /// Copies a fixture tree into the node's `/`.
    pub fn copy_in(&self, fixture: &Path) {
        copy_tree(fixture, &self.root());
    }
}

/// Where `node_path` (`/etc/hostname`) lies under `root`; its directory exists.
pub fn node_path(root: &Path, node_path: &str) -> PathBuf {
    let path = root.join(node_path.trim_start_matches('/'));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    path
}

/// Writes a file of the node tree at `root`, creating its directories.
pub fn write(root: &Path, node_path: &str, content: impl AsRef<[u8]>) {
    std::fs::write(self::node_path(root, node_path), content).unwrap();
}

/// Copies the directory tree `from` into `to` (which exists).
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
