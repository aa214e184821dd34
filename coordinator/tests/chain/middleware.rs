//! The exported middleware (issue 13): a provider's own axum server charges for a route with
//! `notary_middleware::PaymentLayer`, verified and settled through a Notary coordinator's
//! facilitator routes, and the official x402 client pays it. A replayed signature is refused;
//! a handler that fails is not paid for.

use std::net::SocketAddr;

use alloy::primitives::U256;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use notary_middleware::{PaymentLayer, Price};
use serde::Serialize;

use crate::market::balance;
use crate::payments::{addr, official_x402_client, PaidEnv};
use crate::support::{client, Coordinator};

const PROVIDER: usize = 5;
const PAYER: usize = 4;

#[derive(Serialize)]
struct Forecast {
    city: &'static str,
    forecast: &'static str,
}

/// The example provider: `/weather` and `/broken` (always 500), both at 1000 token units.
async fn provider(env: &PaidEnv, notary: &str) -> SocketAddr {
    let price = Price {
        network: "eip155:84532".into(),
        asset: env.d.token.to_checksum(None),
        token_name: "USDC".into(),
        token_version: "2".into(),
        amount: "1000".into(),
        pay_to: addr(PROVIDER).to_checksum(None),
    };
    let app = Router::new()
        .route(
            "/weather",
            get(|| async {
                Json(Forecast {
                    city: "Paris",
                    forecast: "sunny",
                })
            }),
        )
        .route(
            "/broken",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "the model is down") }),
        )
        .layer(PaymentLayer::new(notary, price, "Today's weather"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    at
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_behind_the_middleware_is_paid_by_the_official_x402_client() {
    let env = PaidEnv::start().await;
    let c = Coordinator::start(env.config(1)).await;
    env.mint(addr(PAYER), 5_000_000).await;
    let at = provider(&env, &c.url).await;

    // Unpaid: 402 with the requirements, pointing at the provider.
    let resp = client()
        .get(format!("http://{at}/weather"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 402);
    assert!(resp.headers().contains_key("payment-required"));

    // The official client pays; the provider is paid once and the replay refused.
    let v = official_x402_client(&env, &[("TARGET", &format!("http://{at}/weather"))]).await;
    assert_eq!(v["status"], 200, "{v}");
    assert_eq!(v["body"]["forecast"], "sunny", "{v}");
    assert_eq!(v["paymentResponse"]["success"], true, "{v}");
    assert_eq!(v["paymentResponse"]["network"], "eip155:84532", "{v}");
    assert!(v["paymentResponse"]["transaction"].is_string(), "{v}");
    assert_eq!(v["replayStatus"], 402, "{v}");
    assert_eq!(v["replayBody"]["error"], "nonce_already_used", "{v}");
    assert_eq!(balance(&env, addr(PROVIDER)).await, U256::from(1000));
    assert_eq!(
        balance(&env, addr(PAYER)).await,
        U256::from(5_000_000 - 1000)
    );

    // A failing handler is passed through and nothing is settled.
    let v = official_x402_client(&env, &[("TARGET", &format!("http://{at}/broken"))]).await;
    assert_eq!(v["status"], 500, "{v}");
    assert_eq!(v["body"], "the model is down", "{v}");
    assert!(v["paymentResponse"].is_null(), "{v}");
    assert_eq!(balance(&env, addr(PROVIDER)).await, U256::from(1000));
    assert_eq!(
        balance(&env, addr(PAYER)).await,
        U256::from(5_000_000 - 1000)
    );
    c.shutdown().await;
}
