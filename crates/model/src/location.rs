//! Location references `<type>:<target>` (reference section 1.4), as used by the
//! `backstage.io/managed-by-location` family of annotations.

/// Splits a location ref at the first `:` into `(type, target)`, both trimmed.
pub fn parse_location_ref(s: &str) -> Result<(String, String), String> {
    let expected = || {
        format!("Unable to parse location ref '{s}', expected '<type>:<target>', e.g. 'url:https://host/path'")
    };
    let (location_type, target) = s.split_once(':').ok_or_else(expected)?;
    let (location_type, target) = (location_type.trim(), target.trim());
    if location_type.is_empty() || target.is_empty() {
        return Err(expected());
    }
    if location_type == "http" || location_type == "https" {
        return Err(format!(
            "Invalid location ref '{s}', please prefix it with 'url:', e.g. 'url:{s}'"
        ));
    }
    if is_javascript_url(target) {
        return Err(format!(
            "Invalid location ref '{s}', javascript: targets are not allowed"
        ));
    }
    Ok((location_type.to_string(), target.to_string()))
}

/// `<type>:<target>`.
pub fn stringify_location_ref(location_type: &str, target: &str) -> String {
    format!("{location_type}:{target}")
}

/// Browsers ignore leading whitespace/control characters and case in the scheme,
/// so `  JavaScript:` is as dangerous as `javascript:`.
pub fn is_javascript_url(s: &str) -> bool {
    let trimmed = s.trim_start_matches(|c: char| c <= ' ');
    trimmed.len() >= 11
        && trimmed.is_char_boundary(11)
        && trimmed[..11].eq_ignore_ascii_case("javascript:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_trims() {
        assert_eq!(
            parse_location_ref("url:https://github.com/o/r/blob/main/catalog-info.yaml").unwrap(),
            (
                "url".to_string(),
                "https://github.com/o/r/blob/main/catalog-info.yaml".to_string()
            )
        );
        assert_eq!(
            parse_location_ref(" file : /a/b.yaml ").unwrap(),
            ("file".to_string(), "/a/b.yaml".to_string())
        );
    }

    #[test]
    fn rejects_malformed_refs_with_backstage_messages() {
        for bad in ["", "hello", ":hello", "hello:", " : "] {
            assert_eq!(
                parse_location_ref(bad).unwrap_err(),
                format!("Unable to parse location ref '{bad}', expected '<type>:<target>', e.g. 'url:https://host/path'")
            );
        }
        assert_eq!(
            parse_location_ref("http://blah").unwrap_err(),
            "Invalid location ref 'http://blah', please prefix it with 'url:', e.g. 'url:http://blah'"
        );
        assert_eq!(
            parse_location_ref("https://bleh").unwrap_err(),
            "Invalid location ref 'https://bleh', please prefix it with 'url:', e.g. 'url:https://bleh'"
        );
    }

    #[test]
    fn rejects_javascript_targets() {
        assert_eq!(
            parse_location_ref("url:JavaScript:alert(1)").unwrap_err(),
            "Invalid location ref 'url:JavaScript:alert(1)', javascript: targets are not allowed"
        );
        assert!(is_javascript_url("\t javascript:x"));
        assert!(!is_javascript_url("https://javascript:x") && !is_javascript_url("java"));
    }

    #[test]
    fn stringifies() {
        assert_eq!(stringify_location_ref("file", "/x.yaml"), "file:/x.yaml");
    }
}
