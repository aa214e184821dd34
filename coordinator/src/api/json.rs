//! Request bodies: read within a route's limit ([`body`]) and, as JSON objects, strictly: a
//! duplicate key anywhere is a 400 naming it ([`object`]).
//!
//! `serde_json::Value` keeps the last of two equal keys, so `{"code": A, "code": B}` would run
//! B while the client may have meant A. A notary must not guess what it was asked to run, so
//! every JSON body read as a map goes through [`object`], which refuses duplicates at any
//! depth (as derived deserializers already do for their own fields).

use std::cell::RefCell;
use std::fmt;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Map, Number, Value};

use super::error::ApiError;

/// The request body of a route limited to `limit` bytes: 413 past it, 400 if it could not be
/// read.
pub fn body(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(limit, None),
        _ => ApiError::BadRequest {
            message: format!("could not read the request body: {e}"),
            params: json!({}),
        },
    })?;
    if body.len() > limit {
        return Err(too_large(limit, Some(body.len())));
    }
    Ok(body)
}

fn too_large(limit: usize, size: Option<usize>) -> ApiError {
    let mut params = json!({ "limit": limit });
    if let Some(size) = size {
        params["size"] = json!(size);
    }
    ApiError::PayloadTooLarge {
        message: format!("request body exceeds {limit} bytes"),
        params,
    }
}

/// Parses `body` as a JSON object; 400 for invalid JSON, another type, or a duplicate key
/// (`params.field` names it, `params.reason` is `duplicate_key`).
pub fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match value(body)? {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::BadRequest {
            message: "request body must be a JSON object".into(),
            params: json!({}),
        }),
    }
}

/// Parses `body` as any JSON value, refusing duplicate keys at any depth (as [`object`]).
pub fn value(body: &[u8]) -> Result<Value, ApiError> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = Strict(&duplicate)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(v) => Ok(v),
        Err(e) => Err(match duplicate.into_inner() {
            Some(key) => ApiError::BadRequest {
                message: format!("duplicate key {key:?} in the request body: send each field once"),
                params: json!({"field": key, "reason": "duplicate_key"}),
            },
            None => ApiError::BadRequest {
                message: format!("request body is not valid JSON: {e}"),
                params: json!({"line": e.line(), "column": e.column()}),
            },
        }),
    }
}

/// Refuses a field of `fields` that is not in `supported`: 400 naming it (`params.field`,
/// `params.reason` `unknown_field`, `params.supported`). A notary must not ignore what a
/// client asked for, such as a misspelt option.
pub fn only(fields: &Map<String, Value>, supported: &[&str]) -> Result<(), ApiError> {
    match fields.keys().find(|k| !supported.contains(&k.as_str())) {
        Some(unknown) => Err(ApiError::field_with(
            unknown,
            format!("unknown field {unknown:?}"),
            json!({"reason": "unknown_field", "supported": supported}),
        )),
        None => Ok(()),
    }
}

/// A JSON value with duplicate keys refused; the first duplicate is recorded.
#[derive(Clone, Copy)]
struct Strict<'a>(&'a RefCell<Option<String>>);

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                let message = format!("duplicate key {key:?}");
                *self.0.borrow_mut() = Some(key);
                return Err(A::Error::custom(message));
            }
            let value = map.next_value_seed(self)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_refused_at_any_depth() {
        for (body, key) in [
            (r#"{"code":"a","code":"b"}"#, "code"),
            (r#"{"inputData":{"x":1,"x":2}}"#, "x"),
            (r#"{"a":[{"k":1,"k":1}]}"#, "k"),
        ] {
            match object(body.as_bytes()) {
                Err(ApiError::BadRequest { params, .. }) => {
                    assert_eq!(params["field"], key, "{body}");
                    assert_eq!(params["reason"], "duplicate_key");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn ordinary_bodies_parse_as_before() {
        let body =
            r#"{"code":"x","inputData":{"a":[1,2.5,-3,true,null,"s"],"big":18446744073709551615}}"#;
        let strict = object(body.as_bytes()).unwrap();
        let plain: Map<String, Value> = serde_json::from_str(body).unwrap();
        assert_eq!(strict, plain);
        assert!(matches!(object(b"[1]"), Err(ApiError::BadRequest { .. })));
        assert!(matches!(object(b"{} x"), Err(ApiError::BadRequest { .. })));
        assert!(matches!(
            object(b"{\"a\":"),
            Err(ApiError::BadRequest { .. })
        ));
    }
}
