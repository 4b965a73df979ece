//! The YAML half of the web UI. The YAML parser and the descriptor checks are
//! about a sixth of the app's WebAssembly, and only the validator and API
//! definitions of YAML documents need them, so they live in this second
//! module, which the app fetches the first time a page asks for it (see
//! `frontend/src/yaml.rs`). Answers cross the boundary as JSON text.

use serde_json::{json, Value};
use wasm_bindgen::prelude::wasm_bindgen;

/// `greenroom_model::validate_descriptor` as
/// `{"entities": [...], "diagnostics": [...]}`.
#[wasm_bindgen]
pub fn validate_descriptor(text: &str) -> String {
    let (entities, diagnostics) = greenroom_model::validate_descriptor(text);
    json!({"entities": entities, "diagnostics": diagnostics}).to_string()
}

/// Every document of a YAML stream as `{"documents": [...]}`, or
/// `{"error": "..."}` with the parser's message (which names the line).
#[wasm_bindgen]
pub fn parse_documents(text: &str) -> String {
    match greenroom_model::yaml::parse_documents(text) {
        Ok(documents) => {
            let values: Vec<Value> = documents.into_iter().map(|d| d.value).collect();
            json!({"documents": values}).to_string()
        }
        Err(message) => json!({"error": message}).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: String) -> Value {
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn a_bad_name_comes_back_as_a_diagnostic_with_its_line() {
        let out = answer(validate_descriptor(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: Not A Name!\nspec:\n  type: service\n  owner: a\n  lifecycle: x\n",
        ));
        assert_eq!(out["entities"], json!([]));
        let diagnostic = &out["diagnostics"][0];
        assert_eq!(diagnostic["field"], "metadata.name");
        assert_eq!(diagnostic["line"], 4);
    }

    #[test]
    fn documents_and_errors_are_told_apart() {
        let ok = answer(parse_documents("a: 1\n---\nb: [x]\n"));
        assert_eq!(ok["documents"], json!([{"a": 1}, {"b": ["x"]}]));
        let bad = answer(parse_documents("a: [unclosed\n"));
        assert!(bad["error"].as_str().unwrap().contains("line"), "{bad}");
        assert!(bad.get("documents").is_none());
    }
}
