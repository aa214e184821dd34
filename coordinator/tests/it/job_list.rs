//! `GET /jobs` (newest first, pages from a cursor, filtered by status; refusals name the
//! parameter) and `GET /jobs/:jobId/result` (status, result, attestations).

use serde_json::{json, Value};

use crate::support::{hello, Coordinator, HELLO_HASH};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_listed_newest_first_in_pages() {
    let c = Coordinator::embedded(1).await;
    let (_, empty) = c.get("/jobs").await;
    assert_eq!(empty, json!({"jobs": [], "nextCursor": null}));
    let mut ids = Vec::new();
    for i in 0..5 {
        let expected = if i == 2 {
            "00".repeat(32)
        } else {
            HELLO_HASH.to_string()
        };
        let (status, view) = c.verify(hello(&expected)).await;
        assert_eq!(status, 200, "{view}");
        ids.push(view["jobId"].as_str().unwrap().to_string());
    }
    ids.reverse();

    let mut seen = Vec::new();
    let mut path = "/jobs?limit=2".to_string();
    loop {
        let (status, page) = c.get(&path).await;
        assert_eq!(status, 200, "{page}");
        let jobs = page["jobs"].as_array().unwrap();
        assert!(jobs.len() <= 2);
        seen.extend(
            jobs.iter()
                .map(|j| j["jobId"].as_str().unwrap().to_string()),
        );
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/jobs?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "newest first, each once");

    let (_, all) = c.get("/jobs?status=completed&limit=100").await;
    assert_eq!(all["jobs"].as_array().unwrap().len(), 5);
    assert_eq!(all["nextCursor"], Value::Null);
    assert!(all["jobs"][0].get("code").is_none(), "no program in a list");
    let (_, running) = c.get("/jobs?status=running").await;
    assert_eq!(running["jobs"], json!([]));
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("cursor=x", "cursor"),
        ("status=done", "status"),
        ("page=2", "page"),
    ] {
        let (status, v) = c.get(&format!("/jobs?{query}")).await;
        assert_eq!(
            (status, &v["params"]["field"]),
            (400, &json!(field)),
            "{query}: {v}"
        );
    }

    // One job's result.
    let (status, r) = c.get(&format!("/jobs/{}/result", ids[2])).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["result"], "INVALID");
    assert_eq!(r["actualHash"], HELLO_HASH);
    assert_eq!(r["attestations"].as_array().unwrap().len(), 1, "{r}");
    assert!(r["attestations"][0]["signature"].is_string(), "{r}");
    assert!(r.get("settlement").is_none(), "payments off: {r}");
    let (status, _) = c
        .get(&format!("/jobs/{}/result", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(status, 404);
    assert_eq!(c.get("/jobs/nope/result").await.0, 400);
    c.shutdown().await;
}
