//! Deep merge of configuration documents: later documents win; objects merge
//! key by key, recursively; arrays and scalars replace what was there.

use serde_json::Value;

/// Merges `over` into `base` in place.
pub fn deep_merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(base_map), Value::Object(over_map)) => {
            for (key, value) in over_map {
                match base_map.get_mut(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        base_map.insert(key, value);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn later_objects_merge_and_later_scalars_and_arrays_replace() {
        let mut base = json!({
            "backend": {"listen": {"port": 7007, "host": "0.0.0.0"}, "baseUrl": "http://a"},
            "catalog": {"locations": [{"type": "file", "target": "a.yaml"}, {"type": "file", "target": "b.yaml"}]},
        });
        deep_merge(
            &mut base,
            json!({
                "backend": {"listen": {"port": 8080}},
                "catalog": {"locations": [{"type": "url", "target": "c"}]},
                "app": {"title": "T"},
            }),
        );
        assert_eq!(
            base,
            json!({
                "backend": {"listen": {"port": 8080, "host": "0.0.0.0"}, "baseUrl": "http://a"},
                "catalog": {"locations": [{"type": "url", "target": "c"}]},
                "app": {"title": "T"},
            })
        );
    }

    #[test]
    fn object_replaces_scalar_and_scalar_replaces_object() {
        let mut base = json!({"a": 1, "b": {"c": 2}});
        deep_merge(&mut base, json!({"a": {"x": 1}, "b": false}));
        assert_eq!(base, json!({"a": {"x": 1}, "b": false}));
    }
}
