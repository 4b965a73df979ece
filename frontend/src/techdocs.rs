//! TechDocs in the app: the addresses of a documentation site (the reader's
//! routes, the `/api/techdocs` endpoints, the static files), the metadata
//! the server sends, how a link inside a page resolves (mkdocs writes links
//! between pages relative to the page's directory), the navigation tree, and
//! the state of the docs explorer as it is kept in the address. Plain
//! functions, unit-tested on the host; the pages in `pages::docs_*` only lay
//! the results out and touch the DOM.

use crate::api::{encode_component, CATALOG_API};
use crate::catalog_query::with_params;
use greenroom_model::api::SearchRequest;
use greenroom_model::{Entity, EntityRef};
use serde::Deserialize;

pub const TECHDOCS_API: &str = "/api/techdocs";
/// The annotation that says where an entity's docs come from.
pub const TECHDOCS_REF: &str = "backstage.io/techdocs-ref";
/// The search document type of documentation pages.
pub const SEARCH_TYPE: &str = "techdocs";
/// The element of a built page that holds its content.
pub const CONTENT_ID: &str = "gr-docs-content";

/// Everything a path segment must escape, except the `/` between segments.
fn encode_path(path: &str) -> String {
    path.split('/')
        .map(encode_component)
        .collect::<Vec<_>>()
        .join("/")
}

/// The documentation site of one entity, named as in the reader's address:
/// kind and namespace lower-cased (as Backstage's UI writes them), the name
/// as it is spelled.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocsTarget {
    pub namespace: String,
    pub kind: String,
    pub name: String,
}

impl DocsTarget {
    pub fn new(namespace: &str, kind: &str, name: &str) -> Self {
        let namespace = if namespace.is_empty() {
            "default"
        } else {
            namespace
        };
        DocsTarget {
            namespace: namespace.to_lowercase(),
            kind: kind.to_lowercase(),
            name: name.to_string(),
        }
    }

    pub fn of_entity(entity: &Entity) -> Option<Self> {
        EntityRef::of_entity(entity).map(|r| DocsTarget::new(&r.namespace, &r.kind, &r.name))
    }

    /// `ns/kind/name`, each escaped.
    fn segments(&self) -> String {
        format!(
            "{}/{}/{}",
            encode_component(&self.namespace),
            encode_component(&self.kind),
            encode_component(&self.name)
        )
    }

    /// `GET`: the site's metadata (404 until it is built).
    pub fn metadata_url(&self) -> String {
        format!("{TECHDOCS_API}/metadata/techdocs/{}", self.segments())
    }

    /// `GET`: the entity the site documents.
    pub fn entity_metadata_url(&self) -> String {
        format!("{TECHDOCS_API}/metadata/entity/{}", self.segments())
    }

    /// `GET`, an event stream: builds the site when it is missing or stale.
    pub fn sync_url(&self) -> String {
        format!("{TECHDOCS_API}/sync/{}", self.segments())
    }

    /// A file of the built site, by its path from the site root. Sites are
    /// stored under the lower-cased name (other spellings are redirected).
    pub fn static_url(&self, file: &str) -> String {
        format!(
            "{TECHDOCS_API}/static/docs/{}/{}/{}/{}",
            encode_component(&self.namespace),
            encode_component(&self.kind),
            encode_component(&self.name.to_lowercase()),
            encode_path(file.trim_start_matches('/'))
        )
    }

    /// The HTML file of a page.
    pub fn page_static_url(&self, page_url: &str) -> String {
        self.static_url(&page_file(page_url))
    }

    /// The reader's address of a page (`""` is the index page), with an
    /// optional fragment.
    pub fn reader_path(&self, page_url: &str, fragment: Option<&str>) -> String {
        let mut path = format!("/docs/{}/", self.segments());
        path.push_str(&encode_path(&normalize_page_url(page_url)));
        push_fragment(&mut path, fragment);
        path
    }

    /// Search within this site.
    pub fn search_request(&self, term: &str, limit: u32) -> SearchRequest {
        SearchRequest {
            term: term.trim().to_string(),
            types: vec![SEARCH_TYPE.to_string()],
            filters: vec![
                ("namespace".into(), self.namespace.clone()),
                ("kind".into(), self.kind.clone()),
                ("name".into(), self.name.clone()),
            ],
            page_limit: Some(limit),
            page_cursor: None,
        }
    }
}

fn push_fragment(path: &mut String, fragment: Option<&str>) {
    if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
        path.push('#');
        path.push_str(&encode_component(fragment));
    }
}

/// Where the reader shows a site: its own page (`/docs/...`) or the Docs
/// tab of the entity's page (`?tab=docs&page=...`). Links inside the docs
/// stay where they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderMode {
    Standalone,
    /// In the tab of the entity page at this path.
    Tab {
        entity_path: String,
    },
}

impl ReaderMode {
    pub fn href(&self, target: &DocsTarget, page_url: &str, fragment: Option<&str>) -> String {
        match self {
            ReaderMode::Standalone => target.reader_path(page_url, fragment),
            ReaderMode::Tab { entity_path } => {
                let page = normalize_page_url(page_url);
                let mut path = format!("{entity_path}?tab=docs");
                if !page.is_empty() {
                    // Slashes are fine in a query and keep the address readable.
                    path.push_str("&page=");
                    path.push_str(&encode_path(&page));
                }
                push_fragment(&mut path, fragment);
                path
            }
        }
    }

    pub fn is_embedded(&self) -> bool {
        matches!(self, ReaderMode::Tab { .. })
    }
}

// ---------------------------------------------------------------------------
// Page addresses and links
// ---------------------------------------------------------------------------

/// A page url as mkdocs writes it with directory urls: `""` for the index,
/// else a directory ending in `/` (`requests/`, `features/tabs/`). Leading
/// slashes, `./`, `index.html` and a missing final slash are tidied away.
pub fn normalize_page_url(url: &str) -> String {
    let url = url.split(['#', '?']).next().unwrap_or_default();
    match resolve_path("", url) {
        Resolved::Page(page) => page,
        Resolved::File(file) => file,
    }
}

/// The HTML file of a page, from the site root: `requests/` →
/// `requests/index.html`, the index → `index.html`.
pub fn page_file(page_url: &str) -> String {
    format!("{}index.html", normalize_page_url(page_url))
}

/// What a link in a page points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Href {
    /// A page of the same site (its page url) and maybe a place in it.
    Page {
        url: String,
        fragment: Option<String>,
    },
    /// Another file of the same site (a download, an image), by its path
    /// from the site root, with the query and fragment it had.
    File(String),
    /// Anything left as written: another web site, `mailto:`, `tel:`, a
    /// path of the portal itself (`/catalog/...`).
    External(String),
    /// A scheme that must not be followed (`javascript:`, `data:`, ...).
    Unsafe,
}

enum Resolved {
    Page(String),
    File(String),
}

/// Characters browsers drop from a URL before reading it: a scheme check
/// must see what the browser will see (`java\nscript:`).
fn browser_form(href: &str) -> String {
    href.trim_matches(|c: char| c.is_ascii_control() || c == ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

/// The scheme of an absolute URL, lower-cased (`https`, `mailto`), or `None`
/// for a relative reference.
pub fn scheme_of(href: &str) -> Option<String> {
    let href = browser_form(href);
    let end = href.find(':')?;
    let scheme = &href[..end];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then(|| scheme.to_ascii_lowercase())
}

/// Whether a URL in a page may stay in the document: relative references and
/// the web and mail schemes; images may also be inline `data:image/` URLs.
pub fn is_safe_url(value: &str, image: bool) -> bool {
    match scheme_of(value).as_deref() {
        None | Some("http" | "https" | "mailto" | "tel") => true,
        Some("data") => {
            image
                && browser_form(value)
                    .get(5..)
                    .is_some_and(|rest| rest.to_ascii_lowercase().starts_with("image/"))
        }
        Some(_) => false,
    }
}

/// Resolves `path` (no query or fragment) against the directory `base`
/// (a page url), as a browser would, without climbing above the site root.
fn resolve_path(base: &str, path: &str) -> Resolved {
    let mut segments: Vec<String> = if path.starts_with('/') {
        Vec::new()
    } else {
        base.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let parts: Vec<&str> = path.split('/').collect();
    let mut directory = path.is_empty();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        match *part {
            "" | "." => directory |= last,
            ".." => {
                segments.pop();
                directory |= last;
            }
            other => segments.push(other.to_string()),
        }
    }
    if !directory {
        let last = segments.last().cloned().unwrap_or_default();
        if last == "index.html" || last == "index.md" || last == "README.md" {
            segments.pop();
        } else if let Some(stem) = last.strip_suffix(".md") {
            // An unconverted Markdown link: mkdocs would have written the page's url.
            let stem = stem.to_string();
            segments.pop();
            segments.push(stem);
        } else if last.contains('.') {
            return Resolved::File(segments.join("/"));
        }
        // `../requests` without its slash: the page's directory.
    }
    let mut page = segments.join("/");
    if !page.is_empty() {
        page.push('/');
    }
    Resolved::Page(page)
}

/// Resolves a link of the page at `page_url` (a directory, `""` for the index).
///
/// `../requests/#headers` from `middleware/` is the page `requests/` at
/// `headers`; `img/x.png` is the file `middleware/img/x.png`; absolute URLs
/// and portal paths stay as written.
pub fn resolve_href(page_url: &str, href: &str) -> Href {
    let href = browser_form(href);
    if scheme_of(&href).is_some() {
        return if is_safe_url(&href, false) {
            Href::External(href)
        } else {
            Href::Unsafe
        };
    }
    if href.starts_with("//") || href.starts_with('/') || href.starts_with('\\') {
        return Href::External(href);
    }
    let (rest, fragment) = match href.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment.to_string())),
        None => (href.as_str(), None),
    };
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let current = normalize_page_url(page_url);
    let fragment = fragment
        .map(|f| {
            percent_encoding::percent_decode_str(&f)
                .decode_utf8_lossy()
                .into_owned()
        })
        .filter(|f| !f.is_empty());
    if path.is_empty() {
        return Href::Page {
            url: current,
            fragment,
        };
    }
    match resolve_path(&current, path) {
        Resolved::Page(url) => Href::Page { url, fragment },
        Resolved::File(mut file) => {
            if let Some(query) = query {
                file.push('?');
                file.push_str(query);
            }
            if let Some(fragment) = fragment {
                file.push('#');
                file.push_str(&fragment);
            }
            Href::File(file)
        }
    }
}

/// A reader location from a search result (`/docs/ns/kind/name/requests/#headers`):
/// its site, page url and fragment.
pub fn parse_docs_location(location: &str) -> Option<(DocsTarget, String, Option<String>)> {
    let (path, fragment) = match location.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (location, None),
    };
    let path = path.split('?').next().unwrap_or_default();
    let rest = path.strip_prefix("/docs/")?;
    let mut parts = rest.splitn(4, '/');
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let namespace = decode(parts.next()?);
    let kind = decode(parts.next()?);
    let name = decode(parts.next()?);
    if namespace.is_empty() || kind.is_empty() || name.is_empty() {
        return None;
    }
    let page = normalize_page_url(&decode(parts.next().unwrap_or_default()));
    let fragment = fragment.map(decode).filter(|f| !f.is_empty());
    Some((DocsTarget::new(&namespace, &kind, &name), page, fragment))
}

// ---------------------------------------------------------------------------
// Metadata and the navigation tree
// ---------------------------------------------------------------------------

/// `GET /api/techdocs/metadata/techdocs/...`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TechDocsMetadata {
    pub site_name: String,
    pub site_description: Option<String>,
    pub build_timestamp: Option<f64>,
    pub etag: Option<String>,
    pub repo_url: Option<String>,
    pub edit_uri: Option<String>,
    pub nav: Vec<NavItem>,
    pub pages: Vec<PageMeta>,
}

/// One entry of the site's navigation: a page (`url`, relative to the site
/// root), a section (`children`), or a link out (`external`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct NavItem {
    pub title: String,
    pub url: Option<String>,
    pub children: Option<Vec<NavItem>>,
    pub external: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PageMeta {
    pub src: String,
    pub url: String,
    pub title: String,
    pub edit_url: Option<String>,
}

impl NavItem {
    pub fn is_section(&self) -> bool {
        self.children.is_some()
    }

    /// The page url of a page entry (`None` for sections and links out).
    pub fn page_url(&self) -> Option<String> {
        if self.external || self.children.is_some() {
            return None;
        }
        self.url.as_deref().map(normalize_page_url)
    }

    /// Whether this entry is the page, or a section holding it.
    pub fn contains_page(&self, page_url: &str) -> bool {
        match &self.children {
            Some(children) => children.iter().any(|c| c.contains_page(page_url)),
            None => self.page_url().as_deref() == Some(page_url),
        }
    }
}

impl TechDocsMetadata {
    /// The navigation tree; a site without one lists its pages.
    pub fn navigation(&self) -> Vec<NavItem> {
        if !self.nav.is_empty() {
            return self.nav.clone();
        }
        self.pages
            .iter()
            .map(|page| NavItem {
                title: page.title.clone(),
                url: Some(page.url.clone()),
                ..NavItem::default()
            })
            .collect()
    }

    pub fn page(&self, page_url: &str) -> Option<&PageMeta> {
        let page_url = normalize_page_url(page_url);
        self.pages
            .iter()
            .find(|p| normalize_page_url(&p.url) == page_url)
    }

    /// The pages before and after `page_url` in navigation order.
    pub fn neighbours(&self, page_url: &str) -> (Option<PageLink>, Option<PageLink>) {
        fn flatten(items: &[NavItem], out: &mut Vec<PageLink>) {
            for item in items {
                match (&item.children, item.page_url()) {
                    (Some(children), _) => flatten(children, out),
                    (None, Some(url)) => {
                        if !out.iter().any(|p| p.url == url) {
                            out.push(PageLink {
                                title: item.title.clone(),
                                url,
                            });
                        }
                    }
                    (None, None) => {}
                }
            }
        }
        let mut order = Vec::new();
        flatten(&self.navigation(), &mut order);
        let page_url = normalize_page_url(page_url);
        let Some(at) = order.iter().position(|p| p.url == page_url) else {
            return (None, None);
        };
        let prev = at.checked_sub(1).and_then(|i| order.get(i)).cloned();
        let next = order.get(at + 1).cloned();
        (prev, next)
    }
}

/// A page of the site, for a link to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLink {
    pub title: String,
    pub url: String,
}

/// A heading in the page's table of contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TocEntry {
    pub level: u8,
    pub id: String,
    pub text: String,
}

/// A heading's text without mkdocs' permalink sign.
pub fn heading_text(raw: &str) -> String {
    raw.trim().trim_end_matches('¶').trim().to_string()
}

// ---------------------------------------------------------------------------
// The docs explorer
// ---------------------------------------------------------------------------

/// The fields the explorer's table reads.
pub const EXPLORER_FIELDS: &str =
    "kind,metadata.name,metadata.namespace,metadata.title,metadata.description,spec.type,spec.owner";
pub const EXPLORER_PAGE_SIZE: u32 = 50;
/// Only entities with docs: the annotation exists.
const DOCUMENTED: &str = "metadata.annotations.backstage.io/techdocs-ref";
const TEXT_FIELDS: &str = "metadata.name,metadata.title";

/// The explorer's state in the address: `/docs?kind=&owner=&q=&cursor=`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocsQuery {
    pub kind: Option<String>,
    pub owner: Option<String>,
    pub text: Option<String>,
    pub cursor: Option<String>,
}

impl DocsQuery {
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        let value = |key: &str| {
            get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        DocsQuery {
            kind: value("kind"),
            owner: value("owner"),
            text: value("q"),
            cursor: value("cursor"),
        }
    }

    pub fn is_filtered(&self) -> bool {
        self.kind.is_some() || self.owner.is_some() || self.text.is_some()
    }

    /// The same query with `kind` or `owner` set (or cleared), from the first page.
    pub fn with_filter(&self, param: &str, value: &str) -> Self {
        let value = Some(value.trim().to_string()).filter(|v| !v.is_empty());
        let mut next = DocsQuery {
            cursor: None,
            ..self.clone()
        };
        match param {
            "kind" => next.kind = value,
            "owner" => next.owner = value,
            _ => {}
        }
        next
    }

    pub fn with_text(&self, text: &str) -> Self {
        DocsQuery {
            text: Some(text.trim().to_string()).filter(|t| !t.is_empty()),
            cursor: None,
            ..self.clone()
        }
    }

    pub fn at_cursor(&self, cursor: &str) -> Self {
        DocsQuery {
            cursor: Some(cursor.to_string()),
            ..self.clone()
        }
    }

    pub fn path(&self) -> String {
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(kind) = &self.kind {
            params.push(("kind", kind.clone()));
        }
        if let Some(owner) = &self.owner {
            params.push(("owner", owner.clone()));
        }
        if let Some(text) = &self.text {
            params.push(("q", text.clone()));
        }
        if let Some(cursor) = &self.cursor {
            params.push(("cursor", cursor.clone()));
        }
        with_params("/docs", &params)
    }

    fn filter(&self) -> String {
        let mut parts = vec![DOCUMENTED.to_string()];
        if let Some(kind) = &self.kind {
            parts.push(format!("kind={kind}"));
        }
        if let Some(owner) = &self.owner {
            parts.push(format!("spec.owner={owner}"));
        }
        parts.join(",")
    }

    /// `/entities/by-query` for the table (a cursor carries its own filter and order).
    pub fn entities_url(&self) -> String {
        let mut url = format!(
            "{CATALOG_API}/entities/by-query?limit={EXPLORER_PAGE_SIZE}&fields={EXPLORER_FIELDS}"
        );
        if let Some(cursor) = &self.cursor {
            url.push_str("&cursor=");
            url.push_str(&encode_component(cursor));
            return url;
        }
        url.push_str("&orderField=");
        url.push_str(&encode_component("metadata.name,asc"));
        url.push_str("&filter=");
        url.push_str(&encode_component(&self.filter()));
        if let Some(text) = &self.text {
            url.push_str("&fullTextFilterTerm=");
            url.push_str(&encode_component(text));
            url.push_str("&fullTextFilterFields=");
            url.push_str(&encode_component(TEXT_FIELDS));
        }
        url
    }

    /// The kinds and owners of all documented entities, for the drop-downs.
    pub fn facets_url() -> String {
        format!(
            "{CATALOG_API}/entity-facets?facet=kind&facet=spec.owner&filter={}",
            encode_component(DOCUMENTED)
        )
    }
}

/// Whether an entity publishes docs.
pub fn has_docs(entity: &Entity) -> bool {
    entity
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(TECHDOCS_REF))
        .and_then(|v| v.as_str())
        .is_some_and(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn page(url: &str, fragment: Option<&str>) -> Href {
        Href::Page {
            url: url.into(),
            fragment: fragment.map(str::to_string),
        }
    }

    #[test]
    fn relative_links_resolve_against_the_page_directory() {
        assert_eq!(
            resolve_href("middleware/", "../requests/#headers"),
            page("requests/", Some("headers"))
        );
        assert_eq!(resolve_href("middleware/", "./"), page("middleware/", None));
        assert_eq!(resolve_href("middleware/", "../"), page("", None));
        assert_eq!(
            resolve_href("", "guide/#setup"),
            page("guide/", Some("setup"))
        );
        assert_eq!(resolve_href("a/b/", "../c/"), page("a/c/", None));
        assert_eq!(resolve_href("a/b/", "../../../../x/"), page("x/", None));
        assert_eq!(resolve_href("a/", "../requests"), page("requests/", None));
        assert_eq!(
            resolve_href("a/", "../requests/index.html#x"),
            page("requests/", Some("x"))
        );
        assert_eq!(
            resolve_href("", "guide.md#setup"),
            page("guide/", Some("setup"))
        );
        assert_eq!(resolve_href("", "index.md"), page("", None));
        // Without a page url the fragment stays on this page.
        assert_eq!(
            resolve_href("guide/", "#setup"),
            page("guide/", Some("setup"))
        );
        assert_eq!(resolve_href("guide/", "#"), page("guide/", None));
        assert_eq!(resolve_href("guide/", ""), page("guide/", None));
        assert_eq!(
            resolve_href("guide/", "#caf%C3%A9"),
            page("guide/", Some("café"))
        );
    }

    #[test]
    fn files_resolve_from_the_site_root() {
        assert_eq!(
            resolve_href("middleware/", "img/x.png"),
            Href::File("middleware/img/x.png".into())
        );
        assert_eq!(
            resolve_href("middleware/", "../assets/a.pdf?dl=1#p2"),
            Href::File("assets/a.pdf?dl=1#p2".into())
        );
        assert_eq!(resolve_href("", "./x.svg"), Href::File("x.svg".into()));
    }

    #[test]
    fn absolute_links_stay_and_unsafe_ones_are_caught() {
        for href in [
            "https://github.com/o/r",
            "HTTP://example.com",
            "mailto:team@example.com",
            "tel:+100",
            "//cdn.example.com/x.js",
            "/catalog/default/component/x",
        ] {
            assert_eq!(
                resolve_href("a/", href),
                Href::External(href.into()),
                "{href}"
            );
        }
        for href in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "java\nscript:alert(1)",
            "data:text/html,<script>",
            "vbscript:x",
        ] {
            assert_eq!(resolve_href("a/", href), Href::Unsafe, "{href:?}");
        }
        assert!(is_safe_url("data:image/png;base64,AAA", true));
        assert!(!is_safe_url("data:image/png;base64,AAA", false));
        assert!(!is_safe_url("data:text/html,x", true));
        assert!(is_safe_url("img/x.png", true));
        assert!(!is_safe_url("a:b/c", false));
        assert_eq!(scheme_of("a/b:c"), None);
        assert_eq!(scheme_of("1x:y"), None);
    }

    #[test]
    fn page_urls_map_to_their_files() {
        assert_eq!(page_file(""), "index.html");
        assert_eq!(page_file("requests/"), "requests/index.html");
        assert_eq!(page_file("requests"), "requests/index.html");
        assert_eq!(page_file("/a/b/"), "a/b/index.html");
        assert_eq!(page_file("./index.html"), "index.html");
        assert_eq!(normalize_page_url("a/./b/../c/#x"), "a/c/");
        let target = DocsTarget::new("Default", "Component", "Star Lette");
        assert_eq!(
            target.page_static_url("requests/"),
            "/api/techdocs/static/docs/default/component/star%20lette/requests/index.html"
        );
        assert_eq!(
            target.static_url("assets/greenroom-docs.css"),
            "/api/techdocs/static/docs/default/component/star%20lette/assets/greenroom-docs.css"
        );
        assert_eq!(
            target.metadata_url(),
            "/api/techdocs/metadata/techdocs/default/component/Star%20Lette"
        );
        assert_eq!(
            target.entity_metadata_url(),
            "/api/techdocs/metadata/entity/default/component/Star%20Lette"
        );
        assert_eq!(
            target.sync_url(),
            "/api/techdocs/sync/default/component/Star%20Lette"
        );
    }

    #[test]
    fn reader_addresses_in_both_modes() {
        let target = DocsTarget::new("default", "component", "starlette");
        assert_eq!(
            target.reader_path("", None),
            "/docs/default/component/starlette/"
        );
        assert_eq!(
            target.reader_path("features/tabs/", Some("a b")),
            "/docs/default/component/starlette/features/tabs/#a%20b"
        );
        let tab = ReaderMode::Tab {
            entity_path: "/catalog/default/component/starlette".into(),
        };
        assert_eq!(
            tab.href(&target, "", None),
            "/catalog/default/component/starlette?tab=docs"
        );
        assert_eq!(
            tab.href(&target, "guide/", Some("setup")),
            "/catalog/default/component/starlette?tab=docs&page=guide/#setup"
        );
        assert!(tab.is_embedded());
        assert_eq!(
            ReaderMode::Standalone.href(&target, "guide", None),
            "/docs/default/component/starlette/guide/"
        );
    }

    #[test]
    fn search_locations_name_the_site_page_and_place() {
        let (target, page, fragment) =
            parse_docs_location("/docs/default/Component/starlette/requests/#headers").unwrap();
        assert_eq!(target, DocsTarget::new("default", "component", "starlette"));
        assert_eq!(page, "requests/");
        assert_eq!(fragment.as_deref(), Some("headers"));
        let (_, page, fragment) = parse_docs_location("/docs/default/component/starlette").unwrap();
        assert_eq!((page.as_str(), fragment), ("", None));
        assert_eq!(parse_docs_location("/catalog/default/component/x"), None);
        assert_eq!(parse_docs_location("/docs/default/component"), None);
        let request = target.search_request(" headers ", 10);
        assert_eq!(
            request.url(),
            "/api/search/query?term=headers&types%5B0%5D=techdocs&filters%5Bnamespace%5D=default\
             &filters%5Bkind%5D=component&filters%5Bname%5D=starlette&pageLimit=10"
        );
    }

    fn metadata() -> TechDocsMetadata {
        serde_json::from_value(json!({
            "site_name": "Starlette", "site_description": "The little ASGI framework",
            "build_timestamp": 1700000000000u64, "files": ["index.html"], "etag": "e1",
            "engine": "greenroom", "repo_url": null, "edit_uri": null,
            "nav": [
                {"title": "Introduction", "url": ""},
                {"title": "Features", "children": [
                    {"title": "Requests", "url": "requests/"},
                    {"title": "Deeper", "children": [{"title": "Middleware", "url": "middleware/"}]}
                ]},
                {"title": "GitHub", "url": "https://github.com/o/r", "external": true}
            ],
            "pages": [
                {"src": "index.md", "url": "", "title": "Introduction", "edit_url": null},
                {"src": "requests.md", "url": "requests/", "title": "Requests",
                 "edit_url": "https://github.com/o/r/edit/main/docs/requests.md"},
                {"src": "middleware.md", "url": "middleware/", "title": "Middleware", "edit_url": null}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn the_nav_tree_finds_the_current_page() {
        let meta = metadata();
        let nav = meta.navigation();
        assert!(nav[0].contains_page(""));
        assert!(!nav[0].contains_page("requests/"));
        assert!(nav[1].is_section());
        assert!(nav[1].contains_page("middleware/"));
        assert!(!nav[1].contains_page(""));
        assert!(
            !nav[2].contains_page(""),
            "a link out is never the current page"
        );
        assert_eq!(nav[2].page_url(), None);
        assert_eq!(
            meta.page("requests").and_then(|p| p.edit_url.as_deref()),
            Some("https://github.com/o/r/edit/main/docs/requests.md")
        );
        assert_eq!(meta.page("nowhere/"), None);
    }

    #[test]
    fn pages_have_neighbours_in_navigation_order() {
        let meta = metadata();
        let titles = |(prev, next): (Option<PageLink>, Option<PageLink>)| {
            (prev.map(|p| p.title), next.map(|n| n.title))
        };
        assert_eq!(titles(meta.neighbours("")), (None, Some("Requests".into())));
        assert_eq!(
            titles(meta.neighbours("requests/")),
            (Some("Introduction".into()), Some("Middleware".into()))
        );
        assert_eq!(
            titles(meta.neighbours("middleware/")),
            (Some("Requests".into()), None)
        );
        assert_eq!(titles(meta.neighbours("elsewhere/")), (None, None));
    }

    #[test]
    fn a_site_without_nav_lists_its_pages() {
        let meta: TechDocsMetadata = serde_json::from_value(json!({
            "site_name": "S",
            "pages": [{"src": "index.md", "url": "", "title": "Home"}, {"src": "a.md", "url": "a/", "title": "A"}]
        }))
        .unwrap();
        let nav = meta.navigation();
        assert_eq!(nav.len(), 2);
        assert!(nav[1].contains_page("a/"));
        assert_eq!(meta.site_description, None);
    }

    #[test]
    fn heading_text_drops_the_permalink() {
        assert_eq!(heading_text(" Setup guide¶ "), "Setup guide");
        assert_eq!(heading_text("Plain"), "Plain");
    }

    fn parse(query: &[(&str, &str)]) -> DocsQuery {
        let map: HashMap<String, String> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        DocsQuery::from_params(|k| map.get(k).cloned())
    }

    #[test]
    fn the_explorer_lists_documented_entities() {
        let query = parse(&[]);
        assert_eq!(query.path(), "/docs");
        assert_eq!(
            query.entities_url(),
            format!(
                "/api/catalog/entities/by-query?limit=50&fields={EXPLORER_FIELDS}\
                 &orderField=metadata.name%2Casc&filter=metadata.annotations.backstage.io%2Ftechdocs-ref"
            )
        );
        assert_eq!(
            DocsQuery::facets_url(),
            "/api/catalog/entity-facets?facet=kind&facet=spec.owner\
             &filter=metadata.annotations.backstage.io%2Ftechdocs-ref"
        );
    }

    #[test]
    fn explorer_filters_round_trip_through_the_address() {
        let query = parse(&[
            ("owner", "team-a"),
            ("kind", "Component"),
            ("q", " star "),
            ("x", "y"),
        ]);
        assert_eq!(query.path(), "/docs?kind=Component&owner=team-a&q=star");
        assert!(query.entities_url().contains(
            "&filter=metadata.annotations.backstage.io%2Ftechdocs-ref%2Ckind%3DComponent%2Cspec.owner%3Dteam-a\
             &fullTextFilterTerm=star&fullTextFilterFields=metadata.name%2Cmetadata.title"
        ));
        let paged = query.at_cursor("abc=");
        assert_eq!(
            paged.entities_url(),
            format!(
                "/api/catalog/entities/by-query?limit=50&fields={EXPLORER_FIELDS}&cursor=abc%3D"
            )
        );
        let changed = paged.with_filter("kind", "");
        assert_eq!(changed.path(), "/docs?owner=team-a&q=star");
        assert_eq!(changed.with_text("  ").path(), "/docs?owner=team-a");
        assert!(!parse(&[("kind", " ")]).is_filtered());
    }

    #[test]
    fn documented_entities_have_the_annotation() {
        let entity = |annotations: serde_json::Value| -> Entity {
            serde_json::from_value(
                json!({"kind": "Component", "metadata": {"name": "a", "annotations": annotations}}),
            )
            .unwrap()
        };
        assert!(has_docs(&entity(
            json!({"backstage.io/techdocs-ref": "dir:."})
        )));
        assert!(!has_docs(&entity(
            json!({"backstage.io/techdocs-ref": " "})
        )));
        assert!(!has_docs(&entity(json!({}))));
        assert_eq!(
            DocsTarget::of_entity(&entity(json!({}))),
            Some(DocsTarget::new("default", "component", "a"))
        );
    }
}
