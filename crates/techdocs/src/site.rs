//! A whole site: read `mkdocs.yml` and the docs folder, render every page, check
//! the links between them, and lay the result out the way mkdocs does
//! (`guide.md` → `guide/index.html`) with `techdocs_metadata.json` and the lunr
//! style `search/search_index.json` at the root.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, OnceLock};

use regex::Regex;
use serde::Serialize;
use serde_json::{json, Value};

use crate::config::{MkdocsConfig, NavEntry};
use crate::links::{page_url, relative_url, url_file};
use crate::markdown::{escape, render_fragment, slugify, PageContext};
use crate::sanitize::{sanitize, Link, SiteMap};
use crate::text::{self, Section};
use crate::{blocks, highlight, DocsError};

pub const METADATA_FILE: &str = "techdocs_metadata.json";
pub const SEARCH_INDEX_FILE: &str = "search/search_index.json";
pub const STYLESHEET_FILE: &str = "assets/greenroom-docs.css";
const STYLESHEET: &str = include_str!("greenroom-docs.css");

#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// `site_name` when the folder has no `mkdocs.yml` (Backstage uses the entity's title).
    pub fallback_site_name: String,
    /// The source's version (commit or content hash), recorded in the metadata.
    pub etag: Option<String>,
    pub build_timestamp_ms: i64,
    /// Larger Markdown files are refused: no documentation page is that long,
    /// and rendering one would hold a build (and memory) for nothing.
    pub max_page_bytes: usize,
    /// Larger sites are refused, counting every file that would be published.
    pub max_site_bytes: u64,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            fallback_site_name: "Documentation Site".into(),
            etag: None,
            build_timestamp_ms: 0,
            max_page_bytes: 2 * 1024 * 1024,
            max_site_bytes: 512 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BuiltPage {
    pub src: String,
    pub url: String,
    pub title: String,
    pub edit_url: Option<String>,
    /// The whole page as text, headings included.
    pub text: String,
    pub sections: Vec<Section>,
}

#[derive(Debug)]
pub struct BuiltSite {
    pub config: MkdocsConfig,
    /// Every published file by its path relative to the site root.
    pub files: BTreeMap<String, Vec<u8>>,
    pub pages: Vec<BuiltPage>,
    /// Problems that do not stop a build (mkdocs' warnings): unresolved links,
    /// nav entries without a page.
    pub warnings: Vec<String>,
    pub metadata: Value,
}

impl BuiltSite {
    /// Writes the site under `out` (created when missing).
    pub fn write_to(&self, out: &Path) -> Result<(), DocsError> {
        for (path, bytes) in &self.files {
            let target = out.join(path);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(|e| DocsError::io(parent, e))?;
            }
            fs::write(&target, bytes).map_err(|e| DocsError::io(&target, e))?;
        }
        Ok(())
    }
}

struct SourcePage {
    src: String,
    url: String,
    markdown: String,
}

/// Builds the mkdocs project in `root` (the folder holding `mkdocs.yml`).
pub fn build_site(root: &Path, options: &BuildOptions) -> Result<BuiltSite, DocsError> {
    let config = read_config(root, options)?;
    let docs_dir = docs_dir(root, &config).map_err(|e| match e {
        DocsError::NoDocsDir(_) if !has_config(root) => {
            DocsError::NoProject(root.display().to_string())
        }
        other => other,
    })?;
    let theme_dir = config
        .theme_dir
        .as_deref()
        .and_then(|d| fs::canonicalize(root.join(d)).ok());
    let mut sources = Vec::new();
    let mut statics = Vec::new();
    collect(
        &docs_dir,
        &docs_dir,
        theme_dir.as_deref(),
        &mut sources,
        &mut statics,
    )?;
    sources.sort();
    statics.sort();

    let mut total: u64 = 0;
    let mut pages = Vec::new();
    let srcs: HashSet<&String> = sources.iter().collect();
    for src in &sources {
        let is_readme = src == "README.md" || src.ends_with("/README.md");
        if is_readme
            && srcs.contains(&format!(
                "{}index.md",
                &src[..src.len() - "README.md".len()]
            ))
        {
            continue;
        }
        let path = docs_dir.join(src);
        let size = fs::metadata(&path)
            .map_err(|e| DocsError::io(&path, e))?
            .len();
        if size > options.max_page_bytes as u64 {
            return Err(DocsError::PageTooLarge {
                page: src.clone(),
                bytes: size,
                limit: options.max_page_bytes,
            });
        }
        total += size;
        let bytes = fs::read(&path).map_err(|e| DocsError::io(&path, e))?;
        let markdown =
            String::from_utf8(bytes).map_err(|_| DocsError::NotUtf8 { page: src.clone() })?;
        pages.push(SourcePage {
            url: page_url(src, config.use_directory_urls),
            src: src.clone(),
            markdown,
        });
    }
    for src in &statics {
        total += fs::metadata(docs_dir.join(src))
            .map(|m| m.len())
            .unwrap_or(0);
    }
    if total > options.max_site_bytes {
        return Err(DocsError::SiteTooLarge {
            bytes: total,
            limit: options.max_site_bytes,
        });
    }

    let mut site_map = SiteMap::default();
    for page in &pages {
        site_map.pages.insert(page.src.clone(), page.url.clone());
        site_map.urls.insert(page.url.clone());
    }
    site_map.files = statics.iter().cloned().collect();
    site_map.files.insert(STYLESHEET_FILE.to_string());
    let site_map = Arc::new(site_map);

    let nav_titles = nav_titles(config.nav.as_deref().unwrap_or_default());
    let rendered = render_all(&pages, &site_map, &nav_titles);

    let mut warnings = Vec::new();
    let ids_by_url: HashMap<&str, HashSet<&str>> = rendered
        .iter()
        .map(|r| (r.url.as_str(), r.ids.iter().map(String::as_str).collect()))
        .collect();
    for page in &rendered {
        for link in &page.links {
            match link {
                Link::Broken { href } => warnings.push(format!(
                    "{}: the link '{href}' points to nothing in the docs",
                    page.src
                )),
                Link::Page {
                    url,
                    fragment: Some(fragment),
                } => {
                    let known = ids_by_url
                        .get(url.as_str())
                        .is_some_and(|ids| ids.contains(fragment.as_str()));
                    if !known {
                        let target = if url.is_empty() {
                            "the index page"
                        } else {
                            url.as_str()
                        };
                        warnings.push(format!(
                            "{}: the anchor '#{fragment}' is not on {target}",
                            page.src
                        ));
                    }
                }
                _ => {}
            }
        }
    }

    let nav = match &config.nav {
        Some(entries) => resolve_nav(entries, &site_map, &rendered, &mut warnings),
        None => nav_from_files(&rendered),
    };

    let mut files = BTreeMap::new();
    let mut built_pages = Vec::with_capacity(rendered.len());
    for page in rendered {
        let edit_url = config.edit_url(&page.src);
        let html = page_document(&config, &nav, &page, edit_url.as_deref());
        files.insert(url_file(&page.url), html.into_bytes());
        built_pages.push(BuiltPage {
            src: page.src,
            url: page.url,
            title: page.title,
            edit_url,
            text: page.text,
            sections: page.sections,
        });
    }
    for src in &statics {
        let path = docs_dir.join(src);
        files.insert(
            src.clone(),
            fs::read(&path).map_err(|e| DocsError::io(&path, e))?,
        );
    }
    files.insert(STYLESHEET_FILE.to_string(), STYLESHEET.as_bytes().to_vec());
    files.insert(
        SEARCH_INDEX_FILE.to_string(),
        serde_json::to_vec(&search_index(&built_pages)).expect("json"),
    );

    let mut listed: Vec<String> = files.keys().cloned().collect();
    listed.push(METADATA_FILE.to_string());
    listed.sort();
    let metadata = json!({
        "site_name": config.site_name,
        "site_description": config.site_description,
        "build_timestamp": options.build_timestamp_ms,
        "files": listed,
        "etag": options.etag,
        "engine": "greenroom",
        "repo_url": config.repo_url,
        "edit_uri": config.edit_uri,
        "nav": nav,
        "pages": built_pages.iter().map(|p| json!({
            "src": p.src, "url": p.url, "title": p.title, "edit_url": p.edit_url,
        })).collect::<Vec<_>>(),
    });
    files.insert(
        METADATA_FILE.to_string(),
        serde_json::to_vec_pretty(&metadata).expect("json"),
    );
    Ok(BuiltSite {
        config,
        files,
        pages: built_pages,
        warnings,
        metadata,
    })
}

fn has_config(root: &Path) -> bool {
    root.join("mkdocs.yml").is_file() || root.join("mkdocs.yaml").is_file()
}

fn read_config(root: &Path, options: &BuildOptions) -> Result<MkdocsConfig, DocsError> {
    for name in ["mkdocs.yml", "mkdocs.yaml"] {
        let path = root.join(name);
        if path.is_file() {
            let text = fs::read_to_string(&path).map_err(|e| DocsError::io(&path, e))?;
            return MkdocsConfig::parse(&text).map_err(|e| match e {
                DocsError::Config(message) => DocsError::Config(format!("{name}: {message}")),
                other => other,
            });
        }
    }
    if !root.is_dir() {
        return Err(DocsError::NotFound(root.display().to_string()));
    }
    Ok(MkdocsConfig::generated(&options.fallback_site_name))
}

/// `docs_dir` must stay inside the project, through symbolic links too.
fn docs_dir(root: &Path, config: &MkdocsConfig) -> Result<PathBuf, DocsError> {
    let relative = Path::new(&config.docs_dir);
    let escapes = relative.is_absolute()
        || relative.components().any(|c| {
            matches!(
                c,
                Component::ParentDir | Component::RootDir | Component::Prefix(_)
            )
        });
    if escapes {
        return Err(DocsError::Config(format!(
            "docs_dir '{}' must be a folder inside the project",
            config.docs_dir
        )));
    }
    let dir = root.join(relative);
    let canonical =
        fs::canonicalize(&dir).map_err(|_| DocsError::NoDocsDir(config.docs_dir.clone()))?;
    let root = fs::canonicalize(root).map_err(|e| DocsError::io(root, e))?;
    if !canonical.starts_with(&root) || !canonical.is_dir() {
        return Err(DocsError::Config(format!(
            "docs_dir '{}' must be a folder inside the project",
            config.docs_dir
        )));
    }
    Ok(canonical)
}

/// Markdown pages and other files under the docs folder, as `/`-separated paths.
/// Hidden files, the theme's override folder and links that leave the docs
/// folder are skipped: a repository must not publish files from elsewhere.
fn collect(
    root: &Path,
    dir: &Path,
    theme_dir: Option<&Path>,
    pages: &mut Vec<String>,
    statics: &mut Vec<String>,
) -> Result<(), DocsError> {
    let entries = fs::read_dir(dir).map_err(|e| DocsError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| DocsError::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let Ok(real) = fs::canonicalize(&path) else {
            continue;
        };
        if !real.starts_with(root) || theme_dir.is_some_and(|t| real.starts_with(t)) {
            continue;
        }
        if real.is_dir() {
            collect(root, &path, theme_dir, pages, statics)?;
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .map(|p| {
                p.components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default();
        if name.ends_with(".md") || name.ends_with(".markdown") {
            pages.push(relative);
        } else {
            statics.push(relative);
        }
    }
    Ok(())
}

struct RenderedPage {
    src: String,
    url: String,
    title: String,
    html: String,
    toc: Vec<Section>,
    sections: Vec<Section>,
    text: String,
    ids: Vec<String>,
    links: Vec<Link>,
}

fn render_all(
    pages: &[SourcePage],
    site: &Arc<SiteMap>,
    nav_titles: &HashMap<String, String>,
) -> Vec<RenderedPage> {
    highlight::warm_up();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    if threads == 1 || pages.len() < 4 {
        return pages
            .iter()
            .map(|p| render_page(p, site, nav_titles))
            .collect();
    }
    // Pages are independent; deal them out round-robin so long pages spread.
    let mut out: Vec<Option<RenderedPage>> = (0..pages.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    pages
                        .iter()
                        .enumerate()
                        .skip(t)
                        .step_by(threads)
                        .map(|(i, p)| (i, render_page(p, site, nav_titles)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            for (i, page) in handle.join().expect("page rendering thread") {
                out[i] = Some(page);
            }
        }
    });
    out.into_iter()
        .map(|p| p.expect("every page rendered"))
        .collect()
}

fn render_page(
    page: &SourcePage,
    site: &Arc<SiteMap>,
    nav_titles: &HashMap<String, String>,
) -> RenderedPage {
    let (front_title, markdown) = front_matter(&page.markdown);
    let mut ctx = PageContext::new(markdown);
    let raw = render_fragment(markdown, &mut ctx, 0);
    let clean = sanitize(&raw, site, &page.src, &page.url);
    let mut html = ctx.fill_code_slots(clean.html);
    let mut sections = text::sections(&html);
    let first_h1 = sections
        .iter()
        .find(|s| s.level == 1)
        .map(|s| s.title.clone());
    let title = front_title
        .or_else(|| nav_titles.get(&page.src).cloned())
        .or(first_h1.clone())
        .unwrap_or_else(|| title_from_file(&page.src));
    if first_h1.is_none() {
        // mkdocs-material shows the page title as a heading when the page has none.
        let id = if ctx_has_id(&html, &slugify(&title)) {
            format!("{}_1", slugify(&title))
        } else {
            slugify(&title)
        };
        html = format!(
            "<h1 id=\"{id}\">{}</h1>\n{html}",
            escape(&title),
            id = escape(&id)
        );
        sections.insert(
            0,
            Section {
                level: 1,
                id,
                title: title.clone(),
                text: String::new(),
            },
        );
    }
    let toc: Vec<Section> = sections
        .iter()
        .filter(|s| (2..=3).contains(&s.level))
        .cloned()
        .collect();
    if html.contains(blocks::TOC_MARKER) {
        html = html.replace(blocks::TOC_MARKER, &toc_html(&toc));
    }
    let ids = text::ids(&html);
    let text = text::to_text(&html);
    RenderedPage {
        src: page.src.clone(),
        url: page.url.clone(),
        title,
        html,
        toc,
        sections,
        text,
        ids,
        links: clean.links,
    }
}

fn ctx_has_id(html: &str, id: &str) -> bool {
    html.contains(&format!("id=\"{id}\""))
}

/// A leading YAML block (`---` ... `---`) holds page metadata, not content; its
/// `title` names the page.
fn front_matter(markdown: &str) -> (Option<String>, &str) {
    static TITLE: OnceLock<Regex> = OnceLock::new();
    let Some(rest) = markdown
        .strip_prefix("---\n")
        .or_else(|| markdown.strip_prefix("---\r\n"))
    else {
        return (None, markdown);
    };
    let Some(end) = rest
        .find("\n---")
        .filter(|e| rest[e + 4..].starts_with(['\n', '\r']) || rest.len() == e + 4)
    else {
        return (None, markdown);
    };
    let block = &rest[..end];
    let title_re = TITLE
        .get_or_init(|| Regex::new(r#"(?m)^title:\s*["']?(.*?)["']?\s*$"#).expect("valid regex"));
    let title = title_re
        .captures(block)
        .map(|c| c[1].to_string())
        .filter(|t| !t.is_empty());
    let body_start = (end + 4).min(rest.len());
    (title, rest[body_start..].trim_start_matches(['\r', '\n']))
}

/// mkdocs' title for a page without a heading: the file name, dashes and
/// underscores as spaces, first letter capitalised; `index` takes its folder's name.
fn title_from_file(src: &str) -> String {
    let stem = src.rsplit('/').next().unwrap_or(src);
    let stem = stem
        .strip_suffix(".md")
        .or_else(|| stem.strip_suffix(".markdown"))
        .unwrap_or(stem);
    let stem = if stem.eq_ignore_ascii_case("index") || stem.eq_ignore_ascii_case("readme") {
        src.rsplit('/').nth(1).unwrap_or("Home")
    } else {
        stem
    };
    let words = stem.replace(['-', '_'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Home".into(),
    }
}

fn nav_titles(entries: &[NavEntry]) -> HashMap<String, String> {
    let mut titles = HashMap::new();
    fn walk(entries: &[NavEntry], titles: &mut HashMap<String, String>) {
        for entry in entries {
            match entry {
                NavEntry::Page {
                    title: Some(title),
                    src,
                } => {
                    titles.insert(src.clone(), title.clone());
                }
                NavEntry::Section { children, .. } => walk(children, titles),
                _ => {}
            }
        }
    }
    walk(entries, &mut titles);
    titles
}

fn resolve_nav(
    entries: &[NavEntry],
    site: &SiteMap,
    pages: &[RenderedPage],
    warnings: &mut Vec<String>,
) -> Vec<Value> {
    entries
        .iter()
        .filter_map(|entry| match entry {
            NavEntry::Page { title, src } => match site.pages.get(src) {
                Some(url) => {
                    let title = title.clone().or_else(|| pages.iter().find(|p| &p.src == src).map(|p| p.title.clone()));
                    Some(json!({"title": title.unwrap_or_else(|| title_from_file(src)), "url": url}))
                }
                None => {
                    warnings.push(format!("mkdocs.yml: the nav entry '{src}' names a page that is not in the docs"));
                    None
                }
            },
            NavEntry::Link { title, url } => Some(json!({"title": title, "url": url, "external": true})),
            NavEntry::Section { title, children } => {
                Some(json!({"title": title, "children": resolve_nav(children, site, pages, warnings)}))
            }
        })
        .collect()
}

/// Without `nav`, mkdocs lists the files: the index first, then pages and
/// folders (as sections) in alphabetical order.
fn nav_from_files(pages: &[RenderedPage]) -> Vec<Value> {
    fn level(pages: &[&RenderedPage], prefix: &str) -> Vec<Value> {
        let mut items: Vec<(String, Value)> = Vec::new();
        let mut folders: BTreeMap<String, Vec<&RenderedPage>> = BTreeMap::new();
        for page in pages {
            let rest = &page.src[prefix.len()..];
            match rest.find('/') {
                Some(i) => folders.entry(rest[..i].to_string()).or_default().push(page),
                None => {
                    let is_index = page.url == prefix || page.url == format!("{prefix}index.html");
                    let key = if is_index {
                        String::new()
                    } else {
                        rest.to_lowercase()
                    };
                    items.push((key, json!({"title": page.title, "url": page.url})));
                }
            }
        }
        for (folder, inner) in folders {
            let title = title_from_file(&format!("{folder}.md"));
            items.push((
                folder.to_lowercase(),
                json!({"title": title, "children": level(&inner, &format!("{prefix}{folder}/"))}),
            ));
        }
        items.sort_by(|a, b| a.0.cmp(&b.0));
        items.into_iter().map(|(_, v)| v).collect()
    }
    let all: Vec<&RenderedPage> = pages.iter().collect();
    level(&all, "")
}

fn toc_html(toc: &[Section]) -> String {
    if toc.is_empty() {
        return String::new();
    }
    let mut html = String::from("<div class=\"toc\"><ul>");
    for entry in toc {
        html.push_str(&format!(
            "<li class=\"toc-h{}\"><a href=\"#{}\">{}</a></li>",
            entry.level,
            escape(&entry.id),
            escape(&entry.title)
        ));
    }
    html.push_str("</ul></div>");
    html
}

fn nav_html(items: &[Value], current: &str, out: &mut String) {
    out.push_str("<ul>");
    for item in items {
        let title = escape(item["title"].as_str().unwrap_or_default());
        if let Some(children) = item["children"].as_array() {
            out.push_str(&format!(
                "<li class=\"md-nav__section\"><span>{title}</span>"
            ));
            nav_html(children, current, out);
            out.push_str("</li>");
        } else if let Some(url) = item["url"].as_str() {
            let href = if item["external"].as_bool() == Some(true) {
                url.to_string()
            } else {
                relative_url(current, url)
            };
            let active = if url == current {
                " aria-current=\"page\""
            } else {
                ""
            };
            out.push_str(&format!(
                "<li><a href=\"{}\"{active}>{title}</a></li>",
                escape(&href)
            ));
        }
    }
    out.push_str("</ul>");
}

/// The published page: a standalone document (readable from the output folder
/// or any static host) whose `#gr-docs-content` article the portal's reader shows.
fn page_document(
    config: &MkdocsConfig,
    nav: &[Value],
    page: &RenderedPage,
    edit_url: Option<&str>,
) -> String {
    let root = relative_url(&page.url, "");
    let root = if root == "./" { String::new() } else { root };
    let mut nav_block = String::new();
    nav_html(nav, &page.url, &mut nav_block);
    let mut css = format!("<link rel=\"stylesheet\" href=\"{root}{STYLESHEET_FILE}\">");
    for extra in &config.extra_css {
        if !crate::links::is_external(extra) {
            css.push_str(&format!(
                "<link rel=\"stylesheet\" href=\"{root}{}\">",
                escape(extra)
            ));
        }
    }
    let edit = edit_url
        .map(|u| {
            format!(
                "<a class=\"md-edit\" href=\"{}\" rel=\"noopener\">Edit this page</a>",
                escape(u)
            )
        })
        .unwrap_or_default();
    let description = config
        .site_description
        .as_deref()
        .map(|d| format!("<meta name=\"description\" content=\"{}\">", escape(d)))
        .unwrap_or_default();
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} - {site}</title>\n{description}\n{css}\n</head>\n<body>\n\
         <header class=\"md-header\"><a href=\"{home}\">{site}</a></header>\n<div class=\"md-container\">\n\
         <nav class=\"md-nav\" aria-label=\"Site\">{nav_block}</nav>\n<main>\n\
         <article class=\"md-content\" id=\"gr-docs-content\">\n{content}\n</article>\n{edit}\n</main>\n\
         <nav class=\"md-toc\" aria-label=\"On this page\">{toc}</nav>\n</div>\n</body>\n</html>\n",
        title = escape(&page.title),
        site = escape(&config.site_name),
        home = if root.is_empty() { "./".to_string() } else { root.clone() },
        content = page.html,
        toc = toc_html(&page.toc),
    )
}

/// mkdocs' search index: one entry per page and one per section, so a hit can
/// land on the heading.
fn search_index(pages: &[BuiltPage]) -> Value {
    let mut docs = Vec::new();
    for page in pages {
        docs.push(json!({"location": page.url, "title": page.title, "text": page.text}));
        for section in &page.sections {
            docs.push(json!({
                "location": format!("{}#{}", page.url, section.id),
                "title": section.title,
                "text": section.text,
            }));
        }
    }
    json!({"config": {"lang": ["en"], "separator": "[\\s\\-]+", "pipeline": ["stopWordFilter"]}, "docs": docs})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_names_the_page_and_is_not_content() {
        assert_eq!(
            front_matter("---\ntitle: \"Hello\"\ntags: [a]\n---\n# Body\n"),
            (Some("Hello".into()), "# Body\n")
        );
        assert_eq!(
            front_matter("# No front matter\n"),
            (None, "# No front matter\n")
        );
        assert_eq!(
            front_matter("---\nnot closed\n"),
            (None, "---\nnot closed\n")
        );
    }

    #[test]
    fn titles_come_from_file_names() {
        assert_eq!(title_from_file("release-notes.md"), "Release notes");
        assert_eq!(
            title_from_file("getting_started/index.md"),
            "Getting started"
        );
        assert_eq!(title_from_file("index.md"), "Home");
    }
}
