//! `POST /verify` and `GET /verify/:id` with x402 payments on (source document 002).
//!
//! A request without payment is validated (a bad request gets its 400 before anyone pays),
//! kept as a pending job, and answered `402` with `jobId` and `paymentRequirements`. The retry
//! carries `X-402-Payment: <tx hash>` and the job id (`X-402-Job-Id` header or `?jobId=`), so
//! the pending job continues (its stored request is what runs; a body on the retry is ignored).
//! A retry without a job id pays for the job in its body. Once the payment checks out, the job
//! runs like an unpaid one, then is settled: recorded in the registry (`registryTxHash`) or,
//! when refund-eligible, refunded (`refundTxHash`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use uuid::Uuid;

use super::error::ApiError;
use super::openapi::{ErrorBody, VerifyRequest};
use super::verify::{accept, answer, start};
use super::view::{Accepted, JobView, PaymentView};
use super::AppState;
use crate::payments::{
    x402, Consumed, Payment, PaymentFailure, PaymentRequirements, Payments, PendingJob, Settlement,
};
use crate::record::{JobRecord, JobStatus};

const PAY_MESSAGE: &str = "Please submit payment and retry with X-402-Payment header";

fn payments(state: &AppState) -> &Arc<Payments> {
    state
        .payments
        .as_ref()
        .expect("payment routes are mounted only with payments on")
}

pub(super) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Adds `PAYMENT-REQUIRED` (x402 v2) to a 402 when a token is configured.
fn with_v2_header(
    mut resp: Response,
    p: &Payments,
    headers: &HeaderMap,
    error: Option<&str>,
    seats: u8,
) -> Response {
    if let Some(d) = &p.token {
        let accepts = x402::requirements(d, p.token_price(seats), p.config.pay_to);
        let resource = match header_str(headers, "host") {
            Some(host) => format!("http://{host}/verify"),
            None => "/verify".to_string(),
        };
        let value = x402::payment_required_header(&accepts, &resource, error);
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert("payment-required", v);
        }
    }
    resp
}

/// `402 Payment Required`: the job waits for payment.
fn payment_required(record: &JobRecord, req: &PaymentRequirements) -> Response {
    let mut view = PendingView::of(record, req);
    view.error = Some("Payment Required");
    (StatusCode::PAYMENT_REQUIRED, Json(view)).into_response()
}

/// A job waiting for its payment (the 402 of `POST /verify` and `GET /verify/:id`): what it
/// costs and, for a jury, the jury already fixed (seed and pool hash).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PendingView<'a> {
    job_id: Uuid,
    status: JobStatus,
    task_type: &'static str,
    trust_tier: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    jury_seed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool_hash: Option<String>,
    payment_requirements: &'a PaymentRequirements,
    message: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    created_at: String,
    updated_at: String,
}

impl<'a> PendingView<'a> {
    fn of(record: &JobRecord, req: &'a PaymentRequirements) -> PendingView<'a> {
        let created = crate::api::view::iso(record.created_at_ms);
        PendingView {
            job_id: record.id(),
            status: JobStatus::PendingPayment,
            task_type: record.spec.task_type.as_str(),
            trust_tier: record.trust_tier(),
            jury_seed: record.jury.as_ref().map(|j| j.seed.to_hex()),
            pool_hash: record.jury.as_ref().map(|j| j.pool_hash.to_hex()),
            payment_requirements: req,
            message: PAY_MESSAGE,
            error: None,
            created_at: created.clone(),
            updated_at: created,
        }
    }
}

/// `402 Payment Failed` with the precise reason.
fn payment_failed(id: Uuid, req: &PaymentRequirements, failure: &PaymentFailure) -> Response {
    let body = PaymentFailedBody {
        error: ErrorBody {
            error: "Payment Failed".into(),
            message: failure.to_string(),
            params: json!({"reason": failure.reason(), "field": "X-402-Payment"}),
        },
        reason: failure.reason(),
        job_id: id,
        status: JobStatus::PendingPayment,
        payment_requirements: req,
    };
    (StatusCode::PAYMENT_REQUIRED, Json(body)).into_response()
}

/// The body of a `402 Payment Failed`: the error, its reason, and the job still waiting.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PaymentFailedBody<'a> {
    #[serde(flatten)]
    error: ErrorBody,
    reason: &'static str,
    job_id: Uuid,
    status: JobStatus,
    payment_requirements: &'a PaymentRequirements,
}

/// `429 Rate Limited`: the payer already has its maximum of unfinished verifications.
pub(crate) fn payer_limited(payments: &Payments, payer: alloy::primitives::Address) -> Response {
    let limit = payments.config.max_jobs_per_payer;
    let body = ErrorBody {
        error: "Rate Limited".into(),
        message: format!(
            "payer {payer} already has {limit} verifications running (at most {limit} concurrent per payer); the payment was not used, retry with it later"
        ),
        params: json!({"limit": limit, "payer": payer.to_checksum(None)}),
    };
    let mut resp = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}

/// The job view plus its payment and settlement.
pub fn paid_view(record: &JobRecord, payment: &Payment, s: &Settlement) -> JobView {
    let mut v = JobView::from(record);
    v.payment = Some(PaymentView {
        scheme: payment.scheme.clone(),
        tx_hash: payment.tx_hash.to_string(),
        amount: payment.amount.to_string(),
        payer: payment.payer.to_checksum(None),
        verified_at: crate::api::view::iso(payment.verified_at_ms),
    });
    v.registry_tx_hash = s.registry_tx_hash.map(|h| h.to_string());
    v.refund_tx_hash = s.refund_tx_hash.map(|h| h.to_string());
    if let Some(e) = &s.registry_error {
        v.status = JobStatus::Error;
        v.error_code = Some("Registry Write Failed".into());
        v.error_message = Some(format!("the result could not be recorded on chain: {e}"));
        v.refund_eligible = Some(true);
    }
    v
}

#[utoipa::path(post, path = "/verify", tag = "verify",
    request_body(content = VerifyRequest, content_type = "application/json"),
    params(
        ("X-402-Payment" = Option<String>, Header, description = "the payment's transaction hash (document 002)"),
        ("X-402-Job-Id" = Option<String>, Header, description = "the pending job the payment is for (or `?jobId=`)"),
        ("PAYMENT-SIGNATURE" = Option<String>, Header, description = "x402 v2 exact scheme: base64 JSON of an EIP-3009 authorization"),
        ("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 at once"),
    ),
    responses(
        (status = 200, description = "Paid and completed: the attested verdict, payment and registryTxHash", body = JobView),
        (status = 202, description = "Paid and accepted, still running: poll `checkStatusAt`", body = Accepted),
        (status = 400, description = "Bad Request: invalid body, field or module", body = ErrorBody),
        (status = 402, description = "Payment Required (jobId, status pending_payment, paymentRequirements, message; PAYMENT-REQUIRED header) or Payment Failed with its reason", body = Object),
        (status = 404, description = "Not Found: no such pending job", body = ErrorBody),
        (status = 413, description = "Payload Too Large: code over 100 KB or body over 1 MB", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 503, description = "Service Unavailable: circuit breaker open, load caps, Redis away or shutting down", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
        (status = 500, description = "VM Spawn Failed or Registry Write Failed (refundable)", body = ErrorBody),
    ))]
/// `POST /verify` with payments on.
pub async fn submit(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // A client that goes away must not cancel the payment half-way (an authorization settled
    // on chain but the job not yet recorded as paid): the work runs in a task of its own,
    // which finishes whether or not anyone still waits for the answer.
    tokio::spawn(submit_detached(state, query, headers, body))
        .await
        .map_err(|e| ApiError::Internal {
            code: "Internal Error",
            message: format!("the payment handler failed: {e}"),
            body: None,
        })?
}

async fn submit_detached(
    state: Arc<AppState>,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let p = payments(&state).clone();
    let job_id = header_str(&headers, "x-402-job-id").or(query.get("jobId").map(String::as_str));
    let (record, requirements, stored) = match job_id {
        Some(text) => {
            let id = Uuid::parse_str(text).map_err(|_| {
                ApiError::field("jobId", format!("{text:?} is not a job id (UUID)"))
            })?;
            match p.pending(id).await? {
                Some(pending) => (pending.record, pending.requirements, true),
                None => return already_paid_or_unknown(&state, &p, id).await,
            }
        }
        None => {
            let record = accept(&state, &headers, body).await?;
            let requirements = p.requirements(record.trust_tier());
            (record, requirements, false)
        }
    };
    let id = record.id();
    let seats = record.trust_tier();
    let tx_header = header_str(&headers, "x-402-payment");
    let sig_header = header_str(&headers, "payment-signature");
    if tx_header.is_none() && sig_header.is_none() {
        let answer = payment_required(&record, &requirements);
        if !stored {
            p.put_pending(&PendingJob {
                record,
                requirements: requirements.clone(),
                payer: None,
            })
            .await?;
            tracing::info!(job_id = %id, "payment required");
        }
        return Ok(with_v2_header(answer, &p, &headers, None, seats));
    }
    // The chain (or Redis) could not be asked: the client gets 503 and may retry.
    let unavailable = || crate::metrics::payment_check("unavailable");
    // Refusals keep the job pending, so the client can pay again for this very job id.
    let refuse = |failure: PaymentFailure, record: JobRecord| {
        let p = p.clone();
        let requirements = requirements.clone();
        let headers = headers.clone();
        async move {
            tracing::info!(job_id = %id, reason = failure.reason(), "payment refused");
            crate::metrics::payment_check(match failure {
                PaymentFailure::AlreadyUsed(_) => "replayed",
                _ => "invalid",
            });
            if !stored {
                p.put_pending(&PendingJob {
                    record,
                    requirements: requirements.clone(),
                    payer: None,
                })
                .await?;
            }
            let message = failure.to_string();
            Ok::<_, ApiError>(with_v2_header(
                payment_failed(id, &requirements, &failure),
                &p,
                &headers,
                Some(&message),
                seats,
            ))
        }
    };
    let (payment, used) = if let Some(sig) = sig_header {
        let (checked, used) = match p
            .verify_authorization(sig, seats)
            .await
            .inspect_err(|_| unavailable())?
        {
            Ok(ok) => ok,
            Err(failure) => return refuse(failure, record).await,
        };
        let payer = checked.auth.from;
        if !p.take_payer_slot(payer, id).await? {
            if !stored {
                p.put_pending(&PendingJob {
                    record,
                    requirements,
                    payer: None,
                })
                .await?;
            }
            return Ok(payer_limited(&p, payer));
        }
        if let Err(other) = p.reserve(&used, id).await? {
            p.release_payer_slot(payer, id).await?;
            return refuse(PaymentFailure::AlreadyUsed(other), record).await;
        }
        match p.settle_authorization(&checked).await? {
            Ok(payment) => (payment, used),
            Err(failure) => {
                p.unreserve(&used).await?;
                p.release_payer_slot(payer, id).await?;
                return refuse(failure, record).await;
            }
        }
    } else {
        let tx_header = tx_header.expect("one of the two headers");
        let payment = match p
            .verify_tx(tx_header, &requirements)
            .await
            .inspect_err(|_| unavailable())?
        {
            Ok(payment) => payment,
            Err(failure) => return refuse(failure, record).await,
        };
        if !p.take_payer_slot(payment.payer, id).await? {
            tracing::info!(job_id = %id, payer = %payment.payer, "payer at its concurrency limit");
            if !stored {
                p.put_pending(&PendingJob {
                    record,
                    requirements,
                    payer: None,
                })
                .await?;
            }
            return Ok(payer_limited(&p, payment.payer));
        }
        let used = Payments::used_tx(payment.tx_hash);
        (payment, used)
    };
    match p.consume(id, &payment, &used).await? {
        Consumed::Done => {}
        // A concurrent retry of this very payment got there first and runs the job (its payer
        // slot is the same job's): point at it instead of running the job twice.
        Consumed::AlreadyPaid => {
            return Ok(super::verify::with_poll_headers(
                id,
                (
                    StatusCode::ACCEPTED,
                    Json(Accepted::running(
                        id,
                        "this job is already paid; its verification is under way",
                    )),
                ),
            ));
        }
        Consumed::UsedBy(other) => {
            p.release_payer_slot(payment.payer, id).await?;
            return refuse(PaymentFailure::AlreadyUsed(other), record).await;
        }
    }
    tracing::info!(job_id = %id, payer = %payment.payer, tx = %payment.tx_hash, "payment accepted");
    crate::metrics::payment_check("valid");
    // On the paid flow the client is who pays.
    let payer = format!("{:#x}", payment.payer);
    let record = start(&state, record, &headers, Some(&payer), true).await?;
    let settlement = if record.status() == JobStatus::Running {
        Settlement::default()
    } else {
        p.settle(&record).await?
    };
    let mut resp = match respond(&record, &payment, &settlement) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    if payment.asset != alloy::primitives::Address::ZERO {
        let value =
            x402::payment_response_header(payment.tx_hash, p.chain.chain_id(), payment.payer);
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert("payment-response", v);
        }
    }
    Ok(resp)
}

fn respond(record: &JobRecord, payment: &Payment, s: &Settlement) -> Result<Response, ApiError> {
    let view = paid_view(record, payment, s);
    if let Some(e) = &s.registry_error {
        return Err(ApiError::Internal {
            code: "Registry Write Failed",
            message: format!("the result could not be recorded on chain: {e}"),
            body: serde_json::to_value(view).ok(),
        });
    }
    answer(record, view)
}

/// A retry for a job that is no longer pending: its current state if it was paid, else 404.
async fn already_paid_or_unknown(
    state: &AppState,
    p: &Payments,
    id: Uuid,
) -> Result<Response, ApiError> {
    match (state.jobs.get(id).await?, p.job_payment(id).await?) {
        (Some(record), Some((payment, settlement))) => respond(&record, &payment, &settlement),
        _ => Err(ApiError::NotFound(format!(
            "no job {id} waits for payment (unknown id, or its payment requirements expired)"
        ))),
    }
}

/// `GET /verify/:id` with payments on: 402 while the payment is pending, else the job with its
/// payment and settlement.
#[utoipa::path(get, path = "/verify/{id}", tag = "verify",
    params(("id" = uuid::Uuid, Path, description = "job id (UUID) returned by POST /verify"),
        ("Prefer" = Option<String>, Header, description = "`wait=N` (RFC 7240): wait up to N seconds (at most the sync wait) for the job to be final before answering")),
    responses(
        (status = 200, description = "Final, with its payment, registryTxHash or refundTxHash", body = JobView),
        (status = 202, description = "Queued or running", body = JobView,
            headers(("Location" = String, description = "where to poll: this job's /verify/{id}"),
                ("Retry-After" = u64, description = "seconds before polling again"))),
        (status = 400, description = "Bad Request: the id is not a UUID", body = ErrorBody),
        (status = 402, description = "Payment pending: the payment requirements", body = Object),
        (status = 404, description = "Not Found: no such job", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 503, description = "Service Unavailable: circuit breaker open, load caps, Redis away or shutting down", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn status(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let p = payments(&state);
    let id = super::verify::job_id(&id)?;
    if let Some(pending) = p.pending(id).await? {
        let view = PendingView::of(&pending.record, &pending.requirements);
        return Ok((StatusCode::PAYMENT_REQUIRED, Json(view)).into_response());
    }
    let record = super::verify::current(&state, id, &headers).await?;
    let view = match p.job_payment(id).await? {
        Some((payment, s)) => paid_view(&record, &payment, &s),
        None => JobView::from(&record),
    };
    let code = match record.status() {
        JobStatus::PendingPayment => StatusCode::PAYMENT_REQUIRED,
        JobStatus::Running => {
            return Ok(super::verify::with_poll_headers(
                id,
                (StatusCode::ACCEPTED, Json(view)),
            ))
        }
        JobStatus::Completed | JobStatus::Error | JobStatus::Escalated => StatusCode::OK,
    };
    Ok((code, Json(view)).into_response())
}

/// `GET /notary/stats` (document 002).
#[utoipa::path(get, path = "/notary/stats", tag = "payments",
    responses(
        (status = 200, description = "totalVerifications, successRate, averageDurationMs, uptimePercentage, revenueETH, activeWorkers, verifierAddress, serviceVersion, network", body = Object),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 503, description = "Service Unavailable: circuit breaker open, load caps, Redis away or shutting down", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn stats(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let p = payments(&state);
    // A worker that has not read the job stream for two lease TTLs is not counted as active.
    let v = p.stats(state.lease_ttl * 2).await?;
    Ok(Json(v).into_response())
}
