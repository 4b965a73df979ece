//! OpenAPI 3.x documents (and Swagger 2.0, best effort) as operations grouped
//! by tag, each with its parameters, request body and responses.

use super::schema::{Schema, Summarizer};
use super::{capped_note, entries, field, flag, info_of, DefinitionError, Info, Server, MAX_LIST};
use serde_json::Value;

/// Operations read from one document (counting each tag an operation is
/// listed under).
pub const MAX_OPERATIONS: usize = 500;
/// Tags one operation is listed under.
const MAX_TAGS_PER_OPERATION: usize = 8;
/// The group of operations without a tag.
pub const DEFAULT_TAG: &str = "default";

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[derive(Debug, Clone, PartialEq)]
pub struct OpenApiDoc {
    /// `3.0.3`, `3.1.0`, `2.0`...
    pub version: String,
    pub swagger: bool,
    pub info: Info,
    pub servers: Vec<Server>,
    pub operations: Vec<Operation>,
    pub groups: Vec<TagGroup>,
    /// What was left out or looked odd, for the reader.
    pub notes: Vec<String>,
}

/// One tag's operations, as indices into [`OpenApiDoc::operations`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagGroup {
    pub name: String,
    pub description: String,
    pub operations: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Lower-case HTTP method.
    pub method: String,
    pub path: String,
    pub operation_id: String,
    pub summary: String,
    pub description: String,
    pub deprecated: bool,
    pub parameters: Vec<Parameter>,
    pub request_body: Option<RequestBody>,
    pub responses: Vec<Response>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub name: String,
    /// `path`, `query`, `header`, `cookie` (or Swagger's `formData`).
    pub location: String,
    pub required: bool,
    pub deprecated: bool,
    pub description: String,
    pub schema: Option<Schema>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequestBody {
    pub description: String,
    pub required: bool,
    pub content: Vec<MediaType>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MediaType {
    pub media_type: String,
    pub schema: Option<Schema>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// `200`, `4XX`, `default`.
    pub status: String,
    pub description: String,
    pub content: Vec<MediaType>,
}

/// Reads an OpenAPI (or Swagger 2.0) document.
pub fn parse(root: &Value) -> Result<OpenApiDoc, DefinitionError> {
    let (version, swagger) = match (root.get("openapi"), root.get("swagger")) {
        (Some(v), _) => (super::text(Some(v)), false),
        (None, Some(v)) => (super::text(Some(v)), true),
        (None, None) => {
            let hint = if root.get("asyncapi").is_some() {
                " It looks like an AsyncAPI document; check spec.type."
            } else {
                ""
            };
            return Err(DefinitionError {
                message: format!(
                    "The definition is not an OpenAPI document: it has no \"openapi\" (or \"swagger\") version field.{hint}"
                ),
                line: None,
            });
        }
    };
    let mut notes = Vec::new();
    let supported = if swagger {
        version.starts_with('2')
    } else {
        version.starts_with('3')
    };
    if !supported {
        notes.push(format!(
            "OpenAPI version \"{version}\" is not one this page knows; it is shown as well as it can be."
        ));
    }

    let mut reader = Reader {
        summarizer: Summarizer::new(root),
        root,
        swagger,
    };
    let servers = if swagger {
        swagger_servers(root)
    } else {
        servers(root)
    };
    let (operations, groups) = reader.operations(&mut notes);
    Ok(OpenApiDoc {
        version,
        swagger,
        info: info_of(root),
        servers,
        operations,
        groups,
        notes,
    })
}

fn servers(root: &Value) -> Vec<Server> {
    root.get("servers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .take(MAX_LIST)
                .map(|s| Server {
                    url: field(s, "url"),
                    description: field(s, "description"),
                    ..Server::default()
                })
                .filter(|s| !s.url.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Swagger 2.0 spreads the address over `schemes`, `host` and `basePath`.
fn swagger_servers(root: &Value) -> Vec<Server> {
    let host = field(root, "host");
    let base = field(root, "basePath");
    if host.is_empty() {
        return if base.is_empty() {
            Vec::new()
        } else {
            vec![Server {
                url: base,
                ..Server::default()
            }]
        };
    }
    let mut schemes: Vec<&str> = root
        .get("schemes")
        .and_then(Value::as_array)
        .map(|s| s.iter().take(4).filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if schemes.is_empty() {
        schemes.push("https");
    }
    schemes
        .into_iter()
        .map(|scheme| Server {
            url: format!("{scheme}://{host}{base}"),
            ..Server::default()
        })
        .collect()
}

struct Reader<'a> {
    summarizer: Summarizer<'a>,
    root: &'a Value,
    swagger: bool,
}

impl<'a> Reader<'a> {
    fn operations(&mut self, notes: &mut Vec<String>) -> (Vec<Operation>, Vec<TagGroup>) {
        // Declared tags first, in their order, with their descriptions.
        let mut groups: Vec<TagGroup> = self
            .root
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .take(MAX_LIST * 4)
            .filter_map(|t| {
                let name = field(t, "name");
                (!name.is_empty()).then(|| TagGroup {
                    name,
                    description: field(t, "description"),
                    operations: Vec::new(),
                })
            })
            .collect();
        let mut operations = Vec::new();
        let mut placed = 0;
        let mut total = 0;
        let resolver = self.summarizer.resolver();
        for (path, item) in entries(self.root.get("paths")) {
            let item = resolver.resolve(item);
            let shared = item.get("parameters");
            for (method, op) in entries(Some(item)) {
                let method = method.to_ascii_lowercase();
                if !METHODS.contains(&method.as_str()) || !op.is_object() {
                    continue;
                }
                total += 1;
                if placed >= MAX_OPERATIONS {
                    continue;
                }
                let mut tags: Vec<&str> = Vec::new();
                let declared = op
                    .get("tags")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten();
                for tag in declared.filter_map(Value::as_str).map(str::trim) {
                    if !tag.is_empty()
                        && !tags.contains(&tag)
                        && tags.len() < MAX_TAGS_PER_OPERATION
                    {
                        tags.push(tag);
                    }
                }
                if tags.is_empty() {
                    tags.push(DEFAULT_TAG);
                }
                let index = operations.len();
                operations.push(self.operation(&method, path, op, shared));
                for tag in tags {
                    placed += 1;
                    match groups.iter_mut().find(|g| g.name == tag) {
                        Some(group) => group.operations.push(index),
                        None => groups.push(TagGroup {
                            name: tag.to_string(),
                            description: String::new(),
                            operations: vec![index],
                        }),
                    }
                }
            }
        }
        groups.retain(|g| !g.operations.is_empty());
        notes.extend(capped_note(total, operations.len(), "operations"));
        (operations, groups)
    }

    fn operation(
        &mut self,
        method: &str,
        path: &str,
        op: &'a Value,
        shared: Option<&'a Value>,
    ) -> Operation {
        let mut parameters: Vec<Parameter> = Vec::new();
        let mut body_params: Vec<&'a Value> = Vec::new();
        // Path-level parameters first; an operation's own parameter with the
        // same name and location replaces one.
        let resolver = self.summarizer.resolver();
        let declared = [shared, op.get("parameters")];
        for list in declared.into_iter().flatten().filter_map(Value::as_array) {
            for raw in list.iter().take(MAX_LIST) {
                let param = resolver.resolve(raw);
                if !param.is_object() {
                    continue;
                }
                let location = field(param, "in");
                if self.swagger && location == "body" {
                    body_params.retain(|p| field(p, "name") != field(param, "name"));
                    body_params.push(param);
                    continue;
                }
                let parameter = self.parameter(param, location);
                match parameters
                    .iter_mut()
                    .find(|p| p.name == parameter.name && p.location == parameter.location)
                {
                    Some(existing) => *existing = parameter,
                    None => parameters.push(parameter),
                }
            }
        }

        let request_body = if self.swagger {
            body_params.last().map(|param| RequestBody {
                description: field(param, "description"),
                required: flag(param, "required"),
                content: self.swagger_content(op, "consumes", param.get("schema")),
            })
        } else {
            op.get("requestBody").map(|raw| {
                let body = resolver.resolve(raw);
                RequestBody {
                    description: field(body, "description"),
                    required: flag(body, "required"),
                    content: self.content(body.get("content")),
                }
            })
        };

        let responses_value = op.get("responses");
        let mut responses = Vec::new();
        for (status, raw) in entries(responses_value).take(MAX_LIST) {
            let response = resolver.resolve(raw);
            let content = if self.swagger {
                self.swagger_content(op, "produces", response.get("schema"))
            } else {
                self.content(response.get("content"))
            };
            responses.push(Response {
                status: status.clone(),
                description: field(response, "description"),
                content,
            });
        }

        Operation {
            method: method.to_string(),
            path: path.to_string(),
            operation_id: field(op, "operationId"),
            summary: field(op, "summary"),
            description: field(op, "description"),
            deprecated: flag(op, "deprecated"),
            parameters,
            request_body,
            responses,
        }
    }

    fn parameter(&mut self, param: &'a Value, location: String) -> Parameter {
        let schema = match param.get("schema") {
            Some(schema) => Some(self.summarizer.summarize(schema)),
            // 3.x: `content` with one media type; Swagger: the type is on the parameter.
            None => match param.get("content").and_then(Value::as_object) {
                Some(content) => content
                    .values()
                    .next()
                    .and_then(|m| m.get("schema"))
                    .map(|s| self.summarizer.summarize(s)),
                None if param.get("type").is_some() => Some(self.summarizer.summarize(param)),
                None => None,
            },
        }
        .map(|mut s| {
            // The parameter's own description is shown in its own column.
            if s.description == field(param, "description") {
                s.description.clear();
            }
            s
        });
        Parameter {
            name: field(param, "name"),
            // Path parameters are always required, whatever the document says.
            required: location == "path" || flag(param, "required"),
            location,
            deprecated: flag(param, "deprecated"),
            description: field(param, "description"),
            schema,
        }
    }

    fn content(&mut self, content: Option<&'a Value>) -> Vec<MediaType> {
        entries(content)
            .take(MAX_LIST)
            .map(|(media_type, media)| MediaType {
                media_type: media_type.clone(),
                schema: media.get("schema").map(|s| self.summarizer.summarize(s)),
            })
            .collect::<Vec<_>>()
    }

    /// Swagger 2.0: one schema, under each media type the operation (or the
    /// document) `consumes` / `produces`.
    fn swagger_content(
        &mut self,
        op: &'a Value,
        key: &str,
        schema: Option<&'a Value>,
    ) -> Vec<MediaType> {
        let Some(schema) = schema else {
            return Vec::new();
        };
        let summary = self.summarizer.summarize(schema);
        let mut types: Vec<String> = op
            .get(key)
            .or_else(|| self.root.get(key))
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .take(8)
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if types.is_empty() {
            types.push("application/json".to_string());
        }
        types
            .into_iter()
            .map(|media_type| MediaType {
                media_type,
                schema: Some(summary.clone()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_definition, parse_document, ApiType, Definition};
    use super::*;
    use crate::apidef::schema::Stop;
    use futures::executor::block_on;

    const SHIPMENTS: &str = r##"
openapi: 3.0.3
info:
  title: Shipment API
  version: 2.4.0
  description: Books shipments.
servers:
  - url: https://api.example/shipments/v2
    description: Production
tags:
  - name: shipments
    description: Booking and reading shipments
  - name: unused
paths:
  /shipments:
    get:
      tags: [shipments]
      operationId: listShipments
      summary: List shipments
      parameters:
        - name: status
          in: query
          schema:
            $ref: '#/components/schemas/Status'
        - $ref: '#/components/parameters/Limit'
      responses:
        200:
          description: One page
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: '#/components/schemas/Shipment'
        '401':
          $ref: '#/components/responses/Unauthorized'
    post:
      tags: [shipments]
      operationId: createShipment
      summary: Book a new shipment
      deprecated: true
      requestBody:
        $ref: '#/components/requestBodies/NewShipment'
      responses:
        '201':
          description: Booked
  /shipments/{id}:
    parameters:
      - name: id
        in: path
        description: The shipment id
        schema: {type: string}
      - name: verbose
        in: query
        schema: {type: boolean}
    get:
      operationId: getShipment
      parameters:
        - name: verbose
          in: query
          required: true
          description: Overrides the path-level one
          schema: {type: boolean}
      responses:
        default:
          description: Anything
components:
  parameters:
    Limit:
      name: limit
      in: query
      schema: {type: integer, format: int32}
  requestBodies:
    NewShipment:
      required: true
      description: What to book
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Shipment'}
        application/xml:
          schema: {$ref: '#/components/schemas/Shipment'}
  responses:
    Unauthorized:
      description: Missing token
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Error'}
  schemas:
    Status: {type: string, enum: [booked, delivered]}
    Error: {type: object, properties: {message: {type: string}}}
    Shipment:
      type: object
      required: [id]
      properties:
        id: {type: string}
        status: {$ref: '#/components/schemas/Status'}
"##;

    fn openapi(text: &str) -> OpenApiDoc {
        match block_on(parse_definition(ApiType::OpenApi, text)) {
            Ok(Definition::OpenApi(doc)) => doc,
            other => panic!("not an OpenAPI doc: {other:?}"),
        }
    }

    fn find<'d>(doc: &'d OpenApiDoc, method: &str, path: &str) -> &'d Operation {
        doc.operations
            .iter()
            .find(|o| o.method == method && o.path == path)
            .unwrap()
    }

    #[test]
    fn reads_info_and_servers() {
        let doc = openapi(SHIPMENTS);
        assert_eq!(doc.version, "3.0.3");
        assert!(!doc.swagger);
        assert_eq!(doc.info.title, "Shipment API");
        assert_eq!(doc.info.version, "2.4.0");
        assert_eq!(doc.info.description, "Books shipments.");
        assert_eq!(doc.servers[0].url, "https://api.example/shipments/v2");
        assert_eq!(doc.servers[0].description, "Production");
        assert!(doc.notes.is_empty(), "{:?}", doc.notes);
    }

    #[test]
    fn groups_operations_by_tag_with_default_last() {
        let doc = openapi(SHIPMENTS);
        let groups: Vec<(&str, Vec<&str>)> = doc
            .groups
            .iter()
            .map(|g| {
                (
                    g.name.as_str(),
                    g.operations
                        .iter()
                        .map(|&i| doc.operations[i].operation_id.as_str())
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            groups,
            [
                ("shipments", vec!["listShipments", "createShipment"]),
                ("default", vec!["getShipment"])
            ]
        );
        assert_eq!(doc.groups[0].description, "Booking and reading shipments");
    }

    #[test]
    fn parameters_resolve_refs_and_merge_path_level_ones() {
        let doc = openapi(SHIPMENTS);
        let list = find(&doc, "get", "/shipments");
        let params: Vec<(&str, &str, String)> = list
            .parameters
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.location.as_str(),
                    p.schema.as_ref().unwrap().short_label(),
                )
            })
            .collect();
        assert_eq!(
            params,
            [
                ("status", "query", "Status".to_string()),
                ("limit", "query", "integer (int32)".to_string())
            ]
        );
        assert_eq!(
            list.parameters[0].schema.as_ref().unwrap().enum_values,
            ["booked", "delivered"]
        );

        let get = find(&doc, "get", "/shipments/{id}");
        assert_eq!(get.parameters.len(), 2);
        assert_eq!(get.parameters[0].name, "id");
        assert!(get.parameters[0].required, "path parameters are required");
        assert_eq!(get.parameters[0].description, "The shipment id");
        assert!(get.parameters[1].required);
        assert_eq!(
            get.parameters[1].description,
            "Overrides the path-level one"
        );
        assert_eq!(get.responses[0].status, "default");
    }

    #[test]
    fn request_bodies_and_responses_carry_schemas() {
        let doc = openapi(SHIPMENTS);
        let post = find(&doc, "post", "/shipments");
        assert!(post.deprecated);
        assert_eq!(post.summary, "Book a new shipment");
        let body = post.request_body.as_ref().unwrap();
        assert!(body.required);
        assert_eq!(body.description, "What to book");
        let types: Vec<&str> = body.content.iter().map(|m| m.media_type.as_str()).collect();
        assert_eq!(types, ["application/json", "application/xml"]);
        let schema = body.content[0].schema.as_ref().unwrap();
        assert_eq!(schema.ref_name.as_deref(), Some("Shipment"));
        assert_eq!(schema.properties[0].name, "id");

        let list = find(&doc, "get", "/shipments");
        assert_eq!(list.responses[0].status, "200");
        assert_eq!(
            list.responses[0].content[0]
                .schema
                .as_ref()
                .unwrap()
                .type_label(),
            "array of Shipment"
        );
        assert_eq!(list.responses[1].status, "401");
        assert_eq!(list.responses[1].description, "Missing token");
        assert_eq!(
            list.responses[1].content[0]
                .schema
                .as_ref()
                .unwrap()
                .ref_name
                .as_deref(),
            Some("Error")
        );
    }

    #[test]
    fn swagger_two_is_read_best_effort() {
        let doc = openapi(
            r##"
swagger: "2.0"
info: {title: Pets, version: "1.0"}
host: pets.example
basePath: /v1
schemes: [https, http]
produces: [application/json]
paths:
  /pets:
    post:
      operationId: addPet
      parameters:
        - name: pet
          in: body
          required: true
          schema: {$ref: '#/definitions/Pet'}
        - name: dryRun
          in: query
          type: boolean
      responses:
        200:
          description: The pet
          schema: {$ref: '#/definitions/Pet'}
definitions:
  Pet: {type: object, properties: {name: {type: string}}}
"##,
        );
        assert!(doc.swagger);
        assert_eq!(doc.version, "2.0");
        let urls: Vec<&str> = doc.servers.iter().map(|s| s.url.as_str()).collect();
        assert_eq!(urls, ["https://pets.example/v1", "http://pets.example/v1"]);
        let add = find(&doc, "post", "/pets");
        assert_eq!(add.parameters.len(), 1);
        assert_eq!(
            add.parameters[0].schema.as_ref().unwrap().short_label(),
            "boolean"
        );
        let body = add.request_body.as_ref().unwrap();
        assert_eq!(body.content[0].media_type, "application/json");
        assert_eq!(
            body.content[0].schema.as_ref().unwrap().ref_name.as_deref(),
            Some("Pet")
        );
        assert_eq!(
            add.responses[0].content[0]
                .schema
                .as_ref()
                .unwrap()
                .properties[0]
                .name,
            "name"
        );
    }

    #[test]
    fn documents_of_the_wrong_kind_or_version_are_flagged() {
        let error =
            parse(&block_on(parse_document("info: {title: x}\npaths: {}\n")).unwrap()).unwrap_err();
        assert!(error.message.contains("not an OpenAPI document"));
        let odd = openapi("openapi: 4.0.0\npaths: {}\n");
        assert_eq!(odd.notes.len(), 1);
        assert!(odd.notes[0].contains("4.0.0"));
    }

    #[test]
    fn malformed_sections_are_skipped_not_fatal() {
        let doc = openapi(
            r##"
openapi: 3.1.0
servers: "not a list"
tags: {a: b}
paths:
  /a: "not an object"
  /b:
    get: [1, 2]
    post:
      tags: "not a list"
      parameters: [1, "x", {$ref: '#/nowhere'}, {name: p, in: query}]
      requestBody: 7
      responses: [1, 2]
    x-extension: {get: 1}
    summary: a path summary
  /c:
    $ref: '#/paths/~1c'
"##,
        );
        assert!(doc.servers.is_empty());
        assert_eq!(doc.operations.len(), 1);
        let post = &doc.operations[0];
        assert_eq!(post.method, "post");
        assert_eq!(post.parameters.len(), 1);
        assert_eq!(post.parameters[0].schema, None);
        assert_eq!(post.request_body.as_ref().unwrap().content, []);
        assert!(post.responses.is_empty());
        assert_eq!(doc.groups[0].name, DEFAULT_TAG);
    }

    #[test]
    fn cyclic_and_missing_refs_do_not_hang() {
        let doc = openapi(
            r##"
openapi: 3.0.0
paths:
  /tree:
    get:
      parameters:
        - $ref: '#/components/parameters/A'
      responses:
        '200':
          $ref: '#/components/responses/R'
        '500':
          $ref: '#/components/responses/Missing'
components:
  parameters:
    A: {$ref: '#/components/parameters/B'}
    B: {$ref: '#/components/parameters/A'}
  responses:
    R:
      description: A tree
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Node'}
  schemas:
    Node:
      type: object
      properties:
        children: {type: array, items: {$ref: '#/components/schemas/Node'}}
"##,
        );
        let op = &doc.operations[0];
        assert!(op.parameters.is_empty());
        let node = op.responses[0].content[0].schema.as_ref().unwrap();
        let items = node.properties[0].schema.items.as_ref().unwrap();
        assert_eq!(items.stop, Some(Stop::Recursive));
        assert_eq!(op.responses[1].description, "");
    }

    #[test]
    fn huge_path_lists_are_capped_with_a_note() {
        let mut text = String::from("openapi: 3.0.0\npaths:\n");
        for i in 0..(MAX_OPERATIONS + 20) {
            text.push_str(&format!("  /p{i}:\n    get:\n      responses: {{}}\n"));
        }
        let doc = openapi(&text);
        assert_eq!(doc.operations.len(), MAX_OPERATIONS);
        assert_eq!(
            doc.notes,
            [format!(
                "Only the first {MAX_OPERATIONS} of {} operations are shown.",
                MAX_OPERATIONS + 20
            )]
        );
    }

    #[test]
    fn tags_per_operation_are_bounded() {
        let tags: Vec<String> = (0..100).map(|i| format!("t{i}")).collect();
        let text = format!(
            "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      tags: [{}]\n      responses: {{}}\n",
            tags.join(", ")
        );
        let doc = openapi(&text);
        assert_eq!(doc.groups.len(), MAX_TAGS_PER_OPERATION);
    }

    #[test]
    fn the_demo_json_form_parses_too() {
        let doc = openapi(
            r##"{"openapi": "3.0.0", "info": {"title": "J", "version": 1},
                "paths": {"/x": {"delete": {"operationId": "del", "tags": ["t"],
                 "responses": {"204": {"description": "gone"}}}}}}"##,
        );
        assert_eq!(doc.info.version, "1");
        assert_eq!(doc.operations[0].method, "delete");
        assert_eq!(doc.groups[0].name, "t");
    }
}
