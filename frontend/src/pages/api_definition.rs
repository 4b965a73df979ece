//! The definition of an API entity, laid out for reading: OpenAPI operations
//! by tag, AsyncAPI channels with their operations and messages, gRPC and
//! GraphQL as highlighted source, and always the raw text. The reading itself
//! is `crate::apidef`; this module only builds the markup.
//!
//! The markup is first built as a plain [`Node`] tree (unit-tested on the
//! host) and then turned into Leptos elements by one function, [`render`]:
//! a `view!` per piece would cost far more WebAssembly. Text only ever becomes
//! text nodes and attribute values, never HTML, so a definition cannot inject
//! markup. Headings start at `<h2>`: the page around this view owns the `<h1>`.

use crate::apidef::asyncapi::{AsyncApiDoc, AsyncOperation, Channel, Message};
use crate::apidef::highlight::{self, Language};
use crate::apidef::openapi::{MediaType, OpenApiDoc, Operation, Parameter, RequestBody, Response};
use crate::apidef::schema::{RefProblem, Schema, Stop};
use crate::apidef::{self, ApiType, Definition, DefinitionError, Info, Server};
use crate::components::Loading;
use greenroom_model::Entity;
use leptos::attr::{any_attribute::IntoAnyAttribute, custom::custom_attribute};
use leptos::prelude::*;
use serde_json::Value;

/// A piece of markup: text, or an element with attributes and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Text(String),
    Element(El),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct El {
    pub tag: &'static str,
    pub attrs: Vec<(&'static str, String)>,
    pub children: Vec<Node>,
}

/// A new element.
pub fn el(tag: &'static str) -> El {
    El {
        tag,
        attrs: Vec::new(),
        children: Vec::new(),
    }
}

impl El {
    pub fn attr(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.attrs.push((name, value.into()));
        self
    }

    pub fn class(self, class: &'static str) -> Self {
        self.attr("class", class)
    }

    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Node::Text(text.into()));
        self
    }

    pub fn child(mut self, child: El) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    pub fn maybe(mut self, child: Option<El>) -> Self {
        if let Some(child) = child {
            self.children.push(Node::Element(child));
        }
        self
    }

    pub fn children(mut self, children: Vec<El>) -> Self {
        self.children
            .extend(children.into_iter().map(Node::Element));
        self
    }

    /// The element's attribute `name`, if set (for tests and lookups).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// All the text inside, in document order.
    pub fn text_content(&self) -> String {
        let mut out = String::new();
        collect_text(&self.children, &mut out);
        out
    }

    /// Every element in the tree (this one first), depth first.
    pub fn descendants(&self) -> Vec<&El> {
        let mut out = vec![self];
        for child in &self.children {
            if let Node::Element(e) = child {
                out.extend(e.descendants());
            }
        }
        out
    }
}

fn collect_text(nodes: &[Node], out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => collect_text(&e.children, out),
        }
    }
}

/// `<tag class=class>text</tag>`.
fn tag_text(tag: &'static str, class: &'static str, text: impl Into<String>) -> El {
    let e = el(tag).text(text);
    if class.is_empty() {
        e
    } else {
        e.class(class)
    }
}

/// `Some(el)` when `text` is not empty.
fn nonempty(text: &str, make: impl FnOnce() -> El) -> Option<El> {
    (!text.is_empty()).then(make)
}

/// Turns a tree into DOM elements. Every element has the same Rust type, so
/// this is compiled once however varied the markup.
pub fn render(node: Node) -> AnyView {
    match node {
        Node::Text(text) => text.into_any(),
        Node::Element(El {
            tag,
            attrs,
            children,
        }) => {
            let attrs: Vec<_> = attrs
                .into_iter()
                .map(|(name, value)| custom_attribute(name, value).into_any_attr())
                .collect();
            let children: Vec<AnyView> = children.into_iter().map(render).collect();
            leptos::html::custom(tag)
                .child(children)
                .add_any_attr(attrs)
                .into_any()
        }
    }
}

/// The `method ...` classes of an operation's badge: HTTP methods and
/// AsyncAPI actions with a colour of their own, `method-other` for the rest.
pub fn badge_class(method: &str) -> &'static str {
    match method.to_ascii_lowercase().as_str() {
        "get" => "method method-get",
        "put" => "method method-put",
        "post" => "method method-post",
        "delete" => "method method-delete",
        "patch" => "method method-patch",
        "publish" => "method method-publish",
        "subscribe" => "method method-subscribe",
        "send" => "method method-send",
        "receive" => "method method-receive",
        _ => "method method-other",
    }
}

/// The definition text of an API entity: `spec.definition` when it is a
/// string (the catalog's rule); anything else reads as no definition.
pub fn definition_text(entity: &Entity) -> &str {
    entity
        .get("spec")
        .and_then(|s| s.get("definition"))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

#[component]
pub fn ApiDefinition(entity: Entity) -> impl IntoView {
    // Async only because a YAML definition waits for the YAML module.
    let tree = LocalResource::new(move || {
        let entity = entity.clone();
        async move { definition_tree(&entity).await }
    });
    move || match tree.get() {
        None => view! { <Loading what="the API definition" /> }.into_any(),
        Some(tree) => render(Node::Element(tree)),
    }
}

/// The whole view of an entity's definition, as a tree.
pub async fn definition_tree(entity: &Entity) -> El {
    let spec_type = entity
        .get("spec")
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let text = definition_text(entity);
    let api_type = ApiType::of(spec_type);
    let root = el("div")
        .class("api-definition")
        .attr("data-api-type", api_type.slug());
    if text.trim().is_empty() {
        return root
            .child(tag_text("h2", "", "API definition"))
            .child(tag_text("p", "empty", "This API has no definition."));
    }
    let parsed = apidef::parse_definition(api_type, text).await;
    let failed = parsed.is_err();
    let body = match parsed {
        Ok(Definition::OpenApi(doc)) => openapi_tree(doc),
        Ok(Definition::AsyncApi(doc)) => asyncapi_tree(doc),
        Ok(Definition::Source(language)) => source_tree(language, spec_type, text),
        Err(error) => error_tree(spec_type, error),
    };
    let mut raw = el("details").class("raw-definition");
    // Open when the definition could not be read: then it is all there is.
    if failed {
        raw = raw.attr("open", "");
    }
    let raw = raw.child(tag_text("summary", "", "Raw definition")).child(
        el("pre")
            .class("code")
            .attr("tabindex", "0")
            .attr("aria-label", "The definition as written")
            .child(el("code").text(text)),
    );
    root.children(body).child(raw)
}

fn error_tree(spec_type: &str, error: DefinitionError) -> Vec<El> {
    let kind = if spec_type.is_empty() {
        "API"
    } else {
        spec_type
    };
    vec![
        tag_text("h2", "", "API definition"),
        el("div")
            .class("error-box")
            .attr("role", "alert")
            .child(tag_text(
                "p",
                "error-message",
                format!("This {kind} definition could not be read."),
            ))
            .child(tag_text("p", "error-hint", error.to_string()))
            .child(tag_text(
                "p",
                "error-hint",
                "The raw definition is shown below.",
            )),
    ]
}

fn info_tree(info: Info, fallback_title: &str, format: String) -> El {
    let title = if info.title.is_empty() {
        fallback_title.to_string()
    } else {
        info.title
    };
    let mut heading = el("h2").text(title);
    if !info.version.is_empty() {
        heading = heading
            .text(" ")
            .child(tag_text("span", "api-version", info.version));
    }
    el("header")
        .class("api-info")
        .child(heading)
        .child(tag_text("p", "muted", format))
        .maybe(nonempty(&info.description, || {
            tag_text("p", "api-description", info.description.clone())
        }))
}

fn notes_tree(notes: Vec<String>) -> Option<El> {
    (!notes.is_empty()).then(|| {
        el("ul")
            .class("api-notes")
            .children(notes.into_iter().map(|n| el("li").text(n)).collect())
    })
}

fn servers_tree(servers: Vec<Server>) -> Option<El> {
    (!servers.is_empty()).then(|| {
        let items = servers
            .into_iter()
            .map(|s| {
                let mut li = el("li");
                if !s.name.is_empty() {
                    li = li.child(el("strong").text(s.name)).text(" ");
                }
                li = li.child(el("code").text(s.url));
                if !s.protocol.is_empty() {
                    li = li
                        .text(" ")
                        .child(tag_text("span", "muted", format!("({})", s.protocol)));
                }
                if !s.description.is_empty() {
                    li = li.text(format!(" · {}", s.description));
                }
                li
            })
            .collect();
        el("section")
            .class("api-servers")
            .child(tag_text("h3", "", "Servers"))
            .child(el("ul").children(items))
    })
}

fn openapi_tree(doc: OpenApiDoc) -> Vec<El> {
    let format = if doc.swagger {
        format!("Swagger {}", doc.version)
    } else {
        format!("OpenAPI {}", doc.version)
    };
    let mut out = vec![info_tree(doc.info, "OpenAPI definition", format)];
    out.extend(notes_tree(doc.notes));
    out.extend(servers_tree(doc.servers));
    if doc.groups.is_empty() {
        out.push(tag_text("p", "empty", "This definition has no operations."));
    }
    for group in doc.groups {
        let operations = group
            .operations
            .iter()
            .filter_map(|&i| doc.operations.get(i))
            .map(operation_tree)
            .collect();
        out.push(
            el("section")
                .class("api-tag")
                .attr("data-tag", group.name.clone())
                .child(tag_text("h3", "", group.name))
                .maybe(nonempty(&group.description, || {
                    tag_text("p", "api-description", group.description.clone())
                }))
                .children(operations),
        );
    }
    out
}

/// `<summary>`: badge, path (or channel), summary, deprecation.
fn operation_summary(method: &str, path: &str, summary: &str, deprecated: bool) -> El {
    let mut s = el("summary")
        .child(tag_text(
            "span",
            badge_class(method),
            method.to_ascii_uppercase(),
        ))
        .text(" ")
        .child(tag_text("code", "path", path));
    if !summary.is_empty() {
        s = s.text(" ").child(tag_text("span", "op-summary", summary));
    }
    if deprecated {
        s = s.text(" ").child(deprecated_badge());
    }
    s
}

fn deprecated_badge() -> El {
    tag_text("span", "deprecated-badge", "deprecated")
}

fn operation_id_line(id: &str) -> Option<El> {
    nonempty(id, || {
        el("p")
            .class("muted")
            .text("Operation ID: ")
            .child(el("code").text(id))
    })
}

fn operation_tree(op: &Operation) -> El {
    let mut body = el("div")
        .class("operation-body")
        .maybe(operation_id_line(&op.operation_id))
        .maybe(nonempty(&op.description, || {
            tag_text("p", "api-description", op.description.clone())
        }));
    if !op.parameters.is_empty() {
        body = body.child(tag_text("h4", "", "Parameters")).child(
            el("div").class("table-wrap").child(
                el("table")
                    .class("api-params")
                    .child(header_row(&[
                        "Name",
                        "In",
                        "Type",
                        "Required",
                        "Description",
                    ]))
                    .child(el("tbody").children(op.parameters.iter().map(parameter_row).collect())),
            ),
        );
    }
    if let Some(request_body) = &op.request_body {
        body = body.children(request_body_tree(request_body));
    }
    if !op.responses.is_empty() {
        body = body.child(tag_text("h4", "", "Responses")).child(
            el("ul")
                .class("responses")
                .children(op.responses.iter().map(response_tree).collect()),
        );
    }
    el("details")
        .class("operation")
        .attr("data-operation-id", op.operation_id.clone())
        .attr("data-method", op.method.clone())
        .attr("data-path", op.path.clone())
        .child(operation_summary(
            &op.method,
            &op.path,
            &op.summary,
            op.deprecated,
        ))
        .child(body)
}

/// A table header row with `scope="col"` cells.
pub fn header_row(columns: &[&str]) -> El {
    el("thead").child(
        el("tr").children(
            columns
                .iter()
                .map(|c| el("th").attr("scope", "col").text(*c))
                .collect(),
        ),
    )
}

fn parameter_row(p: &Parameter) -> El {
    let mut name = el("td").child(el("code").text(p.name.clone()));
    if p.deprecated {
        name = name.text(" ").child(deprecated_badge());
    }
    let mut type_cell = el("td");
    if let Some(schema) = &p.schema {
        type_cell = type_cell
            .text(schema.short_label())
            .maybe(enum_tree(&schema.enum_values));
    }
    el("tr")
        .child(name)
        .child(el("td").text(p.location.clone()))
        .child(type_cell)
        .child(el("td").text(if p.required { "Yes" } else { "No" }))
        .child(tag_text("td", "description", p.description.clone()))
}

fn request_body_tree(body: &RequestBody) -> Vec<El> {
    let heading = if body.required {
        "Request body (required)"
    } else {
        "Request body"
    };
    let mut out = vec![tag_text("h4", "", heading)];
    out.extend(nonempty(&body.description, || {
        tag_text("p", "api-description", body.description.clone())
    }));
    out.extend(body.content.iter().map(media_type_tree));
    out
}

fn response_tree(r: &Response) -> El {
    let mut line = el("p").child(tag_text("code", "status", r.status.clone()));
    if !r.description.is_empty() {
        line = line.text(format!(" {}", r.description));
    }
    el("li")
        .class("response")
        .attr("data-status", r.status.clone())
        .child(line)
        .children(r.content.iter().map(media_type_tree).collect())
}

fn media_type_tree(media: &MediaType) -> El {
    el("div")
        .class("media-type")
        .child(
            el("p")
                .class("media-type-name")
                .child(el("code").text(media.media_type.clone())),
        )
        .maybe(media.schema.as_ref().map(schema_tree))
}

fn enum_tree(values: &[String]) -> Option<El> {
    (!values.is_empty()).then(|| {
        let mut e = el("div").class("schema-enum").text("One of: ");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                e = e.text(", ");
            }
            e = e.child(el("code").text(v.clone()));
        }
        e
    })
}

fn stop_text(stop: &Stop) -> &'static str {
    match stop {
        Stop::Recursive => "recursive: shown above",
        Stop::TooDeep => "nested too deeply to show here",
        Stop::TooLarge => "too large to show in full",
        Stop::Unresolved(RefProblem::External) => "reference to another document, not followed",
        Stop::Unresolved(RefProblem::Missing) => "reference not found in this document",
        Stop::Unresolved(RefProblem::Cycle) => "circular reference",
    }
}

/// A schema summary as nested lists; its own depth limit bounds the recursion.
fn schema_tree(schema: &Schema) -> El {
    let label = match schema.type_label() {
        l if l.is_empty() && schema.ref_name.is_none() => "any".to_string(),
        l => l,
    };
    let mut e = el("div").class("schema");
    if let Some(name) = &schema.ref_name {
        e = e
            .child(tag_text("span", "schema-ref", name.clone()))
            .text(" ");
    }
    if !label.is_empty() {
        e = e.child(tag_text("span", "schema-type", label));
    }
    if !schema.includes.is_empty() {
        e = e.text(" ").child(tag_text(
            "span",
            "muted",
            format!("(includes {})", schema.includes.join(", ")),
        ));
    }
    if let Some(stop) = &schema.stop {
        e = e
            .text(" ")
            .child(tag_text("span", "schema-note", stop_text(stop)));
    }
    e = e
        .maybe(nonempty(&schema.description, || {
            tag_text("p", "schema-desc", schema.description.clone())
        }))
        .maybe(enum_tree(&schema.enum_values));
    if !schema.properties.is_empty() {
        let items = schema
            .properties
            .iter()
            .map(|p| {
                let mut li = el("li").child(tag_text("code", "prop-name", p.name.clone()));
                if p.required {
                    li = li.text(" ").child(tag_text("span", "required", "required"));
                }
                li.text(" ").child(schema_tree(&p.schema))
            })
            .collect();
        e = e.child(el("ul").class("schema-props").children(items));
    }
    if let Some(items) = &schema.items {
        e = e.child(
            el("div")
                .class("schema-items")
                .child(tag_text("span", "muted", "Items:"))
                .child(schema_tree(items)),
        );
    }
    if !schema.variants.is_empty() {
        let heading = if schema.combinator == Some("anyOf") {
            "Any of:"
        } else {
            "One of:"
        };
        e = e.child(
            el("div")
                .class("schema-variants")
                .child(tag_text("span", "muted", heading))
                .child(
                    el("ol").children(
                        schema
                            .variants
                            .iter()
                            .map(|v| el("li").child(schema_tree(v)))
                            .collect(),
                    ),
                ),
        );
    }
    if schema.omitted > 0 {
        e = e.child(tag_text(
            "p",
            "schema-note",
            format!("{} more not shown", schema.omitted),
        ));
    }
    e
}

fn asyncapi_tree(doc: AsyncApiDoc) -> Vec<El> {
    let format = format!("AsyncAPI {}", doc.version);
    let mut out = vec![info_tree(doc.info, "AsyncAPI definition", format)];
    out.extend(notes_tree(doc.notes));
    out.extend(servers_tree(doc.servers));
    if doc.channels.is_empty() {
        out.push(tag_text("p", "empty", "This definition has no channels."));
    }
    out.extend(doc.channels.into_iter().map(channel_tree));
    out
}

fn channel_tree(channel: Channel) -> El {
    let operations = channel
        .operations
        .iter()
        .map(|op| async_operation_tree(op, &channel.name))
        .collect();
    let mut section = el("section")
        .class("api-channel")
        .attr("data-channel", channel.name.clone())
        .child(el("h3").child(el("code").text(channel.name)))
        .maybe(nonempty(&channel.address, || {
            el("p")
                .text("Address: ")
                .child(el("code").text(channel.address.clone()))
        }))
        .maybe(nonempty(&channel.description, || {
            tag_text("p", "api-description", channel.description.clone())
        }))
        .children(operations);
    if !channel.messages.is_empty() {
        section = section
            .child(tag_text("h4", "", "Messages"))
            .children(channel.messages.iter().map(message_tree).collect());
    }
    section
}

fn async_operation_tree(op: &AsyncOperation, channel: &str) -> El {
    let mut body = el("div")
        .class("operation-body")
        .maybe(operation_id_line(&op.id))
        .maybe(nonempty(&op.description, || {
            tag_text("p", "api-description", op.description.clone())
        }));
    if !op.messages.is_empty() {
        body = body
            .child(tag_text("h4", "", "Messages"))
            .children(op.messages.iter().map(message_tree).collect());
    }
    el("details")
        .class("operation async-operation")
        .attr("data-operation-id", op.id.clone())
        .attr("data-action", op.action.clone())
        .child(operation_summary(&op.action, channel, &op.summary, false))
        .child(body)
}

fn message_tree(message: &Message) -> El {
    let name = if message.name.is_empty() {
        "(unnamed message)"
    } else {
        &message.name
    };
    let mut heading = el("p").class("message-name").child(el("strong").text(name));
    if !message.title.is_empty() {
        heading = heading.text(format!(" · {}", message.title));
    }
    el("div")
        .class("message")
        .attr("data-message", message.name.clone())
        .child(heading)
        .maybe(nonempty(&message.summary, || {
            el("p").text(message.summary.clone())
        }))
        .maybe(nonempty(&message.description, || {
            tag_text("p", "api-description", message.description.clone())
        }))
        .maybe(nonempty(&message.content_type, || {
            el("p")
                .class("muted")
                .text("Content type: ")
                .child(el("code").text(message.content_type.clone()))
        }))
        .maybe(message.payload.as_ref().map(|p| {
            el("div")
                .class("payload")
                .child(tag_text("span", "muted", "Payload:"))
                .child(schema_tree(p))
        }))
}

fn source_tree(language: Language, spec_type: &str, text: &str) -> Vec<El> {
    let heading = match language {
        Language::Protobuf => "gRPC definition (Protocol Buffers)".to_string(),
        Language::GraphQl => "GraphQL schema".to_string(),
        Language::Plain if spec_type.is_empty() => "API definition".to_string(),
        Language::Plain => format!("API definition ({spec_type})"),
    };
    let mut code = el("code");
    for (class, token) in highlight::tokenize(language, text) {
        code = match class.css_class() {
            Some(class) => code.child(tag_text("span", class, token)),
            None => code.text(token),
        };
    }
    vec![
        tag_text("h2", "", heading.clone()),
        el("pre")
            .class("code highlighted")
            .attr("tabindex", "0")
            .attr("aria-label", format!("{heading} source"))
            .child(code),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use serde_json::json;

    fn api(spec: Value) -> Entity {
        match json!({"apiVersion": "backstage.io/v1alpha1", "kind": "API",
                     "metadata": {"name": "x"}, "spec": spec})
        {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    fn find(root: &El, pred: impl Fn(&El) -> bool) -> Vec<&El> {
        root.descendants().into_iter().filter(|e| pred(e)).collect()
    }

    fn has_class(e: &El, class: &str) -> bool {
        e.get("class")
            .is_some_and(|c| c.split(' ').any(|c| c == class))
    }

    const SHIPMENTS: &str = r##"
openapi: 3.0.3
info: {title: Shipment API, version: 2.4.0}
servers: [{url: 'https://api.example/v2'}]
paths:
  /shipments:
    post:
      tags: [shipments]
      operationId: createShipment
      summary: Book a new shipment
      parameters:
        - {name: dryRun, in: query, schema: {type: boolean}, description: Only check}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Shipment'}
      responses:
        '201': {description: Booked}
    get:
      responses: {'200': {description: ok}}
components:
  schemas:
    Shipment:
      type: object
      required: [id]
      properties:
        id: {type: string}
        status: {type: string, enum: [booked, delivered]}
"##;

    #[test]
    fn openapi_operations_are_findable_details() {
        let tree = block_on(definition_tree(&api(
            json!({"type": "openapi", "definition": SHIPMENTS}),
        )));
        assert_eq!(tree.get("data-api-type"), Some("openapi"));
        let ops = find(&tree, |e| e.tag == "details" && has_class(e, "operation"));
        assert_eq!(ops.len(), 2);
        let post = ops
            .iter()
            .find(|e| e.get("data-operation-id") == Some("createShipment"))
            .unwrap();
        assert_eq!(post.get("data-method"), Some("post"));
        assert_eq!(post.get("data-path"), Some("/shipments"));
        let summary = find(post, |e| e.tag == "summary")[0];
        assert_eq!(
            summary.text_content(),
            "POST /shipments Book a new shipment"
        );
        assert!(find(summary, |e| has_class(e, "method-post")).len() == 1);
        // The untagged operation lands in "default", with an empty id attribute.
        let sections = find(&tree, |e| e.tag == "section" && has_class(e, "api-tag"));
        let names: Vec<String> = sections
            .iter()
            .map(|s| find(s, |e| e.tag == "h3")[0].text_content())
            .collect();
        assert_eq!(names, ["shipments", "default"]);
        assert_eq!(ops[1].get("data-operation-id"), Some(""));
    }

    #[test]
    fn parameters_table_has_column_headers_and_schemas_show() {
        let tree = block_on(definition_tree(&api(
            json!({"type": "openapi", "definition": SHIPMENTS}),
        )));
        let headers: Vec<String> = find(&tree, |e| e.tag == "th")
            .iter()
            .map(|th| {
                assert_eq!(th.get("scope"), Some("col"));
                th.text_content()
            })
            .collect();
        assert_eq!(headers, ["Name", "In", "Type", "Required", "Description"]);
        let row = find(&tree, |e| e.tag == "tbody")[0].text_content();
        assert_eq!(row, "dryRunquerybooleanNoOnly check");
        let text = tree.text_content();
        assert!(text.contains("Request body (required)"));
        assert!(text.contains("Shipment object"));
        assert!(text.contains("id required string"));
        assert!(text.contains("One of: booked, delivered"));
        assert!(text.contains("201 Booked"));
    }

    #[test]
    fn headings_start_at_h2_and_do_not_skip_levels() {
        for (kind, definition) in [
            ("openapi", SHIPMENTS),
            ("asyncapi", "asyncapi: 2.6.0\ninfo: {title: T, version: '1'}\nchannels:\n  c:\n    subscribe:\n      message: {name: M, payload: {type: string}}\n"),
            ("grpc", "syntax = \"proto3\";"),
            ("openapi", "not: [valid"),
        ] {
            let tree = block_on(definition_tree(&api(json!({"type": kind, "definition": definition}))));
            let levels: Vec<u8> = tree
                .descendants()
                .iter()
                .filter_map(|e| e.tag.strip_prefix('h').and_then(|n| n.parse().ok()))
                .collect();
            assert_eq!(levels[0], 2, "{kind}");
            for pair in levels.windows(2) {
                assert!(pair[1] <= pair[0] + 1, "{kind}: {levels:?}");
            }
        }
    }

    #[test]
    fn asyncapi_channels_list_operations_and_messages() {
        let tree = block_on(definition_tree(&api(
            json!({"type": "asyncapi", "definition":
            "asyncapi: 2.6.0\nchannels:\n  tracking.v1:\n    publish:\n      operationId: pub\n      message: {name: Scanned, title: A scan, contentType: application/json, payload: {type: object, properties: {depot: {type: string}}}}\n"}),
        )));
        let channel = find(&tree, |e| e.get("data-channel") == Some("tracking.v1"))[0];
        let op = find(channel, |e| e.get("data-operation-id") == Some("pub"))[0];
        assert_eq!(op.get("data-action"), Some("publish"));
        let message = find(op, |e| e.get("data-message") == Some("Scanned"))[0];
        let text = message.text_content();
        assert!(text.starts_with("Scanned · A scan"), "{text}");
        assert!(text.contains("application/json"));
        assert!(text.contains("depot string"));
    }

    #[test]
    fn source_is_highlighted_and_round_trips() {
        let source = "syntax = \"proto3\";\nservice S { rpc A(B) returns (C); }\n";
        let tree = block_on(definition_tree(&api(
            json!({"type": "grpc", "definition": source}),
        )));
        let pre = find(&tree, |e| has_class(e, "highlighted"))[0];
        assert_eq!(pre.text_content(), source);
        assert!(!find(pre, |e| e.get("class") == Some("tok-keyword")).is_empty());
        // The raw view is there too, closed.
        let raw = find(&tree, |e| has_class(e, "raw-definition"))[0];
        assert_eq!(raw.get("open"), None);
        assert!(raw.text_content().ends_with(source));
    }

    #[test]
    fn unreadable_definitions_show_the_error_and_open_the_raw_text() {
        let tree = block_on(definition_tree(&api(
            json!({"type": "openapi", "definition": "openapi: [3\n"}),
        )));
        let alert = find(&tree, |e| e.get("role") == Some("alert"))[0];
        assert!(alert.text_content().contains("not valid YAML or JSON"));
        assert!(alert.text_content().contains("line"));
        let raw = find(&tree, |e| has_class(e, "raw-definition"))[0];
        assert_eq!(raw.get("open"), Some(""));

        let empty = block_on(definition_tree(&api(json!({"type": "openapi"}))));
        assert!(empty.text_content().contains("This API has no definition."));
    }

    #[test]
    fn markup_in_definitions_stays_text() {
        let hostile = "openapi: 3.0.0\ninfo: {title: '<img src=x onerror=alert(1)>'}\npaths:\n  '/a\"><script>':\n    get: {operationId: '\"><b>', responses: {}}\n";
        let tree = block_on(definition_tree(&api(
            json!({"type": "openapi", "definition": hostile}),
        )));
        // Only the fixed tags of this module appear; the text keeps the markup verbatim.
        for e in tree.descendants() {
            assert!(!["img", "script", "b"].contains(&e.tag));
        }
        assert!(tree.text_content().contains("<img src=x onerror=alert(1)>"));
        let op = find(&tree, |e| e.tag == "details" && has_class(e, "operation"))[0];
        assert_eq!(op.get("data-operation-id"), Some("\"><b>"));
    }

    #[test]
    fn badges_only_use_known_classes() {
        assert_eq!(badge_class("POST"), "method method-post");
        assert_eq!(badge_class("subscribe"), "method method-subscribe");
        assert_eq!(badge_class("head"), "method method-other");
        assert_eq!(badge_class("x\" onclick=\"y"), "method method-other");
    }

    #[test]
    fn definition_text_reads_strings_only() {
        assert_eq!(
            definition_text(&api(json!({"definition": "openapi: 3.0.0"}))),
            "openapi: 3.0.0"
        );
        assert_eq!(definition_text(&api(json!({}))), "");
        assert_eq!(definition_text(&api(json!({"definition": null}))), "");
        assert_eq!(
            definition_text(&api(json!({"definition": {"openapi": "3.0.0"}}))),
            ""
        );
    }
}
