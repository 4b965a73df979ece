//! Every page passes through ammonia after rendering: only an allow-list of
//! elements and attributes survives (no script, no event handlers, no `style`,
//! no iframes) and URLs keep only safe schemes, whatever the Markdown or its raw
//! HTML contained. The same pass rewrites the links inside the site (Markdown
//! links and raw HTML alike) to the relative URLs mkdocs would write, and records
//! them so the builder can check they resolve.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::links::{is_external, normalize, parent_dir, relative_url, split_fragment};

/// What a link inside the site may point to.
#[derive(Debug, Default)]
pub struct SiteMap {
    /// Page source (`a/b.md`) → page URL (`a/b/`).
    pub pages: HashMap<String, String>,
    /// Page URLs, for links written in URL form (`../b/`).
    pub urls: HashSet<String>,
    /// Other published files (`img/a.png`), relative to the site root.
    pub files: HashSet<String>,
}

/// A link found on a page, after resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    /// To a page (its URL) and maybe one of its anchors.
    Page {
        url: String,
        fragment: Option<String>,
    },
    /// To a published file.
    File,
    /// Written as a path inside the site, but nothing is there.
    Broken { href: String },
}

pub struct Sanitized {
    pub html: String,
    pub links: Vec<Link>,
}

pub fn sanitize(html: &str, site: &Arc<SiteMap>, page_src: &str, page_url: &str) -> Sanitized {
    let found: Arc<Mutex<Vec<Link>>> = Arc::default();
    let resolver = Resolver {
        site: Arc::clone(site),
        src: page_src.to_string(),
        url: page_url.to_string(),
    };
    let recorder = Arc::clone(&found);
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags(["input", "label", "section"])
        .add_generic_attributes(["id", "class", "align"])
        .add_tag_attributes("a", ["title"])
        .add_tag_attributes("input", ["type", "checked", "disabled", "name"])
        .add_tag_attributes("label", ["for"])
        .add_tag_attributes("details", ["open"])
        .add_tag_attributes("img", ["title"])
        .attribute_filter(
            move |element, attribute, value| match (element, attribute) {
                ("a", "href") | ("img", "src") => {
                    let (href, link) = resolver.resolve(value);
                    if let Some(link) = link {
                        recorder.lock().expect("link list").push(link);
                    }
                    Some(href)
                }
                // Task lists and content tabs need check boxes and radio buttons; no
                // other control belongs on a docs page.
                ("input", "type") => {
                    matches!(value, "checkbox" | "radio").then_some(Cow::Borrowed(value))
                }
                _ => Some(Cow::Borrowed(value)),
            },
        );
    let html = builder.clean(html).to_string();
    drop(builder);
    let links = std::mem::take(&mut *found.lock().expect("link list"));
    Sanitized { html, links }
}

struct Resolver {
    site: Arc<SiteMap>,
    src: String,
    url: String,
}

impl Resolver {
    fn resolve<'v>(&self, href: &'v str) -> (Cow<'v, str>, Option<Link>) {
        if href.is_empty() || is_external(href) {
            return (Cow::Borrowed(href), None);
        }
        let (path, fragment) = split_fragment(href);
        let with_fragment = |target: String| match fragment {
            Some(f) => format!("{target}#{f}"),
            None => target,
        };
        if path.is_empty() {
            let link = Link::Page {
                url: self.url.clone(),
                fragment: fragment.map(str::to_string),
            };
            return (Cow::Borrowed(href), Some(link));
        }
        let decoded = percent_decode(path);
        // Markdown links are relative to the source file; links in URL form (as
        // mkdocs users sometimes write them) are relative to the page's URL.
        if let Some(target) = normalize(parent_dir(&self.src), &decoded) {
            let page = self.site.pages.get(&target).or_else(|| {
                let dir = if target.is_empty() || target.ends_with('/') {
                    target.clone()
                } else {
                    format!("{target}/")
                };
                self.site
                    .pages
                    .get(&format!("{dir}index.md"))
                    .or_else(|| self.site.pages.get(&format!("{dir}README.md")))
            });
            if let Some(url) = page {
                let link = Link::Page {
                    url: url.clone(),
                    fragment: fragment.map(str::to_string),
                };
                return (
                    Cow::Owned(with_fragment(relative_url(&self.url, url))),
                    Some(link),
                );
            }
            if self.site.files.contains(&target) {
                return (
                    Cow::Owned(with_fragment(relative_url(&self.url, &target))),
                    Some(Link::File),
                );
            }
        }
        if let Some(target) = normalize(parent_dir(&self.url), &decoded) {
            if self.site.urls.contains(&target) {
                let link = Link::Page {
                    url: target,
                    fragment: fragment.map(str::to_string),
                };
                return (Cow::Borrowed(href), Some(link));
            }
        }
        (
            Cow::Borrowed(href),
            Some(Link::Broken {
                href: href.to_string(),
            }),
        )
    }
}

fn percent_decode(path: &str) -> Cow<'_, str> {
    if !path.contains('%') {
        return Cow::Borrowed(path);
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Arc<SiteMap> {
        let mut map = SiteMap::default();
        for (src, url) in [
            ("index.md", ""),
            ("guide.md", "guide/"),
            ("a/b.md", "a/b/"),
            ("a/index.md", "a/"),
        ] {
            map.pages.insert(src.into(), url.into());
            map.urls.insert(url.into());
        }
        map.files.insert("img/x.png".into());
        Arc::new(map)
    }

    fn clean(html: &str) -> Sanitized {
        sanitize(html, &site(), "a/b.md", "a/b/")
    }

    #[test]
    fn links_inside_the_site_are_rewritten_and_recorded() {
        let out = clean(
            r##"<a href="../guide.md#setup">g</a><a href="index.md">a</a><img src="../img/x.png"><img src="/img/x.png#only-dark"><a href="../../guide/">u</a><a href="#top">t</a>"##,
        );
        assert!(
            out.html.contains(r#"href="../../guide/#setup""#),
            "{}",
            out.html
        );
        assert!(out.html.contains(r#"href="../""#), "{}", out.html);
        assert!(
            out.html.contains(r#"src="../../img/x.png""#),
            "{}",
            out.html
        );
        assert!(
            out.html.contains(r#"src="../../img/x.png#only-dark""#),
            "{}",
            out.html
        );
        assert!(out.html.contains(r#"href="../../guide/""#), "{}", out.html);
        assert_eq!(
            out.links[0],
            Link::Page {
                url: "guide/".into(),
                fragment: Some("setup".into())
            }
        );
        assert_eq!(
            out.links[1],
            Link::Page {
                url: "a/".into(),
                fragment: None
            }
        );
        assert_eq!(out.links[2], Link::File);
        assert_eq!(
            out.links[4],
            Link::Page {
                url: "guide/".into(),
                fragment: None
            }
        );
        assert_eq!(
            out.links[5],
            Link::Page {
                url: "a/b/".into(),
                fragment: Some("top".into())
            }
        );
    }

    #[test]
    fn broken_links_are_kept_as_written_and_reported() {
        let out = clean(
            r#"<a href="missing.md">m</a><a href="../../../etc/passwd">p</a><a href="https://x.dev">x</a>"#,
        );
        assert!(out.html.contains(r#"href="missing.md""#));
        assert_eq!(
            out.links,
            vec![
                Link::Broken {
                    href: "missing.md".into()
                },
                Link::Broken {
                    href: "../../../etc/passwd".into()
                }
            ]
        );
    }

    #[test]
    fn hostile_html_is_neutralised() {
        let out = clean(
            r#"<script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">j</a><iframe src="https://evil.example"></iframe><p style="x" onclick="y">p</p><input type="text" autofocus onfocus="z"><svg onload="w"></svg><a href="JaVaScRiPt:alert(4)">k</a><a href="data:text/html,x">d</a>"#,
        );
        let html = out.html.to_ascii_lowercase();
        for bad in [
            "<script",
            "alert(1)",
            "onerror",
            "javascript:",
            "<iframe",
            "style=",
            "onclick",
            "onfocus",
            "type=\"text\"",
            "<svg",
            "onload",
            "data:text",
        ] {
            assert!(!html.contains(bad), "{bad} survived: {}", out.html);
        }
        assert!(out.html.contains("<p>p</p>"), "{}", out.html);
    }

    #[test]
    fn what_docs_need_survives() {
        let html = r#"<h2 id="x" class="c">T</h2><details class="note" open><summary>S</summary></details><input id="t1" name="t" type="radio" checked><label for="t1">L</label><input type="checkbox" disabled checked><span class="hl-keyword">def</span><table><tr><td align="right">1</td></tr></table>"#;
        let out = clean(html);
        for part in [
            r#"id="x""#,
            r#"class="c""#,
            "<details class=\"note\" open",
            "<summary>",
            r#"type="radio""#,
            r#"for="t1""#,
            r#"type="checkbox""#,
            "hl-keyword",
            r#"align="right""#,
        ] {
            assert!(out.html.contains(part), "{part} lost: {}", out.html);
        }
    }

    #[test]
    fn percent_escapes_decode_for_lookup() {
        assert_eq!(percent_decode("a%20b.md"), "a b.md");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
