//! Files in repositories on plain Git hosts (`integrations.git`), addressed as
//! `git+<remote>/-/blob/<branch>/<path>`: what `publish:git` pushes and
//! `catalog:register` registers. Only remotes under a configured host's base
//! are read.

use crate::scm::{git, split_git_file_url, GitHosts};

use super::{ReadError, MAX_READ_BYTES};

pub struct GitReader {
    hosts: GitHosts,
}

impl GitReader {
    pub fn new(hosts: GitHosts) -> Self {
        GitReader { hosts }
    }

    pub fn handles(url: &str) -> bool {
        url.starts_with("git+")
    }

    fn target(&self, url: &str) -> Result<(String, String, String, git::GitAuth), ReadError> {
        let (remote, branch, path) = split_git_file_url(url).ok_or_else(|| {
            ReadError::Other(format!(
                "Invalid Git file URL '{url}': expected git+<remote>/-/blob/<branch>/<path>"
            ))
        })?;
        let auth = self.hosts.auth_for_remote(&remote).ok_or_else(|| {
            ReadError::NotAllowed(format!(
                "Reading from '{url}' is not allowed: no integrations.git entry has a remoteBaseUrl that contains {remote}"
            ))
        })?;
        Ok((remote, branch, path, auth))
    }

    pub fn check_allowed(&self, url: &str) -> Result<(), ReadError> {
        self.target(url).map(|_| ())
    }

    pub async fn read_url(&self, url: &str) -> Result<String, ReadError> {
        let (remote, branch, path, auth) = self.target(url)?;
        let bytes = git::read_remote_file(&remote, &branch, &path, &auth)
            .await
            .map_err(|e| ReadError::Other(format!("Could not read {url}: {e}")))?
            .ok_or_else(|| {
                ReadError::NotFound(format!("{url} could not be read as {path} does not exist"))
            })?;
        if bytes.len() > MAX_READ_BYTES {
            return Err(ReadError::Other(format!(
                "{url} is larger than {MAX_READ_BYTES} bytes"
            )));
        }
        String::from_utf8(bytes).map_err(|_| ReadError::Other(format!("{url} is not UTF-8 text")))
    }
}
