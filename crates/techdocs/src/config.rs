//! `mkdocs.yml`: the keys a site's content depends on. Everything else (themes,
//! plugins, Python-only tags such as `!!python/name:`) is tolerated and ignored,
//! because the same file also drives mkdocs and mkdocs-material.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use crate::DocsError;

#[derive(Debug, Clone, PartialEq)]
pub struct MkdocsConfig {
    pub site_name: String,
    pub site_description: Option<String>,
    pub docs_dir: String,
    pub nav: Option<Vec<NavEntry>>,
    pub repo_url: Option<String>,
    pub edit_uri: Option<String>,
    pub use_directory_urls: bool,
    pub extra_css: Vec<String>,
    /// `theme.custom_dir`: theme overrides (Jinja templates), never published as content.
    pub theme_dir: Option<String>,
}

/// One entry of `nav`, as written: a page (`guide.md` or `Title: guide.md`), a
/// link (`Title: https://...`) or a section (`Title: [entries]`).
#[derive(Debug, Clone, PartialEq)]
pub enum NavEntry {
    Page {
        title: Option<String>,
        src: String,
    },
    Link {
        title: String,
        url: String,
    },
    Section {
        title: String,
        children: Vec<NavEntry>,
    },
}

impl MkdocsConfig {
    /// The configuration Backstage generates for a docs folder without `mkdocs.yml`.
    pub fn generated(site_name: &str) -> Self {
        MkdocsConfig {
            site_name: site_name.to_string(),
            site_description: None,
            docs_dir: "docs".to_string(),
            nav: None,
            repo_url: None,
            edit_uri: None,
            use_directory_urls: true,
            extra_css: Vec::new(),
            theme_dir: None,
        }
    }

    pub fn parse(text: &str) -> Result<Self, DocsError> {
        let value: Value = serde_saphyr::from_str(&neutralize_tags(text))
            .map_err(|e| DocsError::Config(first_line(&e.to_string())))?;
        let Value::Object(map) = value else {
            return Err(DocsError::Config(
                "the file is not a mapping of keys".into(),
            ));
        };
        let text_of = |key: &str| -> Result<Option<String>, DocsError> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(_) => Err(DocsError::Config(format!("`{key}` must be a string"))),
            }
        };
        let site_name = text_of("site_name")?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| DocsError::Config("`site_name` is required".into()))?;
        let docs_dir = text_of("docs_dir")?.unwrap_or_else(|| "docs".into());
        let nav = match map.get("nav") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(parse_nav(items, "nav")?),
            Some(_) => return Err(DocsError::Config("`nav` must be a list".into())),
        };
        let use_directory_urls = match map.get("use_directory_urls") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(DocsError::Config(
                    "`use_directory_urls` must be true or false".into(),
                ))
            }
        };
        let extra_css = match map.get("extra_css") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        let theme_dir = map
            .get("theme")
            .and_then(|t| t.get("custom_dir"))
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(MkdocsConfig {
            site_name,
            site_description: text_of("site_description")?,
            docs_dir,
            nav,
            repo_url: text_of("repo_url")?,
            edit_uri: text_of("edit_uri")?,
            use_directory_urls,
            extra_css,
            theme_dir,
        })
    }

    /// The "edit this page" URL of `src`, as mkdocs builds it: `repo_url` +
    /// `edit_uri` + the page's path; GitHub and GitLab get a default `edit_uri`.
    pub fn edit_url(&self, src: &str) -> Option<String> {
        let repo = self.repo_url.as_deref()?.trim_end_matches('/');
        let edit_uri = match self.edit_uri.as_deref() {
            Some("") => return None,
            Some(uri) => uri.to_string(),
            None if repo.contains("github.com") => "edit/master/docs/".into(),
            None if repo.contains("gitlab") => "-/edit/master/docs/".into(),
            None => return None,
        };
        let base = if crate::links::is_external(&edit_uri) {
            edit_uri
        } else {
            format!("{repo}/{}", edit_uri.trim_start_matches('/'))
        };
        let sep = if base.ends_with('/') || base.ends_with('=') || base.ends_with('#') {
            ""
        } else {
            "/"
        };
        Some(format!("{base}{sep}{src}"))
    }
}

fn parse_nav(items: &[Value], path: &str) -> Result<Vec<NavEntry>, DocsError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let here = format!("{path}[{i}]");
            match item {
                Value::String(src) => Ok(nav_target(None, src)),
                Value::Object(map) if map.len() == 1 => {
                    let (title, target) = map.iter().next().expect("one key");
                    match target {
                        Value::String(src) => Ok(nav_target(Some(title.clone()), src)),
                        Value::Array(children) => Ok(NavEntry::Section {
                            title: title.clone(),
                            children: parse_nav(children, &here)?,
                        }),
                        _ => Err(DocsError::Config(format!(
                            "`{here}`: `{title}` must name a page, a link or a list of entries"
                        ))),
                    }
                }
                _ => Err(DocsError::Config(format!(
                    "`{here}` must be a page path or a single `Title: target` pair"
                ))),
            }
        })
        .collect()
}

fn nav_target(title: Option<String>, target: &str) -> NavEntry {
    if crate::links::is_external(target) {
        NavEntry::Link {
            title: title.unwrap_or_else(|| target.to_string()),
            url: target.to_string(),
        }
    } else {
        NavEntry::Page {
            title,
            src: target.trim_start_matches("./").to_string(),
        }
    }
}

/// mkdocs files carry Python-specific YAML tags (`!!python/name:pkg.fn`,
/// `!!python/object/apply:...`) and mkdocs' `!ENV`. Only mkdocs can resolve them,
/// and none of them affects the content, so they become plain strings.
fn neutralize_tags(text: &str) -> String {
    static TAG: OnceLock<Regex> = OnceLock::new();
    let tag = TAG.get_or_init(|| {
        Regex::new(r#"!!python/[^\s,\[\]{}]+|!(?:ENV|relative)\b"#).expect("valid regex")
    });
    tag.replace_all(text, |caps: &regex::Captures| {
        let found = &caps[0];
        if found.starts_with("!!python") {
            format!("'{}'", found.replace('\'', "''"))
        } else {
            String::new()
        }
    })
    .into_owned()
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starlette_style_config_is_tolerated() {
        let config = MkdocsConfig::parse(
            r#"
site_name: Starlette
site_description: The little ASGI library that shines.
repo_url: https://github.com/Kludex/starlette
edit_uri: edit/main/docs/
strict: true
theme:
  name: "material"
  custom_dir: docs/overrides
nav:
  - Introduction: "index.md"
  - Features:
      - Applications: "applications.md"
      - requests.md
  - GitHub: https://github.com/Kludex/starlette
markdown_extensions:
  - pymdownx.emoji:
      emoji_index: !!python/name:material.extensions.emoji.twemoji
      emoji_generator: !!python/name:material.extensions.emoji.to_svg
extra:
  version: !ENV [VERSION, "dev"]
plugins:
  - search
  - mkdocstrings:
      handlers: {python: {options: {filters: ["!^_"]}}}
"#,
        )
        .unwrap();
        assert_eq!(config.site_name, "Starlette");
        assert_eq!(config.docs_dir, "docs");
        assert_eq!(config.theme_dir.as_deref(), Some("docs/overrides"));
        assert_eq!(
            config.nav.unwrap(),
            vec![
                NavEntry::Page {
                    title: Some("Introduction".into()),
                    src: "index.md".into()
                },
                NavEntry::Section {
                    title: "Features".into(),
                    children: vec![
                        NavEntry::Page {
                            title: Some("Applications".into()),
                            src: "applications.md".into()
                        },
                        NavEntry::Page {
                            title: None,
                            src: "requests.md".into()
                        },
                    ],
                },
                NavEntry::Link {
                    title: "GitHub".into(),
                    url: "https://github.com/Kludex/starlette".into()
                },
            ]
        );
        assert_eq!(
            MkdocsConfig::parse("site_name: S\nrepo_url: https://github.com/Kludex/starlette\nedit_uri: edit/main/docs/\n")
                .unwrap()
                .edit_url("a/b.md")
                .as_deref(),
            Some("https://github.com/Kludex/starlette/edit/main/docs/a/b.md")
        );
    }

    #[test]
    fn bad_configs_say_what_is_wrong() {
        let err = |text: &str| MkdocsConfig::parse(text).unwrap_err().to_string();
        assert!(err("site_description: x\n").contains("`site_name` is required"));
        assert!(!err("site_name: [a\n").is_empty());
        assert!(err("site_name: S\nnav: index.md\n").contains("`nav` must be a list"));
        assert!(err("site_name: S\nnav:\n  - {A: a.md, B: b.md}\n").contains("`nav[0]`"));
        assert!(err("site_name: S\nnav:\n  - Sec:\n      - X: 3\n").contains("`nav[0][0]`"));
        assert!(err("- a\n- b\n").contains("mapping"));
    }
}
