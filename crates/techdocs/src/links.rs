//! Paths and URLs of a site: where a Markdown page is published, and how a link
//! written in a page (`../guide.md#setup`, `img/a.png`, `/img/b.svg`) becomes the
//! relative URL mkdocs would write for it.

/// Whether `href` leaves the site: it has a scheme (`https:`, `mailto:`,
/// `javascript:`) or is protocol-relative (`//host/x`).
pub fn is_external(href: &str) -> bool {
    if href.starts_with("//") {
        return true;
    }
    let end = href.find(['/', '?', '#']).unwrap_or(href.len());
    match href[..end].find(':') {
        Some(colon) => {
            let scheme = &href[..colon];
            !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// The URL of the page whose source is `src` (relative to `docs_dir`), relative to
/// the site root: `index.md` → ``, `guide.md` → `guide/`, `a/index.md` → `a/`
/// (with `use_directory_urls`, mkdocs' default), else `guide.html`.
pub fn page_url(src: &str, directory_urls: bool) -> String {
    let stem = src
        .strip_suffix(".md")
        .or_else(|| src.strip_suffix(".markdown"))
        .unwrap_or(src);
    let (dir, name) = match stem.rfind('/') {
        Some(i) => (&stem[..=i], &stem[i + 1..]),
        None => ("", stem),
    };
    let is_index = name.eq_ignore_ascii_case("index") || name.eq_ignore_ascii_case("readme");
    match (is_index, directory_urls) {
        (true, true) => dir.to_string(),
        (true, false) => format!("{dir}index.html"),
        (false, true) => format!("{dir}{name}/"),
        (false, false) => format!("{dir}{name}.html"),
    }
}

/// The file that serves a page URL: `guide/` → `guide/index.html`.
pub fn url_file(url: &str) -> String {
    if url.is_empty() || url.ends_with('/') {
        format!("{url}index.html")
    } else {
        url.to_string()
    }
}

/// Joins `path` onto the directory `base_dir` (both relative to the site root,
/// `/`-separated) and removes `.` and `..`. `None` when it climbs above the root.
pub fn normalize(base_dir: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = if path.starts_with('/') {
        Vec::new()
    } else {
        base_dir.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    let mut joined = parts.join("/");
    if path.ends_with('/') && !joined.is_empty() {
        joined.push('/');
    }
    Some(joined)
}

/// The directory part of a site path: `a/b.md` → `a/`, `x.md` → ``.
pub fn parent_dir(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "",
    }
}

/// The relative URL from the page at `from_url` to the site path `to`, as a
/// browser resolves it: from `middleware/` to `requests/` is `../requests/`.
pub fn relative_url(from_url: &str, to: &str) -> String {
    let from_dir: Vec<&str> = parent_dir(from_url)
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let to_parts: Vec<&str> = to.split('/').collect();
    let to_dirs = &to_parts[..to_parts.len() - 1];
    let common = from_dir
        .iter()
        .zip(to_dirs)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = "../".repeat(from_dir.len() - common);
    out.push_str(&to_parts[common..].join("/"));
    if out.is_empty() {
        out.push_str("./");
    }
    out
}

/// Splits `href` into its path and its fragment (without `#`); a query string is
/// dropped because a static site ignores it.
pub fn split_fragment(href: &str) -> (&str, Option<&str>) {
    let (rest, fragment) = match href.find('#') {
        Some(i) => (&href[..i], Some(&href[i + 1..])),
        None => (href, None),
    };
    let path = rest.find('?').map_or(rest, |i| &rest[..i]);
    (path, fragment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_links_have_a_scheme_or_are_protocol_relative() {
        for href in [
            "https://x.dev/a",
            "mailto:a@b.c",
            "javascript:alert(1)",
            "JavaScript:x",
            "//cdn/x.js",
            "tel:+1",
        ] {
            assert!(is_external(href), "{href}");
        }
        for href in [
            "guide.md",
            "../a.md#b:c",
            "#top",
            "img/a:b.png",
            "/img/x.svg",
            "",
            "a/b?x=1:2",
        ] {
            assert!(!is_external(href), "{href}");
        }
    }

    #[test]
    fn pages_publish_like_mkdocs() {
        assert_eq!(page_url("index.md", true), "");
        assert_eq!(page_url("guide.md", true), "guide/");
        assert_eq!(page_url("a/index.md", true), "a/");
        assert_eq!(page_url("a/README.md", true), "a/");
        assert_eq!(page_url("a/b.md", true), "a/b/");
        assert_eq!(page_url("a/b.md", false), "a/b.html");
        assert_eq!(page_url("index.md", false), "index.html");
        assert_eq!(url_file(""), "index.html");
        assert_eq!(url_file("a/b/"), "a/b/index.html");
        assert_eq!(url_file("a/b.html"), "a/b.html");
    }

    #[test]
    fn paths_normalize_inside_the_root_only() {
        assert_eq!(normalize("a/", "../b.md").as_deref(), Some("b.md"));
        assert_eq!(
            normalize("a/b/", "./c/../d.md").as_deref(),
            Some("a/b/d.md")
        );
        assert_eq!(normalize("a/", "/img/x.svg").as_deref(), Some("img/x.svg"));
        assert_eq!(normalize("a/", "sub/").as_deref(), Some("a/sub/"));
        assert_eq!(normalize("", "../../etc/passwd"), None);
        assert_eq!(normalize("a/", "../../x"), None);
    }

    #[test]
    fn relative_urls_match_what_mkdocs_writes() {
        assert_eq!(relative_url("middleware/", "requests/"), "../requests/");
        assert_eq!(relative_url("", "requests/"), "requests/");
        assert_eq!(relative_url("middleware/", ""), "../");
        assert_eq!(relative_url("", ""), "./");
        assert_eq!(relative_url("a/b/", "a/c/"), "../c/");
        assert_eq!(relative_url("a/b/", "img/x.png"), "../../img/x.png");
        assert_eq!(relative_url("a/", "a/x.png"), "x.png");
        assert_eq!(relative_url("a/b.html", "a/c.html"), "c.html");
        assert_eq!(relative_url("index.html", "img/x.png"), "img/x.png");
    }

    #[test]
    fn fragments_and_queries_split_off() {
        assert_eq!(split_fragment("a.md#x"), ("a.md", Some("x")));
        assert_eq!(split_fragment("a.md?v=1#x"), ("a.md", Some("x")));
        assert_eq!(split_fragment("#top"), ("", Some("top")));
        assert_eq!(split_fragment("a.png"), ("a.png", None));
    }
}
