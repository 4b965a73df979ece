//! The app's access to YAML: a second WebAssembly module (`crates/yaml-wasm`)
//! holding the YAML parser and the catalog's descriptor checks, fetched the
//! first time a page needs it. Keeping it out of the main module keeps the
//! first page small; the validator and YAML API definitions pay for it once.
//!
//! Outside the browser (unit tests) the module's functions run in-process, so page logic built on these calls stays testable.

use greenroom_model::{Diagnostic, Entity};
use serde::Deserialize;
use serde_json::Value;

/// Where the build puts the module's JavaScript glue (see scripts/build-frontend).
pub const MODULE_PATH: &str = "/yaml/greenroom_yaml_wasm.js";

/// Why a YAML call gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YamlError {
    /// The module could not be fetched or started (offline, server gone).
    Unavailable(String),
    /// The text is not valid YAML; the parser's message, naming the line.
    Invalid(String),
}

/// What `greenroom_model::validate_descriptor` answers.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Validation {
    pub entities: Vec<Entity>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Deserialize)]
struct Documents {
    #[serde(default)]
    documents: Vec<Value>,
    error: Option<String>,
}

/// Validates every document of a descriptor file, as ingestion does.
pub async fn validate_descriptor(text: &str) -> Result<Validation, YamlError> {
    let answer = call("validate_descriptor", text).await?;
    serde_json::from_str(&answer).map_err(|e| YamlError::Unavailable(e.to_string()))
}

/// Every document of a YAML (or JSON) text.
pub async fn parse_documents(text: &str) -> Result<Vec<Value>, YamlError> {
    let answer = call("parse_documents", text).await?;
    let parsed: Documents =
        serde_json::from_str(&answer).map_err(|e| YamlError::Unavailable(e.to_string()))?;
    match parsed.error {
        Some(message) => Err(YamlError::Invalid(message)),
        None => Ok(parsed.documents),
    }
}

#[cfg(target_arch = "wasm32")]
async fn call(function: &str, text: &str) -> Result<String, YamlError> {
    use wasm_bindgen::{JsCast, JsValue};

    let unavailable = |what: &str, error: JsValue| {
        let detail = error
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| error.as_string())
            .unwrap_or_default();
        YamlError::Unavailable(format!("{what}: {detail}"))
    };
    let module = wasm_bindgen_futures::JsFuture::from(load_module(MODULE_PATH))
        .await
        .map_err(|e| unavailable("The YAML reader could not be loaded", e))?;
    let function: js_sys::Function = js_sys::Reflect::get(&module, &JsValue::from_str(function))
        .and_then(|f| f.dyn_into())
        .map_err(|e| unavailable("The YAML reader is incomplete", e))?;
    let answer = function
        .call1(&JsValue::NULL, &JsValue::from_str(text))
        .map_err(|e| unavailable("The YAML reader failed", e))?;
    answer
        .as_string()
        .ok_or_else(|| YamlError::Unavailable("The YAML reader gave no answer".into()))
}

// One import per page load, shared by every caller; a failed load is retried
// by the next call instead of being remembered.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(inline_js = r#"
let loading = null;
export function load_module(path) {
    if (loading === null) {
        loading = import(path)
            .then(async (module) => { await module.default(); return module; })
            .catch((error) => { loading = null; throw error; });
    }
    return loading;
}
"#)]
extern "C" {
    fn load_module(path: &str) -> js_sys::Promise;
}

#[cfg(not(target_arch = "wasm32"))]
async fn call(function: &str, text: &str) -> Result<String, YamlError> {
    match function {
        "validate_descriptor" => Ok(greenroom_yaml_wasm::validate_descriptor(text)),
        "parse_documents" => Ok(greenroom_yaml_wasm::parse_documents(text)),
        other => Err(YamlError::Unavailable(format!("no function {other}"))),
    }
}
