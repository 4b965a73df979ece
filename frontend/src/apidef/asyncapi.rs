//! AsyncAPI 2.x and 3.x documents as channels, each with its operations
//! (2.x `publish` / `subscribe`, 3.x `send` / `receive`) and their messages.

use super::schema::{ref_name, ref_of, Resolver, Schema, Summarizer};
use super::{capped_note, entries, field, info_of, DefinitionError, Info, Server, MAX_LIST};
use serde_json::Value;

/// Channels read from one document.
pub const MAX_CHANNELS: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub struct AsyncApiDoc {
    /// `2.6.0`, `3.0.0`...
    pub version: String,
    pub info: Info,
    pub servers: Vec<Server>,
    pub channels: Vec<Channel>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// The channel's key (2.x: its address too).
    pub name: String,
    /// 3.x `address` when it differs from the key.
    pub address: String,
    pub description: String,
    pub operations: Vec<AsyncOperation>,
    /// Messages of the channel that no operation shown here uses (3.x).
    pub messages: Vec<Message>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AsyncOperation {
    /// `operationId` (2.x) or the operation's key (3.x); may be empty.
    pub id: String,
    /// `publish`, `subscribe`, `send` or `receive`.
    pub action: String,
    pub summary: String,
    pub description: String,
    pub messages: Vec<Message>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub name: String,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub content_type: String,
    pub payload: Option<Schema>,
}

/// Reads an AsyncAPI document.
pub fn parse(root: &Value) -> Result<AsyncApiDoc, DefinitionError> {
    let Some(version) = root.get("asyncapi").map(|v| super::text(Some(v))) else {
        let hint = if root.get("openapi").is_some() || root.get("swagger").is_some() {
            " It looks like an OpenAPI document; check spec.type."
        } else {
            ""
        };
        return Err(DefinitionError {
            message: format!(
                "The definition is not an AsyncAPI document: it has no \"asyncapi\" version field.{hint}"
            ),
            line: None,
        });
    };
    let mut notes = Vec::new();
    let v3 = version.starts_with('3');
    if !v3 && !version.starts_with('2') {
        notes.push(format!(
            "AsyncAPI version \"{version}\" is not one this page knows; it is shown as well as it can be."
        ));
    }
    let mut reader = Reader {
        summarizer: Summarizer::new(root),
        resolver: Resolver::new(root),
        default_content_type: field(root, "defaultContentType"),
    };
    let total = root
        .get("channels")
        .and_then(Value::as_object)
        .map_or(0, |c| c.len());
    notes.extend(capped_note(total, total.min(MAX_CHANNELS), "channels"));
    let channels = if v3 {
        reader.channels_v3(root, &mut notes)
    } else {
        reader.channels_v2(root)
    };
    Ok(AsyncApiDoc {
        version,
        info: info_of(root),
        servers: servers(root, v3),
        channels,
        notes,
    })
}

fn servers(root: &Value, v3: bool) -> Vec<Server> {
    entries(root.get("servers"))
        .take(MAX_LIST)
        .map(|(name, server)| {
            let url = if v3 {
                format!("{}{}", field(server, "host"), field(server, "pathname"))
            } else {
                field(server, "url")
            };
            Server {
                name: name.clone(),
                url,
                protocol: field(server, "protocol"),
                description: field(server, "description"),
            }
        })
        .collect()
}

struct Reader<'a> {
    summarizer: Summarizer<'a>,
    resolver: Resolver<'a>,
    default_content_type: String,
}

impl<'a> Reader<'a> {
    fn channels_v2(&mut self, root: &'a Value) -> Vec<Channel> {
        let mut channels = Vec::new();
        for (name, raw) in entries(root.get("channels")).take(MAX_CHANNELS) {
            let channel = self.resolver.resolve(raw);
            let mut operations = Vec::new();
            for action in ["publish", "subscribe"] {
                let Some(op) = channel.get(action).filter(|op| op.is_object()) else {
                    continue;
                };
                let mut messages = Vec::new();
                if let Some(raw) = op.get("message") {
                    let message = self.resolver.resolve(raw);
                    match message.get("oneOf").and_then(Value::as_array) {
                        Some(list) => {
                            for one in list.iter().take(MAX_LIST) {
                                messages.push(self.message(one, ""));
                            }
                        }
                        None => messages.push(self.message(raw, "")),
                    }
                }
                operations.push(AsyncOperation {
                    id: field(op, "operationId"),
                    action: action.to_string(),
                    summary: field(op, "summary"),
                    description: field(op, "description"),
                    messages,
                });
            }
            channels.push(Channel {
                name: name.clone(),
                address: String::new(),
                description: field(channel, "description"),
                operations,
                messages: Vec::new(),
            });
        }
        channels
    }

    fn channels_v3(&mut self, root: &'a Value, notes: &mut Vec<String>) -> Vec<Channel> {
        // Channel keys, for matching operations (`channel: {$ref: '#/channels/x'}`).
        let mut keys: Vec<&'a str> = Vec::new();
        let mut channels = Vec::new();
        for (key, raw) in entries(root.get("channels")).take(MAX_CHANNELS) {
            let channel = self.resolver.resolve(raw);
            let address = field(channel, "address");
            keys.push(key);
            channels.push(Channel {
                name: key.clone(),
                address: if address == *key {
                    String::new()
                } else {
                    address
                },
                description: field(channel, "description"),
                operations: Vec::new(),
                messages: Vec::new(),
            });
        }
        // Message keys each channel's operations use.
        let mut used: Vec<Vec<String>> = vec![Vec::new(); channels.len()];
        let mut all_used = vec![false; channels.len()];
        let total_operations = root
            .get("operations")
            .and_then(Value::as_object)
            .map_or(0, |o| o.len());
        let max_operations = MAX_CHANNELS * 4;
        notes.extend(capped_note(
            total_operations,
            total_operations.min(max_operations),
            "operations",
        ));
        for (id, raw) in entries(root.get("operations")).take(max_operations) {
            let op = self.resolver.resolve(raw);
            let channel_ref = op.get("channel").and_then(ref_of).unwrap_or_default();
            let key = channel_ref
                .strip_prefix("#/channels/")
                .map(|_| ref_name(channel_ref))
                .unwrap_or_default();
            let Some(index) = keys.iter().position(|k| *k == key) else {
                notes.push(format!(
                    "Operation \"{id}\" refers to a channel that is not in the document ({})",
                    if channel_ref.is_empty() {
                        "none given"
                    } else {
                        channel_ref
                    }
                ));
                continue;
            };
            let channel_messages = self
                .resolver
                .resolve(&root["channels"][keys[index]])
                .get("messages");
            let mut messages = Vec::new();
            match op.get("messages").and_then(Value::as_array) {
                Some(list) => {
                    for raw in list.iter().take(MAX_LIST) {
                        let reference = ref_of(raw).unwrap_or_default();
                        if reference.starts_with(&format!("{channel_ref}/messages/")) {
                            used[index].push(ref_name(reference));
                        }
                        messages.push(self.message(raw, ""));
                    }
                }
                // No list: every message of the channel.
                None => {
                    all_used[index] = true;
                    for (key, raw) in entries(channel_messages).take(MAX_LIST) {
                        messages.push(self.message(raw, key));
                    }
                }
            }
            channels[index].operations.push(AsyncOperation {
                id: id.clone(),
                action: field(op, "action"),
                summary: field(op, "summary"),
                description: field(op, "description"),
                messages,
            });
        }
        // Messages the channel declares that its operations do not show.
        for (index, key) in keys.iter().enumerate() {
            if all_used[index] {
                continue;
            }
            let channel = self.resolver.resolve(&root["channels"][*key]);
            for (name, raw) in entries(channel.get("messages")).take(MAX_LIST) {
                if !used[index].contains(name) {
                    let message = self.message(raw, name);
                    channels[index].messages.push(message);
                }
            }
        }
        channels
    }

    /// A message (or a reference to one); `key` names it when it has no name.
    fn message(&mut self, raw: &'a Value, key: &str) -> Message {
        let message = self.resolver.resolve(raw);
        let name = [field(message, "name"), field(message, "messageId")]
            .into_iter()
            .find(|n| !n.is_empty())
            .or_else(|| ref_of(raw).map(ref_name))
            .unwrap_or_else(|| key.to_string());
        let content_type = match field(message, "contentType") {
            t if t.is_empty() => self.default_content_type.clone(),
            t => t,
        };
        // 3.x allows a multi-format schema: `{schemaFormat, schema}`.
        let payload =
            message
                .get("payload")
                .map(|p| match (p.get("schemaFormat"), p.get("schema")) {
                    (Some(_), Some(schema)) => schema,
                    _ => p,
                });
        Message {
            name,
            title: field(message, "title"),
            summary: field(message, "summary"),
            description: field(message, "description"),
            content_type,
            payload: payload.map(|p| self.summarizer.summarize(p)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_definition, ApiType, Definition};
    use super::*;
    use futures::executor::block_on;

    fn asyncapi(text: &str) -> AsyncApiDoc {
        match block_on(parse_definition(ApiType::AsyncApi, text)) {
            Ok(Definition::AsyncApi(doc)) => doc,
            other => panic!("not an AsyncAPI doc: {other:?}"),
        }
    }

    const V2: &str = r##"
asyncapi: 2.6.0
info: {title: Tracking events, version: 1.2.0, description: Parcel scans.}
servers:
  production:
    url: kafka-1.example:9093
    protocol: kafka-secure
    description: Production Kafka
defaultContentType: application/json
channels:
  tracking.events.v1:
    description: Every scan.
    publish:
      operationId: publishScan
      summary: Scan Ingest publishes.
      message:
        oneOf:
          - $ref: '#/components/messages/ParcelScanned'
          - $ref: '#/components/messages/DeliveryFailed'
    subscribe:
      operationId: consumeScan
      message:
        $ref: '#/components/messages/ParcelScanned'
  empty: {}
components:
  messages:
    ParcelScanned:
      name: ParcelScanned
      title: A parcel was scanned
      contentType: application/avro
      payload: {$ref: '#/components/schemas/Scan'}
    DeliveryFailed:
      title: A delivery attempt failed
      payload:
        type: object
        required: [reason]
        properties:
          reason: {type: string, enum: [not_home, refused]}
  schemas:
    Scan:
      type: object
      properties:
        depot: {type: string}
"##;

    #[test]
    fn reads_a_two_x_document() {
        let doc = asyncapi(V2);
        assert_eq!(doc.version, "2.6.0");
        assert_eq!(doc.info.title, "Tracking events");
        assert_eq!(
            doc.servers,
            [Server {
                name: "production".into(),
                url: "kafka-1.example:9093".into(),
                protocol: "kafka-secure".into(),
                description: "Production Kafka".into()
            }]
        );
        assert_eq!(doc.channels.len(), 2);
        let events = &doc.channels[0];
        assert_eq!(events.name, "tracking.events.v1");
        assert_eq!(events.description, "Every scan.");
        let ops: Vec<(&str, &str, usize)> = events
            .operations
            .iter()
            .map(|o| (o.id.as_str(), o.action.as_str(), o.messages.len()))
            .collect();
        assert_eq!(
            ops,
            [
                ("publishScan", "publish", 2),
                ("consumeScan", "subscribe", 1)
            ]
        );
        let scanned = &events.operations[0].messages[0];
        assert_eq!(scanned.name, "ParcelScanned");
        assert_eq!(scanned.title, "A parcel was scanned");
        assert_eq!(scanned.content_type, "application/avro");
        assert_eq!(
            scanned.payload.as_ref().unwrap().ref_name.as_deref(),
            Some("Scan")
        );
        let failed = &events.operations[0].messages[1];
        // Named after its reference; the default content type applies.
        assert_eq!(failed.name, "DeliveryFailed");
        assert_eq!(failed.content_type, "application/json");
        assert_eq!(
            failed.payload.as_ref().unwrap().properties[0]
                .schema
                .enum_values,
            ["not_home", "refused"]
        );
        assert!(doc.channels[1].operations.is_empty());
    }

    const V3: &str = r##"
asyncapi: 3.0.0
info: {title: Orders, version: 1.0.0}
servers:
  prod: {host: broker.example:5672, pathname: /orders, protocol: amqp}
channels:
  orderPlaced:
    address: orders.placed
    description: Orders as they are placed.
    messages:
      OrderPlaced:
        payload: {type: object, properties: {id: {type: string}}}
      OrderAudit:
        name: Audit
        payload:
          schemaFormat: application/schema+json;version=draft-07
          schema: {type: string}
  lonely:
    address: lonely
    messages:
      Ping: {payload: {type: string}}
operations:
  sendOrderPlaced:
    action: send
    channel: {$ref: '#/channels/orderPlaced'}
    summary: The shop sends new orders.
    messages:
      - $ref: '#/channels/orderPlaced/messages/OrderPlaced'
  receiveLonely:
    action: receive
    channel: {$ref: '#/channels/lonely'}
  broken:
    action: send
    channel: {$ref: '#/channels/nope'}
"##;

    #[test]
    fn reads_a_three_x_document() {
        let doc = asyncapi(V3);
        assert_eq!(doc.servers[0].url, "broker.example:5672/orders");
        assert_eq!(doc.servers[0].protocol, "amqp");
        let placed = &doc.channels[0];
        assert_eq!(placed.name, "orderPlaced");
        assert_eq!(placed.address, "orders.placed");
        assert_eq!(placed.operations.len(), 1);
        let send = &placed.operations[0];
        assert_eq!(
            (send.id.as_str(), send.action.as_str()),
            ("sendOrderPlaced", "send")
        );
        assert_eq!(send.summary, "The shop sends new orders.");
        assert_eq!(send.messages[0].name, "OrderPlaced");
        assert_eq!(
            send.messages[0].payload.as_ref().unwrap().properties[0].name,
            "id"
        );
        // The message no operation uses is still listed, on the channel.
        assert_eq!(placed.messages.len(), 1);
        assert_eq!(placed.messages[0].name, "Audit");
        assert_eq!(
            placed.messages[0].payload.as_ref().unwrap().type_name,
            "string"
        );

        let lonely = &doc.channels[1];
        assert_eq!(lonely.address, "");
        assert_eq!(lonely.operations[0].messages[0].name, "Ping");
        assert!(lonely.messages.is_empty());
        assert_eq!(doc.notes.len(), 1);
        assert!(doc.notes[0].contains("broken"), "{:?}", doc.notes);
    }

    #[test]
    fn wrong_kinds_and_garbage_are_handled() {
        let error = block_on(parse_definition(ApiType::AsyncApi, "openapi: 3.0.0\n")).unwrap_err();
        assert!(error.message.contains("OpenAPI document"), "{error}");
        let doc = asyncapi(
            "asyncapi: 2.0.0\nchannels:\n  a: 1\n  b:\n    publish: 2\n    subscribe:\n      message: [1]\n  c: {$ref: '#/channels/c'}\noperations: 5\n",
        );
        assert_eq!(doc.channels.len(), 3);
        assert_eq!(doc.channels[1].operations.len(), 1);
        assert_eq!(doc.channels[1].operations[0].messages[0].payload, None);
        let odd = asyncapi("asyncapi: 9.0.0\n");
        assert!(odd.notes[0].contains("9.0.0"));
        let v3 = asyncapi("asyncapi: 3.0.0\noperations:\n  x: {action: send}\n  y: 3\n");
        assert_eq!(v3.notes.len(), 2);
    }

    #[test]
    fn huge_channel_lists_are_capped() {
        let mut text = String::from("asyncapi: 2.6.0\nchannels:\n");
        for i in 0..(MAX_CHANNELS + 5) {
            text.push_str(&format!(
                "  c{i}:\n    subscribe: {{message: {{payload: {{type: string}}}}}}\n"
            ));
        }
        let doc = asyncapi(&text);
        assert_eq!(doc.channels.len(), MAX_CHANNELS);
        assert!(doc.notes[0].contains(&format!("{} channels", MAX_CHANNELS + 5)));
    }
}
