//! Where things are: the repository, the built web UI, a free port.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the server crate lives in the repository")
        .to_path_buf()
}

/// `GREENROOM_DIST_DIR` (relative paths from the repository root) or `<repo>/dist`.
pub fn dist_dir() -> PathBuf {
    match std::env::var_os("GREENROOM_DIST_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => repo_root().join(dir),
        None => repo_root().join("dist"),
    }
}

/// A port that was free a moment ago: the config needs a number before the
/// server binds it.
pub fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}
