//! A test's node tree (`--root DIR`): files written at their node paths,
//! fixture trees copied in.

#![allow(dead_code)] // each test file uses the parts it needs

use std::path::{Path, PathBuf};

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
