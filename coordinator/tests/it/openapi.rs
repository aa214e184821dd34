//! `/openapi.json`: generated from the handlers, complete, and true to real answers.
//! (The property-based fuzzing against it is `scripts/api-fuzz.sh`, run by CI.)

use serde_json::Value;

use crate::support::*;

async fn document(c: &Coordinator) -> Value {
    let (status, doc) = c.get("/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_described_and_every_described_route_is_served() {
    let c = Coordinator::embedded(1).await;
    let doc = document(&c).await;
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/verify", "post"),
        ("/verify/{id}", "get"),
        ("/health", "get"),
        ("/ready", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/webhooks/register", "post"),
        ("/webhooks/{id}", "get"),
        ("/webhooks/{id}", "delete"),
        ("/webhooks/{id}/deliveries", "get"),
    ] {
        assert!(paths[path].get(method).is_some(), "{method} {path} missing");
    }
    // Each described operation is answered by a handler, not by the 404 fallback.
    for (path, ops) in paths {
        let concrete = path.replace("{id}", &uuid::Uuid::new_v4().to_string());
        for method in ops.as_object().unwrap().keys() {
            let req = match method.as_str() {
                "get" => client().get(format!("{}{concrete}", c.url)),
                "post" => client()
                    .post(format!("{}{concrete}", c.url))
                    .json(&hello(HELLO_HASH)),
                "delete" => client().delete(format!("{}{concrete}", c.url)),
                other => panic!("add {other} here"),
            };
            let resp = req.send().await.unwrap();
            let text = resp.text().await.unwrap();
            assert!(
                !text.contains("no route for"),
                "{method} {path} is described but not routed"
            );
        }
    }
    // And the other way round: no route bypasses the description. Routes are registered
    // with `utoipa_axum::routes!`; a plain axum `.route(` in the API sources would not be
    // described.
    let api_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    for entry in std::fs::read_dir(api_dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            if let Some(at) = line.find(".route(\"") {
                let rest = &line[at + 8..];
                let route = &rest[..rest.find('"').unwrap()];
                assert!(
                    paths.contains_key(route),
                    "{}:{}: route {route} is not in /openapi.json (register it with routes!)",
                    path.display(),
                    i + 1
                );
            }
        }
    }
    c.shutdown().await;
}

/// Real answers carry the fields the document marks as required, with the documented types.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_match_the_described_schemas() {
    let c = Coordinator::embedded(1).await;
    let doc = document(&c).await;
    let schemas = &doc["components"]["schemas"];
    let check = |schema: &str, body: &Value| {
        let s = &schemas[schema];
        for field in s["required"].as_array().unwrap() {
            let field = field.as_str().unwrap();
            assert!(
                body.get(field).is_some(),
                "{schema}.{field} missing in {body}"
            );
        }
    };
    let (status, body) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(status, 200);
    check("JobView", &body);
    let (status, body) = c
        .post("/verify", hello(HELLO_HASH), &[("prefer", "respond-async")])
        .await;
    assert_eq!(status, 202);
    check("Accepted", &body);
    let (status, body) = c.verify(serde_json::json!({"taskType": "nope"})).await;
    assert_eq!(status, 400);
    check("ErrorBody", &body);
    let (status, body) = c.get("/ready").await;
    assert_eq!(status, 200);
    check("ReadyBody", &body);
    let secret = "a-secret-of-at-least-24-bytes";
    let (status, body) = c
        .post(
            "/webhooks/register",
            serde_json::json!({"url": "https://93.184.215.14/hook", "events": ["verification.failed"], "secret": secret}),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    check("WebhookView", &body);
    let deliveries = client()
        .get(format!(
            "{}/webhooks/{}/deliveries",
            c.url,
            body["id"].as_str().unwrap()
        ))
        .header("authorization", format!("Bearer {secret}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deliveries.status(), 200);
    check("DeliveriesView", &deliveries.json().await.unwrap());
    // Every documented status of POST /verify is one the API can answer.
    let responses = doc["paths"]["/verify"]["post"]["responses"]
        .as_object()
        .unwrap();
    for code in ["200", "202", "400", "413", "429", "500", "503"] {
        assert!(
            responses.contains_key(code),
            "POST /verify {code} undocumented"
        );
    }
    c.shutdown().await;
}
