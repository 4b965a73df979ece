//! `backend.reading.allow`: which hosts (and path prefixes) plain HTTP reads may reach.

use crate::config::ReadingAllow;

/// One allow entry: a host (exact `host[:port]`, or `*.suffix` for any subdomain)
/// and optional path prefixes.
#[derive(Debug, Clone)]
struct AllowEntry {
    host: String,
    paths: Vec<String>,
}

/// The configured allow-list. Matching follows Backstage's fetch reader: the
/// URL's `host[:port]` must equal the entry (case-insensitively), or end with
/// `.suffix` for a `*.suffix` entry; when paths are given, the URL path must
/// start with one of them.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    entries: Vec<AllowEntry>,
}

impl AllowList {
    pub fn new(allow: &[ReadingAllow]) -> Self {
        Self {
            entries: allow
                .iter()
                .map(|a| AllowEntry {
                    host: a.host.trim().to_ascii_lowercase(),
                    paths: a.paths.clone(),
                })
                .collect(),
        }
    }

    pub fn is_allowed(&self, url: &url::Url) -> bool {
        if !matches!(url.scheme(), "http" | "https") {
            return false;
        }
        let Some(host) = super::url_host(url) else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        self.entries.iter().any(|entry| {
            let host_ok = match entry.host.strip_prefix('*') {
                Some(suffix) if suffix.starts_with('.') => host.ends_with(suffix),
                _ => host == entry.host,
            };
            // The url crate has already normalised `..` segments away, so a
            // prefix check cannot be escaped with traversal.
            host_ok
                && (entry.paths.is_empty()
                    || entry
                        .paths
                        .iter()
                        .any(|p| url.path().starts_with(p.as_str())))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[(&str, &[&str])]) -> AllowList {
        AllowList::new(
            &entries
                .iter()
                .map(|(h, p)| ReadingAllow {
                    host: h.to_string(),
                    paths: p.iter().map(|s| s.to_string()).collect(),
                })
                .collect::<Vec<_>>(),
        )
    }

    fn allowed(l: &AllowList, url: &str) -> bool {
        l.is_allowed(&url::Url::parse(url).unwrap())
    }

    #[test]
    fn exact_host_and_port() {
        let l = list(&[("example.com", &[]), ("localhost:8080", &[])]);
        assert!(allowed(&l, "https://example.com/a.yaml"));
        assert!(allowed(&l, "https://EXAMPLE.com/a.yaml"));
        assert!(!allowed(&l, "https://sub.example.com/a.yaml"));
        assert!(allowed(&l, "http://localhost:8080/x"));
        assert!(!allowed(&l, "http://localhost:9090/x"));
        assert!(!allowed(&l, "http://localhost/x"));
        assert!(!allowed(&l, "ftp://example.com/x"));
    }

    #[test]
    fn wildcard_subdomains() {
        let l = list(&[("*.example.com", &[])]);
        assert!(allowed(&l, "https://a.example.com/x"));
        assert!(allowed(&l, "https://a.b.example.com/x"));
        assert!(!allowed(&l, "https://example.com/x"));
        assert!(!allowed(&l, "https://badexample.com/x"));
    }

    #[test]
    fn path_prefixes() {
        let l = list(&[("example.com", &["/catalog/", "/docs/"])]);
        assert!(allowed(&l, "https://example.com/catalog/a.yaml"));
        assert!(allowed(&l, "https://example.com/docs/a.yaml"));
        assert!(!allowed(&l, "https://example.com/other/a.yaml"));
        assert!(!allowed(&l, "https://example.com/catalog/../secret/a.yaml"));
    }
}
