//! RFC 8785 (JSON Canonicalization Scheme) serialization.
//!
//! Job input is hashed and given to guests as canonical JSON, so `{"b":1,"a":2}` and
//! `{ "a": 2, "b": 1.0 }` are the same input with the same `inputHash`. The rules:
//! object members sorted by the UTF-16 code units of their names, no insignificant
//! whitespace, numbers written as ECMAScript's `Number.prototype.toString` writes the
//! IEEE-754 double (so `1.0` is `1`, `1e21` is `1e+21`), strings with only the mandatory
//! escapes. This is also what JavaScript's `JSON.stringify` gives for such values, which keeps
//! guests and hosts in agreement.

use serde_json::Value;

use crate::{Error, Result};

/// Serializes `value` as RFC 8785 canonical JSON.
pub fn to_canonical_string(value: &Value) -> Result<String> {
    let mut out = String::new();
    write_value(value, &mut out)?;
    Ok(out)
}

fn write_value(value: &Value, out: &mut String) -> Result<()> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_value(v, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_number(n: &serde_json::Number, out: &mut String) -> Result<()> {
    let f = n.as_f64().ok_or_else(|| Error::Number(n.to_string()))?;
    if !f.is_finite() {
        return Err(Error::Number(n.to_string()));
    }
    if f == 0.0 {
        // ECMAScript writes both zeros as "0".
        out.push('0');
        return Ok(());
    }
    let mut buf = ryu_js::Buffer::new();
    out.push_str(buf.format_finite(f));
    Ok(())
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(text: &str) -> String {
        to_canonical_string(&serde_json::from_str(text).unwrap()).unwrap()
    }

    #[test]
    fn sorts_keys_and_drops_whitespace() {
        assert_eq!(
            canon(r#"{ "b": 1, "a": [true, null, "x"] }"#),
            r#"{"a":[true,null,"x"],"b":1}"#
        );
    }

    #[test]
    fn numbers_follow_ecmascript() {
        assert_eq!(
            canon("[1.0, -0, 1e21, 1e-7, 0.1, 123456789012345678, 4.5e-324]"),
            "[1,0,1e+21,1e-7,0.1,123456789012345680,5e-324]"
        );
    }

    #[test]
    fn keys_sort_by_utf16_code_units() {
        // U+1F600 (surrogates D83D DE00) sorts before U+FB01 in UTF-16 but after it in UTF-8.
        let v = json!({"\u{fb01}": 1, "\u{1f600}": 2});
        assert_eq!(
            to_canonical_string(&v).unwrap(),
            "{\"\u{1f600}\":2,\"\u{fb01}\":1}"
        );
    }

    #[test]
    fn escapes_only_what_is_mandatory() {
        let v = json!("a\"\\\n\u{1}\u{2028}é");
        assert_eq!(
            to_canonical_string(&v).unwrap(),
            "\"a\\\"\\\\\\n\\u0001\u{2028}é\""
        );
    }

    #[test]
    fn rfc8785_appendix_example() {
        let text = r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}"#;
        assert_eq!(
            canon(text),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }
}
