//! x402 payments in front of a provider's own HTTP endpoints (source document 000's exported
//! middleware), backed by a Notary coordinator's facilitator routes.
//!
//! [`PaymentLayer`] is a tower layer: put it on the routes that cost money and it answers
//! every request like an x402 v2 server, scheme `exact` (EIP-3009):
//!
//! 1. No `PAYMENT-SIGNATURE`: `402` with `PAYMENT-REQUIRED` (base64 of `{x402Version: 2,
//!    error, resource, accepts: [requirements]}`; the same JSON is the body). An x402 client
//!    signs an authorization for the requirements and retries.
//! 2. The signature is checked by the facilitator (`POST /facilitator/verify`); an invalid
//!    one is a `402` whose `error` is the facilitator's `invalidReason` (e.g.
//!    `nonce_already_used`, `insufficient_funds`). The handler has not run.
//! 3. The handler runs. A response that is not a success (`2xx`) is passed back as it is and
//!    nothing is settled: the payer pays only for what it got.
//! 4. On success the payment is settled (`POST /facilitator/settle`, which moves the tokens on
//!    chain) and the handler's response goes back with `PAYMENT-RESPONSE` (base64 of the
//!    settlement: `{success, transaction, network, payer}`). A settlement that fails is a `402`
//!    with its `errorReason`, and the handler's response is withheld.
//!
//! A facilitator that cannot be reached, or answers something other than its API, is a `502`
//! (`{"error": "Bad Gateway", "message"}`); the handler has not run or its response is withheld.
//! Two requests carrying the same signature at once may both run the handler; only one
//! settlement succeeds (the token refuses a used nonce), so the other gets a `402`.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use notary_middleware::{PaymentLayer, Price};
//!
//! let price = Price {
//!     network: "eip155:84532".into(),
//!     asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e".into(),
//!     token_name: "USDC".into(),
//!     token_version: "2".into(),
//!     amount: "1000".into(),
//!     pay_to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".into(),
//! };
//! let app: Router = Router::new()
//!     .route("/weather", get(|| async { "sunny" }))
//!     .layer(PaymentLayer::new("http://127.0.0.1:8402", price, "Today's weather"));
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower::{Layer, Service, ServiceExt};

/// The request header carrying the payer's signed payment.
pub const PAYMENT_SIGNATURE: &str = "payment-signature";
/// The `402` header with the payment requirements.
pub const PAYMENT_REQUIRED: &str = "payment-required";
/// The success header with the settlement.
pub const PAYMENT_RESPONSE: &str = "payment-response";

/// How long a facilitator call may take (a settlement waits for its transaction).
const FACILITATOR_TIMEOUT: Duration = Duration::from_secs(60);

/// What a paid route costs, in an EIP-3009 token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Price {
    /// CAIP-2 network, e.g. `eip155:84532` (Base Sepolia).
    pub network: String,
    /// The token's address.
    pub asset: String,
    /// The token's EIP-712 domain name (USDC: `USDC`).
    pub token_name: String,
    /// The token's EIP-712 domain version (USDC: `2`).
    pub token_version: String,
    /// Token units, decimal.
    pub amount: String,
    /// Who is paid: the provider.
    pub pay_to: String,
}

/// x402 v2 payment requirements (one entry of `accepts`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequirements {
    /// `exact`.
    pub scheme: String,
    /// CAIP-2 network.
    pub network: String,
    /// Token units, decimal.
    pub amount: String,
    /// The token.
    pub asset: String,
    /// The recipient.
    pub pay_to: String,
    /// How long a signed authorization may stay valid.
    pub max_timeout_seconds: u64,
    /// The token's EIP-712 domain.
    pub extra: TokenDomain,
}

/// `extra` of the requirements: the domain the payer signs in.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenDomain {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
}

/// The body of a `402` (and, base64, its `PAYMENT-REQUIRED` header).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequired {
    /// 2.
    pub x402_version: u8,
    /// Why the request was not served.
    pub error: String,
    /// What is being paid for.
    pub resource: Resource,
    /// The one way to pay.
    pub accepts: Vec<PaymentRequirements>,
}

/// The paid resource.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// The URL requested.
    pub url: String,
    /// What it is.
    pub description: String,
    /// What it answers.
    pub mime_type: String,
}

/// The facilitators' request body (`/facilitator/verify`, `/facilitator/settle`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FacilitatorRequest<'a> {
    x402_version: u8,
    payment_payload: &'a Value,
    payment_requirements: &'a PaymentRequirements,
}

/// `POST /facilitator/verify`'s answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Verified {
    is_valid: bool,
    invalid_reason: Option<String>,
}

/// `POST /facilitator/settle`'s answer (passed on in `PAYMENT-RESPONSE`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Settlement {
    /// Whether the tokens moved.
    pub success: bool,
    /// Why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_reason: Option<String>,
    /// The settling transaction.
    #[serde(default)]
    pub transaction: String,
    /// CAIP-2 network.
    #[serde(default)]
    pub network: String,
    /// The payer.
    #[serde(default)]
    pub payer: Option<String>,
}

/// A `502` body.
#[derive(Serialize)]
struct GatewayError {
    error: &'static str,
    message: String,
}

/// The layer: see the crate docs.
#[derive(Clone)]
pub struct PaymentLayer {
    shared: Arc<Shared>,
}

#[derive(Clone)]
struct Shared {
    facilitator: String,
    requirements: PaymentRequirements,
    description: String,
    mime_type: String,
    public_url: Option<String>,
    client: reqwest::Client,
}

impl PaymentLayer {
    /// Charges `price` for each successful response, verified and settled by the Notary
    /// coordinator at `facilitator` (its base URL). `description` names the resource.
    pub fn new(facilitator: &str, price: Price, description: &str) -> PaymentLayer {
        let client = reqwest::Client::builder()
            .timeout(FACILITATOR_TIMEOUT)
            .build()
            .expect("a TLS backend is compiled in");
        PaymentLayer {
            shared: Arc::new(Shared {
                facilitator: facilitator.trim_end_matches('/').to_string(),
                requirements: PaymentRequirements {
                    scheme: "exact".into(),
                    network: price.network,
                    amount: price.amount,
                    asset: price.asset,
                    pay_to: price.pay_to,
                    max_timeout_seconds: 300,
                    extra: TokenDomain {
                        name: price.token_name,
                        version: price.token_version,
                    },
                },
                description: description.to_string(),
                mime_type: "application/json".into(),
                public_url: None,
                client,
            }),
        }
    }

    /// The base URL clients use (default: `http://` and the request's `Host`), for the
    /// requirements' `resource.url`.
    pub fn public_url(mut self, url: &str) -> PaymentLayer {
        self.shared_mut().public_url = Some(url.trim_end_matches('/').to_string());
        self
    }

    /// The resource's MIME type (default `application/json`).
    pub fn mime_type(mut self, mime: &str) -> PaymentLayer {
        self.shared_mut().mime_type = mime.to_string();
        self
    }

    fn shared_mut(&mut self) -> &mut Shared {
        // A layer configured after it was cloned gets its own copy; the clones keep theirs.
        Arc::make_mut(&mut self.shared)
    }

    /// The requirements the `402`s offer.
    pub fn requirements(&self) -> &PaymentRequirements {
        &self.shared.requirements
    }
}

impl<S> Layer<S> for PaymentLayer {
    type Service = PaymentService<S>;

    fn layer(&self, inner: S) -> PaymentService<S> {
        PaymentService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service [`PaymentLayer`] wraps around a route.
#[derive(Clone)]
pub struct PaymentService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Service<Request<Body>> for PaymentService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Readiness is awaited on the clone that serves the request (`oneshot`).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let inner = self.inner.clone();
        let shared = self.shared.clone();
        Box::pin(async move { Ok(shared.serve(request, inner).await) })
    }
}

/// Why a paid request was not served.
enum Refusal {
    /// `402` with this `error`.
    Payment(String),
    /// `502`: the facilitator failed.
    Gateway(String),
}

impl Shared {
    async fn serve<S>(&self, request: Request<Body>, inner: S) -> Response
    where
        S: Service<Request<Body>, Response = Response, Error = Infallible> + Send,
        S::Future: Send,
    {
        let resource = self.resource(&request);
        let answer = async {
            let payload = decode(request.headers().get(PAYMENT_SIGNATURE))?;
            self.verify(&payload).await?;
            let response = match inner.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if !response.status().is_success() {
                return Ok(response);
            }
            let settled = self.settle(&payload).await?;
            let mut response = response;
            let header = base64::engine::general_purpose::STANDARD
                .encode(serde_json::to_vec(&settled).expect("serializable"));
            response.headers_mut().insert(
                PAYMENT_RESPONSE,
                HeaderValue::from_str(&header).expect("base64 is a header value"),
            );
            Ok(response)
        };
        match answer.await {
            Ok(response) => response,
            Err(Refusal::Payment(error)) => self.payment_required(resource, error),
            Err(Refusal::Gateway(message)) => {
                tracing::warn!(facilitator = %self.facilitator, %message, "x402 facilitator failed");
                (
                    StatusCode::BAD_GATEWAY,
                    Json(GatewayError {
                        error: "Bad Gateway",
                        message,
                    }),
                )
                    .into_response()
            }
        }
    }

    fn resource(&self, request: &Request<Body>) -> Resource {
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let base = self.public_url.clone().unwrap_or_else(|| {
            let host = request
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        });
        Resource {
            url: format!("{base}{path}"),
            description: self.description.clone(),
            mime_type: self.mime_type.clone(),
        }
    }

    fn payment_required(&self, resource: Resource, error: String) -> Response {
        let body = PaymentRequired {
            x402_version: 2,
            error,
            resource,
            accepts: vec![self.requirements.clone()],
        };
        let header = base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_vec(&body).expect("serializable"));
        let mut response = (StatusCode::PAYMENT_REQUIRED, Json(body)).into_response();
        response.headers_mut().insert(
            PAYMENT_REQUIRED,
            HeaderValue::from_str(&header).expect("base64 is a header value"),
        );
        response
    }

    async fn call_facilitator<T: serde::de::DeserializeOwned>(
        &self,
        route: &str,
        payload: &Value,
    ) -> Result<T, Refusal> {
        let url = format!("{}/facilitator/{route}", self.facilitator);
        let response = self
            .client
            .post(&url)
            .json(&FacilitatorRequest {
                x402_version: 2,
                payment_payload: payload,
                payment_requirements: &self.requirements,
            })
            .send()
            .await
            .map_err(|e| Refusal::Gateway(format!("{route}: {}", e.without_url())))?;
        let status = response.status();
        if !status.is_success() {
            return Err(Refusal::Gateway(format!(
                "{route}: the facilitator answered {status}"
            )));
        }
        response.json::<T>().await.map_err(|e| {
            Refusal::Gateway(format!("{route}: unreadable answer: {}", e.without_url()))
        })
    }

    async fn verify(&self, payload: &Value) -> Result<(), Refusal> {
        let verified: Verified = self.call_facilitator("verify", payload).await?;
        if verified.is_valid {
            Ok(())
        } else {
            Err(Refusal::Payment(
                verified
                    .invalid_reason
                    .unwrap_or_else(|| "invalid_payment".into()),
            ))
        }
    }

    async fn settle(&self, payload: &Value) -> Result<Settlement, Refusal> {
        let settled: Settlement = self.call_facilitator("settle", payload).await?;
        if settled.success {
            Ok(settled)
        } else {
            Err(Refusal::Payment(
                settled
                    .error_reason
                    .unwrap_or_else(|| "settlement_failed".into()),
            ))
        }
    }
}

/// The `PAYMENT-SIGNATURE` payload (base64 JSON; base64url tolerated).
fn decode(header: Option<&HeaderValue>) -> Result<Value, Refusal> {
    let Some(header) = header else {
        return Err(Refusal::Payment(
            "PAYMENT-SIGNATURE header is required".into(),
        ));
    };
    let text = header.to_str().unwrap_or_default().trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
        .map_err(|_| Refusal::Payment("invalid_payload: PAYMENT-SIGNATURE is not base64".into()))?;
    let payload: Value = serde_json::from_slice(&bytes).map_err(|_| {
        Refusal::Payment("invalid_payload: PAYMENT-SIGNATURE is not base64 JSON".into())
    })?;
    if !payload.is_object() {
        return Err(Refusal::Payment(
            "invalid_payload: PAYMENT-SIGNATURE must be a JSON object".into(),
        ));
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::routing::get;
    use axum::Router;

    use super::*;

    fn price() -> Price {
        Price {
            network: "eip155:84532".into(),
            asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e".into(),
            token_name: "USDC".into(),
            token_version: "2".into(),
            amount: "1000".into(),
            pay_to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".into(),
        }
    }

    /// A route behind the layer that counts its runs; the facilitator is a closed port.
    fn app(runs: Arc<AtomicUsize>) -> Router {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let facilitator = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        Router::new()
            .route(
                "/weather",
                get(move || async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    "sunny"
                }),
            )
            .layer(
                PaymentLayer::new(&facilitator, price(), "Weather")
                    .public_url("https://p.example/"),
            )
    }

    async fn send(app: Router, signature: Option<&str>) -> (StatusCode, Option<Value>, Value) {
        let mut request = Request::get("/weather?city=Paris");
        if let Some(s) = signature {
            request = request.header(PAYMENT_SIGNATURE, s);
        }
        let response = app
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let header = response.headers().get(PAYMENT_REQUIRED).map(|h| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(h.to_str().unwrap())
                .unwrap();
            serde_json::from_slice(&bytes).unwrap()
        });
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            header,
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        )
    }

    #[tokio::test]
    async fn without_a_signature_the_route_answers_402_with_its_requirements() {
        let runs = Arc::new(AtomicUsize::new(0));
        let (status, header, body) = send(app(runs.clone()), None).await;
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
        let header = header.expect("PAYMENT-REQUIRED");
        assert_eq!(header, body, "the header and the body say the same");
        assert_eq!(header["x402Version"], 2);
        assert_eq!(
            header["resource"]["url"],
            "https://p.example/weather?city=Paris"
        );
        let accepts = &header["accepts"][0];
        assert_eq!(accepts["scheme"], "exact");
        assert_eq!(accepts["network"], "eip155:84532");
        assert_eq!(accepts["amount"], "1000");
        assert_eq!(
            accepts["payTo"],
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
        );
        assert_eq!(accepts["extra"]["name"], "USDC");
        assert_eq!(runs.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_malformed_signature_is_402_and_an_unreachable_facilitator_502() {
        let runs = Arc::new(AtomicUsize::new(0));
        let (status, header, _) = send(app(runs.clone()), Some("not base64!")).await;
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
        assert!(header.unwrap()["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid_payload"));
        let sig = base64::engine::general_purpose::STANDARD.encode(b"{\"x402Version\":2}");
        let (status, _, body) = send(app(runs.clone()), Some(&sig)).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
        assert_eq!(body["error"], "Bad Gateway");
        assert_eq!(
            runs.load(Ordering::SeqCst),
            0,
            "the handler never ran unpaid"
        );
    }
}
