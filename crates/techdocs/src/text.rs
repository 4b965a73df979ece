//! Plain text out of the builder's own (sanitised) HTML: heading titles, the
//! table of contents, and the text search indexes per page and per section.

use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

/// A heading of a page and the text under it, up to the next heading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub level: u8,
    pub id: String,
    pub title: String,
    pub text: String,
}

fn heading_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?s)<h([1-6]) id="([^"]*)"[^>]*>(.*?)</h[1-6]>"#).expect("valid regex")
    })
}

/// The page's headings with the text that follows each; text before the first
/// heading belongs to no section.
pub fn sections(html: &str) -> Vec<Section> {
    let matches: Vec<_> = heading_re().captures_iter(html).collect();
    let mut out = Vec::with_capacity(matches.len());
    for (i, caps) in matches.iter().enumerate() {
        let whole = caps.get(0).expect("match");
        let next = matches
            .get(i + 1)
            .map_or(html.len(), |m| m.get(0).expect("match").start());
        out.push(Section {
            level: caps[1].parse().unwrap_or(2),
            id: decode_entities(&caps[2]),
            title: to_text(&caps[3]),
            text: to_text(&html[whole.end()..next]),
        });
    }
    out
}

/// Every `id` on the page: anchors may point at headings, footnotes or tabs.
pub fn ids(html: &str) -> Vec<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r#"\sid="([^"]*)""#).expect("valid regex"));
    re.captures_iter(html)
        .map(|c| decode_entities(&c[1]))
        .collect()
}

/// Tags removed, entities decoded, whitespace collapsed, permalink marks dropped.
pub fn to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            '¶' => {}
            c => text.push(c),
        }
    }
    let decoded = decode_entities(&text);
    let mut out = String::with_capacity(decoded.len());
    for word in decoded.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| match &tail[1..e] {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            num if num.starts_with("#x") || num.starts_with("#X") => {
                u32::from_str_radix(&num[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            num if num.starts_with('#') => num[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        });
        match (decoded, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &tail[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_split_at_headings() {
        let html = r##"<p>intro</p><h1 id="t">Title<a class="headerlink" href="#t">¶</a></h1><p>a &amp; b</p><h2 id="s-1">Set <code>up</code></h2><p>x&#39;y</p>"##;
        let found = sections(html);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (
                found[0].level,
                found[0].id.as_str(),
                found[0].title.as_str(),
                found[0].text.as_str()
            ),
            (1, "t", "Title", "a & b")
        );
        assert_eq!(
            (found[1].title.as_str(), found[1].text.as_str()),
            ("Set up", "x'y")
        );
        assert_eq!(ids(html), vec!["t", "s-1"]);
        assert_eq!(to_text("a&unknown; &#x41;<b>b</b>&"), "a&unknown; A b &");
    }
}
