//! S3's XML answers: object listings and error bodies.

/// The elements with text (no child elements) of an XML document, as
/// (`Parent/Child` path, unescaped text), in document order.
pub(super) fn xml_leaves(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    use quick_xml::events::Event;
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut content = String::new();
    let mut leaf = false;
    let mut out = Vec::new();
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => {
                path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                content.clear();
                leaf = true;
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let mut full = path.join("/");
                if !full.is_empty() {
                    full.push('/');
                }
                full.push_str(&name);
                out.push((full, String::new()));
                leaf = false;
            }
            Event::End(_) => {
                if leaf {
                    out.push((path.join("/"), std::mem::take(&mut content)));
                }
                path.pop();
                leaf = false;
            }
            Event::Text(t) => content.push_str(&t.decode().map_err(|e| e.to_string())?),
            Event::CData(t) => content.push_str(&t.decode().map_err(|e| e.to_string())?),
            Event::GeneralRef(r) => {
                if let Some(c) = r.resolve_char_ref().map_err(|e| e.to_string())? {
                    content.push(c);
                } else {
                    let name = r.decode().map_err(|e| e.to_string())?;
                    let resolved = quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| format!("unknown entity &{name};"))?;
                    content.push_str(resolved);
                }
            }
            Event::Eof => return Ok(out),
            _ => {}
        }
    }
}

/// One page of ListObjectsV2.
#[derive(Debug, PartialEq)]
pub(super) struct Listing {
    pub(super) keys: Vec<String>,
    pub(super) truncated: bool,
    pub(super) next: Option<String>,
}

pub(super) fn parse_listing(body: &[u8]) -> Result<Listing, String> {
    let leaves = xml_leaves(body)?;
    if !leaves
        .iter()
        .any(|(p, _)| p.starts_with("ListBucketResult/"))
    {
        return Err("not a ListBucketResult".into());
    }
    let value = |name: &str| {
        leaves
            .iter()
            .find(|(p, _)| p == &format!("ListBucketResult/{name}"))
            .map(|(_, v)| v.clone())
    };
    Ok(Listing {
        keys: leaves
            .iter()
            .filter(|(p, _)| p == "ListBucketResult/Contents/Key")
            .map(|(_, v)| v.clone())
            .collect(),
        truncated: value("IsTruncated").as_deref() == Some("true"),
        next: value("NextContinuationToken").filter(|t| !t.is_empty()),
    })
}

/// `Code` and `Message` of an S3 error answer.
pub(super) fn error_details(body: &[u8]) -> (Option<String>, Option<String>) {
    let leaves = xml_leaves(body).unwrap_or_default();
    let get = |name: &str| {
        leaves
            .iter()
            .find(|(p, _)| p == &format!("Error/{name}"))
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    (get("Code"), get("Message"))
}
