//! The task types of source document 002 beyond plain `code-execution`, built as JavaScript
//! the coordinator generates around the user's code. The QuickJS runtime is unchanged (its
//! pinned hash and fuel goldens stay valid), and the generated program is what the job's
//! `codeHash` covers, so the attestation binds the task type as well as the user's code.
//!
//! - `data-transformation` ([`data_transformation_program`]): the code is a JavaScript
//!   function applied to `inputData`; the output, and so the hash, is the RFC 8785 canonical
//!   JSON of its return value.
//! - `api-replay` ([`api_replay_program`]): `inputData.exchanges` is a recorded HTTP
//!   transcript ([`check_transcript`]); `fetch()` inside the guest is answered from it and
//!   never reaches a network; the output is what the program prints.

use serde_json::{json, Value};

use crate::error::Rejected;

/// The wrapper of a data-transformation job; `/*NOTARY_SOURCE*/` becomes the user's code as
/// a JSON string literal.
const TRANSFORM_JS: &str = include_str!("transform.js");
/// The prelude of an api-replay job.
const REPLAY_JS: &str = include_str!("replay.js");

/// Most exchanges in one transcript.
pub const MAX_EXCHANGES: usize = 1000;

/// The program that runs a data-transformation job for `source`.
pub fn data_transformation_program(source: &str) -> String {
    let literal = serde_json::to_string(source).expect("a string serializes");
    TRANSFORM_JS.replace("/*NOTARY_SOURCE*/", &literal)
}

/// The program that runs an api-replay job for `source`: the prelude on the first line (so
/// the user's line numbers are unchanged), then the user's code.
pub fn api_replay_program(source: &str) -> String {
    let prelude: Vec<&str> = REPLAY_JS.lines().map(str::trim).collect();
    format!("{} {source}", prelude.join(" "))
}

/// Checks an api-replay transcript: `inputData` must be an object whose `exchanges` is an
/// array of `{request: {method?, url, headers?, body?}, response: {status, headers?, body?}}`.
pub fn check_transcript(input: Option<&Value>) -> Result<(), Rejected> {
    let bad = |message: String| {
        Rejected::field_with(
            "inputData",
            message,
            json!({"expected": "{\"exchanges\": [{\"request\": {\"method\", \"url\", \"headers\", \"body\"}, \"response\": {\"status\", \"headers\", \"body\"}}]}"}),
        )
    };
    let Some(exchanges) = input.and_then(|v| v.get("exchanges")) else {
        return Err(bad(
            "taskType api-replay needs inputData.exchanges, the recorded HTTP transcript".into(),
        ));
    };
    let Value::Array(exchanges) = exchanges else {
        return Err(bad("inputData.exchanges must be an array".into()));
    };
    if exchanges.len() > MAX_EXCHANGES {
        return Err(bad(format!(
            "inputData.exchanges has {} entries; the limit is {MAX_EXCHANGES}",
            exchanges.len()
        )));
    }
    for (i, exchange) in exchanges.iter().enumerate() {
        let at = |what: &str| format!("inputData.exchanges[{i}]{what}");
        let request = exchange
            .get("request")
            .filter(|r| r.is_object())
            .ok_or_else(|| bad(format!("{} must be an object", at(".request"))))?;
        let response = exchange
            .get("response")
            .filter(|r| r.is_object())
            .ok_or_else(|| bad(format!("{} must be an object", at(".response"))))?;
        if !request.get("url").is_some_and(Value::is_string) {
            return Err(bad(format!("{} must be a string", at(".request.url"))));
        }
        match request.get("method") {
            None | Some(Value::Null) => {}
            Some(Value::String(m))
                if !m.is_empty() && m.chars().all(|c| c.is_ascii_alphabetic()) => {}
            Some(_) => {
                return Err(bad(format!(
                    "{} must be an HTTP method such as \"GET\"",
                    at(".request.method")
                )))
            }
        }
        let status = response.get("status").and_then(Value::as_u64);
        if !status.is_some_and(|s| (100..=599).contains(&s)) {
            return Err(bad(format!(
                "{} must be an integer from 100 to 599",
                at(".response.status")
            )));
        }
        for (part, value) in [
            (".request.headers", request),
            (".response.headers", response),
        ] {
            match value.get("headers") {
                None | Some(Value::Null) => {}
                Some(Value::Object(h)) if h.values().all(Value::is_string) => {}
                Some(_) => return Err(bad(format!("{} must be an object of strings", at(part)))),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_is_embedded_as_a_string_literal() {
        let program = data_transformation_program("(x) => \"*/ \\n\" + x");
        assert!(program.contains(r#"})("(x) => \"*/ \\n\" + x", require);"#));
        assert!(!program.contains("/*NOTARY_SOURCE*/"));
    }

    #[test]
    fn the_replay_prelude_keeps_user_line_numbers() {
        let program = api_replay_program("a();\nb();");
        assert_eq!(program.lines().count(), 2);
        assert!(program.ends_with(" a();\nb();"));
    }

    #[test]
    fn transcripts_are_checked_field_by_field() {
        let ok =
            json!({"exchanges": [{"request": {"url": "https://x/"}, "response": {"status": 200}}]});
        assert!(check_transcript(Some(&ok)).is_ok());
        for (input, needle) in [
            (json!({}), "inputData.exchanges"),
            (json!({"exchanges": {}}), "must be an array"),
            (
                json!({"exchanges": [{"response": {"status": 200}}]}),
                "exchanges[0].request",
            ),
            (
                json!({"exchanges": [{"request": {}, "response": {"status": 200}}]}),
                "request.url",
            ),
            (
                json!({"exchanges": [{"request": {"url": "u", "method": "G T"}, "response": {"status": 200}}]}),
                "request.method",
            ),
            (
                json!({"exchanges": [{"request": {"url": "u"}, "response": {"status": 42}}]}),
                "response.status",
            ),
            (
                json!({"exchanges": [{"request": {"url": "u", "headers": {"a": 1}}, "response": {"status": 200}}]}),
                "request.headers",
            ),
        ] {
            let Rejected::Invalid { message, .. } = check_transcript(Some(&input)).unwrap_err()
            else {
                panic!("not a 400");
            };
            assert!(message.contains(needle), "{message} lacks {needle}");
        }
        assert!(check_transcript(None).is_err());
    }
}
