//! The jury policy: how a job of trust tier n > 1 is run by n distinct workers, and when it is
//! final (the data and the rules are in [`crate::jury`]).
//!
//! - **Plan** (at acceptance, before any payment): a random seed and the eligible pool (allowed
//!   workers alive in the queue); fewer eligible workers than the tier is a 503
//!   `jury_unavailable` then, never a job that cannot finish.
//! - **Seat** (when the job is submitted): the first n of the seeded order get a task of their
//!   own in the queue ([`notary_queue::JobEnvelope::for_worker`]): no other worker can lease it.
//! - **Seal**: each juror's accepted report is kept in the jury state, unseen (the view shows
//!   who has submitted, not what) until every seat has delivered.
//! - **Replace**: a juror whose task is dead-lettered (its lease and delivery limit ran out, or
//!   it left the fleet) or whose report is refused is replaced by the next worker of the order.
//! - **Close**: the round's tally ([`crate::jury::verdict`]); every juror's vote is booked
//!   ([`crate::workers`]: too many dissents suspend a worker from new juries); unanimous:
//!   final; otherwise the job escalates, at once (`escalation: auto`, up to `maxTier`) or on
//!   `POST /jobs/:jobId/escalate`.
//!
//! Several coordinators may handle one jury's reports at once: every change is a read, change
//! and compare-and-set of the jury state ([`JobStore::save_jury`]), retried on a conflict, and
//! tasks are queued and votes booked only after the write that decided them succeeded. A crash between
//! the two leaves a seat without a task; its juror is then replaced like any juror that never
//! delivers (the reaper dead-letters nothing it never saw, so such a seat waits for the next
//! report or escalation of the job to be noticed: the window is one Redis round trip).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use notary_protocol::{Address, Digest32, JobSpec, WorkerReport};
use notary_queue::{JobEnvelope, JobQueue};
use rand::RngCore;
use serde_json::json;
use uuid::Uuid;

use super::policy::{outcome_from_report, Decision};
use crate::error::{Error, Rejected, Result};
use crate::jury::select::{pool_hash, pool_of, uncalled};
use crate::jury::{
    next_tier, Escalation, JuryPlan, JuryRequest, JuryState, Replaced, Round, RoundOutcome,
    MAX_TIER,
};
use crate::metrics;
use crate::record::{now_ms, JobOutcome, JobRecord};
use crate::store::JobStore;
use crate::workers::services::serves_job;
use crate::workers::{Booked, Vote, WorkerBook};

/// Compare-and-set attempts before a jury change gives up (the intake retries it later).
const MAX_CONFLICTS: usize = 32;

/// The queue identity of a worker: its address as lowercase `0x` hex.
pub fn identity(worker: &Address) -> String {
    format!("{worker:#x}")
}

/// What a change of a jury leads to beyond the stored state.
#[derive(Default)]
struct Effects {
    /// Jurors seated by the change: their tasks are to be queued.
    seat: Vec<Address>,
    /// A round closed: its jurors' votes, to book.
    votes: Vec<(Address, Vote)>,
    /// The job is final.
    outcome: Option<JobOutcome>,
}

/// The jury policy (see the module docs).
pub struct Juries {
    store: Arc<dyn JobStore>,
    queue: Arc<dyn JobQueue>,
    book: Arc<dyn WorkerBook>,
    allowed: HashSet<Address>,
    /// A worker is alive when it leased (or heartbeat) within this time.
    live_within: Duration,
}

impl Juries {
    /// The policy over the job service's store and queue.
    pub fn new(
        store: Arc<dyn JobStore>,
        queue: Arc<dyn JobQueue>,
        book: Arc<dyn WorkerBook>,
        allowed: HashSet<Address>,
        live_within: Duration,
    ) -> Self {
        Juries {
            store,
            queue,
            book,
            allowed,
            live_within,
        }
    }

    /// The worker book (votes, suspensions).
    pub fn book(&self) -> &Arc<dyn WorkerBook> {
        &self.book
    }

    /// The workers whose attestations are accepted.
    pub fn allowed(&self) -> &HashSet<Address> {
        &self.allowed
    }

    /// Workers alive in the queue now (leased or heartbeat within the lease TTL).
    pub async fn alive(&self) -> Result<HashSet<Address>> {
        Ok(self
            .queue
            .alive(self.live_within)
            .await?
            .iter()
            .filter_map(|id| id.parse::<Address>().ok())
            .collect())
    }

    /// Workers whose attestations count (allowed, or registered and approved), alive in the
    /// queue now and not suspended.
    pub async fn eligible(&self) -> Result<HashSet<Address>> {
        let suspended = self.book.suspended().await?;
        let alive = self.alive().await?;
        let approved = if alive.iter().all(|w| self.allowed.contains(w)) {
            HashSet::new()
        } else {
            self.book.approved().await?
        };
        Ok(alive
            .into_iter()
            .filter(|w| {
                (self.allowed.contains(w) || approved.contains(w)) && !suspended.contains(w)
            })
            .collect())
    }

    /// The workers of `workers` that serve `job`: those that declared no services (they serve
    /// everything) and those with a service covering it.
    pub async fn serving(
        &self,
        workers: HashSet<Address>,
        job: &JobSpec,
    ) -> Result<HashSet<Address>> {
        let mut serving = HashSet::with_capacity(workers.len());
        for worker in workers {
            if serves_job(&self.book.services(worker).await?, job) {
                serving.insert(worker);
            }
        }
        Ok(serving)
    }

    /// Whether `worker`'s attestations of runtime `runtime_id` count: it is on the allow list,
    /// or it registered with that runtime and is approved (`Err` says why not).
    pub async fn admits(
        &self,
        worker: Address,
        runtime_id: &Digest32,
    ) -> Result<std::result::Result<(), String>> {
        if self.allowed.contains(&worker) {
            return Ok(Ok(()));
        }
        Ok(match self.book.registration(worker).await? {
            None => Err(format!(
                "worker {worker} is neither on the allow list nor registered"
            )),
            Some(r) if !r.approved => Err(format!(
                "worker {worker} is registered but not approved (notary-coordinator workers approve)"
            )),
            Some(r) if r.config_hash != *runtime_id => Err(format!(
                "runtime {runtime_id} differs from the config hash {} worker {worker} registered",
                r.config_hash
            )),
            Some(_) => Ok(()),
        })
    }

    /// Fixes the jury of a job being accepted; `None` for tier 1 (no jury).
    pub async fn plan(
        &self,
        request: JuryRequest,
        job: &JobSpec,
    ) -> Result<std::result::Result<Option<JuryPlan>, Rejected>> {
        if request.tier <= 1 {
            return Ok(Ok(None));
        }
        let pool = pool_of(self.serving(self.eligible().await?, job).await?);
        if pool.len() < request.tier as usize {
            return Ok(Err(Rejected::Unavailable {
                message: format!(
                    "trust tier {} needs {} distinct eligible workers serving this job; {} are available",
                    request.tier,
                    request.tier,
                    pool.len()
                ),
                params: json!({
                    "reason": "jury_unavailable",
                    "trustTier": request.tier,
                    "eligibleWorkers": pool.len(),
                }),
            }));
        }
        let mut seed = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut seed);
        Ok(Ok(Some(JuryPlan {
            tier: request.tier,
            seed: Digest32(seed),
            pool_hash: Digest32(pool_hash(&pool)),
            pool,
            escalation: request.escalation,
            max_tier: request.max_tier.clamp(request.tier, MAX_TIER),
        })))
    }

    /// Seats the first round of a stored job and queues its jurors' tasks. `Some(outcome)`
    /// when it cannot be seated (too few of the pool still alive): the job is to be failed,
    /// refundable.
    pub async fn open(&self, record: &JobRecord) -> Result<Option<JobOutcome>> {
        let eligible = self.eligible().await?;
        let effects = self
            .change(Some(record), record.id(), |record, state| {
                if !state.rounds.is_empty() {
                    return Ok(Effects::default());
                }
                let plan = plan_of(record)?;
                let (members, passed) = seat(plan, state, plan.tier, &eligible);
                if members.len() < plan.tier as usize {
                    let message = format!(
                        "jury_unavailable: {} of the {} jurors of trust tier {} could be seated",
                        members.len(),
                        plan.tier,
                        plan.tier
                    );
                    return Ok(Effects {
                        outcome: Some(JobOutcome::infrastructure_failure(
                            record,
                            "Service Unavailable",
                            &message,
                            0,
                        )),
                        ..Effects::default()
                    });
                }
                state
                    .rounds
                    .push(Round::new(plan.tier, members.clone(), passed));
                Ok(Effects {
                    seat: members,
                    ..Effects::default()
                })
            })
            .await?;
        self.apply(effects).await
    }

    /// A juror's report that passed the intake's checks.
    pub async fn on_report(&self, record: &JobRecord, report: &WorkerReport) -> Result<Decision> {
        let juror = report.attestation.worker;
        // Who is eligible matters only to the report that closes a round of an automatic
        // escalation: asked for then, not on every report.
        let mut eligible: Option<HashSet<Address>> = None;
        let effects = loop {
            let mut needs_eligible = false;
            let effects = self
                .change(Some(record), record.id(), |record, state| {
                    let plan = plan_of(record)?;
                    let Some(round) = state.current_mut() else {
                        return Ok(Effects::default());
                    };
                    if let Some(closed) = &round.closed {
                        // Handled before (a redelivered intake item, or a crash between the
                        // jury's write and the final one): give the same decision again.
                        if closed.outcome == RoundOutcome::Unanimous && !state.escalated {
                            return Ok(Effects {
                                outcome: Some(final_outcome(record, state)?),
                                ..Effects::default()
                            });
                        }
                        return Ok(Effects::default());
                    }
                    if !round.members.contains(&juror) || round.results.contains_key(&juror) {
                        tracing::debug!(job_id = %record.id(), %juror, "report of a worker not (or no longer) waited for ignored");
                        return Ok(Effects::default());
                    }
                    if round.outstanding() != [juror] {
                        round.results.insert(juror, report.clone());
                        tracing::debug!(job_id = %record.id(), %juror, "juror's result sealed");
                        return Ok(Effects::default());
                    }
                    // The last seat closes the round; an automatic escalation seats eligible
                    // workers, so it needs them.
                    let none = HashSet::new();
                    let eligible = match (&eligible, plan.escalation) {
                        (Some(e), _) => e,
                        (None, Escalation::Manual) => &none,
                        (None, Escalation::Auto) => {
                            needs_eligible = true;
                            return Ok(Effects::default());
                        }
                    };
                    round.results.insert(juror, report.clone());
                    close(record, plan, state, eligible)
                })
                .await?;
            if !needs_eligible {
                break effects;
            }
            eligible = Some(self.eligible().await?);
        };
        Ok(Decision::of(self.apply(effects).await?))
    }

    /// A juror that will not deliver (its task dead-lettered, or its report refused): it is
    /// replaced by the next eligible worker of the order.
    pub async fn on_juror_failed(
        &self,
        record: &JobRecord,
        juror: Address,
        reason: &str,
    ) -> Result<Decision> {
        let eligible = self.eligible().await?;
        let effects = self
            .change(Some(record), record.id(), |record, state| {
                let plan = plan_of(record)?;
                // The next eligible worker of the order (the juror itself counts as called).
                let (next, passed) = seat(plan, state, 1, &eligible);
                let Some(round) = state.current_mut() else {
                    return Ok(Effects::default());
                };
                if round.closed.is_some()
                    || !round.members.contains(&juror)
                    || round.results.contains_key(&juror)
                {
                    return Ok(Effects::default());
                }
                round.members.retain(|m| *m != juror);
                round.replaced.push(Replaced {
                    worker: juror,
                    reason: reason.to_string(),
                });
                round.replaced.extend(passed);
                tracing::warn!(job_id = %record.id(), %juror, %reason, "juror replaced");
                metrics::juror_replaced();
                if !next.is_empty() {
                    round.members.extend(&next);
                    return Ok(Effects {
                        seat: next,
                        ..Effects::default()
                    });
                }
                if round.members.is_empty() {
                    let outcome = JobOutcome::infrastructure_failure(
                        record,
                        "VM Spawn Failed",
                        "jury_unavailable: no juror delivered and the pool has no worker left",
                        0,
                    );
                    return Ok(Effects {
                        outcome: Some(outcome),
                        ..Effects::default()
                    });
                }
                // Nobody left to call: the round closes with the seats it has.
                if round.complete() {
                    return close(record, plan, state, &eligible);
                }
                Ok(Effects::default())
            })
            .await?;
        Ok(Decision::of(self.apply(effects).await?))
    }

    /// `POST /jobs/:jobId/escalate`: an escalated job gets a fresh jury of the next tier.
    /// `Ok(Err(Rejected::Conflict))` (nothing changed) when the job is not escalated, is at
    /// tier 7, or there are not enough fresh eligible workers; `Ok(Ok(None))` when there is no
    /// such job.
    pub async fn escalate(
        &self,
        id: Uuid,
    ) -> Result<std::result::Result<Option<JobRecord>, Rejected>> {
        let known = match self.store.get(id).await? {
            None => return Ok(Ok(None)),
            Some(r) if r.jury.is_none() => {
                return Ok(Err(conflict(
                    "not_escalated",
                    format!("job {id} has trust tier 1: no jury to escalate"),
                )))
            }
            Some(r) => r,
        };
        let eligible = self.eligible().await?;
        let mut refused = None;
        let (record, effects) = self
            .change(Some(&known), id, |record, state| {
                refused = None;
                let plan = plan_of(record)?;
                if !state.escalated {
                    refused = Some(conflict(
                        "not_escalated",
                        format!("job {id} is {}, not escalated", record.status().as_str()),
                    ));
                    return Ok(Effects::default());
                }
                match escalate_round(plan, state, &eligible, MAX_TIER) {
                    Ok(seat) => {
                        state.escalated = false;
                        Ok(Effects {
                            seat,
                            ..Effects::default()
                        })
                    }
                    Err(refusal) => {
                        refused = Some(refusal);
                        Ok(Effects::default())
                    }
                }
            })
            .await?;
        // `change` does not call back on a final job: not escalated either.
        if refused.is_none() && record.outcome.is_some() {
            refused = Some(conflict(
                "not_escalated",
                format!("job {id} is {}, not escalated", record.status().as_str()),
            ));
        }
        if let Some(refusal) = refused {
            return Ok(Err(refusal));
        }
        let record = record.clone();
        self.apply((record.clone(), effects)).await?;
        tracing::info!(job_id = %id, "escalated to a fresh jury");
        Ok(Ok(Some(record)))
    }

    /// After a restart of an embedded coordinator (its in-memory queue is empty): queues the
    /// tasks of the current round's jurors that have not delivered, as delivery `attempt`.
    pub async fn resume(&self, record: &JobRecord, attempt: u32) -> Result<Option<JobOutcome>> {
        let Some(round) = record.jury_state.as_ref().and_then(|s| s.current()) else {
            return self.open(record).await;
        };
        if round.closed.is_some() {
            return Ok(None);
        }
        let payload = serde_json::to_string(&record.spec)?;
        for juror in round.outstanding() {
            let mut task =
                JobEnvelope::for_worker(record.id().to_string(), payload.clone(), identity(&juror));
            task.attempt = attempt;
            self.queue.enqueue(task).await?;
        }
        Ok(None)
    }

    /// Read, change, compare-and-set: `f` sees the record and a copy of its jury state and may
    /// change the state; a change is written as the next version. A final job is not changed
    /// (`f` is not called). `known` is the record as the caller just read it (the first
    /// attempt starts from it; a stale copy costs one failed compare-and-set).
    async fn change<F>(
        &self,
        known: Option<&JobRecord>,
        id: Uuid,
        mut f: F,
    ) -> Result<(JobRecord, Effects)>
    where
        F: FnMut(&JobRecord, &mut JuryState) -> Result<Effects>,
    {
        let mut known = known.cloned();
        for _ in 0..MAX_CONFLICTS {
            let read = match known.take() {
                Some(r) => Some(r),
                None => self.store.get(id).await?,
            };
            let Some(mut record) = read else {
                return Err(Error::Store(format!(
                    "job {id} vanished (retention too short?)"
                )));
            };
            if record.outcome.is_some() {
                return Ok((record, Effects::default()));
            }
            let before = record.jury_state.clone().unwrap_or_default();
            let mut state = before.clone();
            let effects = f(&record, &mut state)?;
            if state == before {
                return Ok((record, effects));
            }
            state.version = before.version + 1;
            if self.store.save_jury(id, &state).await? {
                record.jury_state = Some(state);
                return Ok((record, effects));
            }
            tracing::debug!(job_id = %id, "jury changed meanwhile; reading it again");
        }
        Err(Error::Store(format!(
            "job {id}: the jury kept changing over {MAX_CONFLICTS} attempts"
        )))
    }

    /// Queues the tasks of the jurors a stored change seated and books its votes; returns its
    /// final outcome.
    async fn apply(&self, (record, effects): (JobRecord, Effects)) -> Result<Option<JobOutcome>> {
        let at = now_ms();
        for (worker, vote) in &effects.votes {
            match vote {
                Vote::Agreed => metrics::juror_vote(true),
                Vote::Dissented => {
                    tracing::info!(job_id = %record.id(), %worker, "juror dissented");
                    metrics::juror_vote(false);
                }
                Vote::Undecided => {}
            }
            if self.book.record(*worker, *vote, at).await? == Booked::Suspended {
                metrics::worker_suspended();
                tracing::warn!(
                    %worker,
                    job_id = %record.id(),
                    "worker suspended from new juries: too many dissents in the window \
                     (lift it with `notary-coordinator workers unsuspend`)"
                );
            }
        }
        if !effects.seat.is_empty() {
            let payload = serde_json::to_string(&record.spec)?;
            // Jurors start together: their tasks are queued at once, not one after another.
            futures::future::try_join_all(effects.seat.iter().map(|juror| {
                self.queue.enqueue(JobEnvelope::for_worker(
                    record.id().to_string(),
                    payload.clone(),
                    identity(juror),
                ))
            }))
            .await?;
            tracing::info!(job_id = %record.id(), jurors = effects.seat.len(), "jurors seated");
        }
        Ok(effects.outcome)
    }
}

/// The job's plan (a jury job has one).
fn plan_of(record: &JobRecord) -> Result<&JuryPlan> {
    record
        .jury
        .as_ref()
        .ok_or_else(|| Error::Store(format!("job {} has no jury", record.id())))
}

/// The next `n` eligible workers of the order not called on this job yet, and those passed
/// over on the way (not eligible when their turn came).
fn seat(
    plan: &JuryPlan,
    state: &JuryState,
    n: u8,
    eligible: &HashSet<Address>,
) -> (Vec<Address>, Vec<Replaced>) {
    let mut members = Vec::new();
    let mut passed = Vec::new();
    for next in uncalled(plan.seed.as_bytes(), &plan.pool, &state.called()) {
        if members.len() == n as usize {
            break;
        }
        if eligible.contains(&next) {
            members.push(next);
        } else {
            passed.push(Replaced {
                worker: next,
                reason: "not eligible when called (gone from the fleet)".into(),
            });
        }
    }
    (members, passed)
}

/// Opens the next round (up to tier `cap`) of a split jury, or says why it cannot be.
fn escalate_round(
    plan: &JuryPlan,
    state: &mut JuryState,
    eligible: &HashSet<Address>,
    cap: u8,
) -> std::result::Result<Vec<Address>, Rejected> {
    let tier = state.current().map_or(plan.tier, |r| r.tier);
    let Some(next) = next_tier(tier).filter(|t| *t <= cap) else {
        return Err(conflict(
            "max_tier",
            format!("the jury is at tier {tier}, the highest allowed ({cap})"),
        ));
    };
    let (members, passed) = seat(plan, state, next, eligible);
    if members.len() < next as usize {
        return Err(conflict(
            "not_enough_workers",
            format!(
                "a fresh jury of {next} needs {next} eligible workers not called on this job; {} are left",
                members.len()
            ),
        ));
    }
    state.rounds.push(Round::new(next, members.clone(), passed));
    Ok(members)
}

/// Closes the current round (every seat delivered) and says what follows.
fn close(
    record: &JobRecord,
    plan: &JuryPlan,
    state: &mut JuryState,
    eligible: &HashSet<Address>,
) -> Result<Effects> {
    let round = state.current_mut().expect("a round to close");
    let tier = round.tier;
    let closed = round.close(now_ms()).clone();
    tracing::info!(
        job_id = %record.id(),
        tier,
        outcome = closed.outcome.as_str(),
        dissenting = ?closed.dissenting,
        "jury round closed"
    );
    metrics::jury_round(tier, closed.outcome.as_str());
    let votes: Vec<(Address, Vote)> = round
        .members
        .iter()
        .filter(|m| round.results.contains_key(*m))
        .map(|m| {
            let vote = if closed.agreeing.contains(m) {
                Vote::Agreed
            } else if closed.dissenting.contains(m) {
                Vote::Dissented
            } else {
                Vote::Undecided
            };
            (*m, vote)
        })
        .collect();
    if closed.outcome == RoundOutcome::Unanimous {
        return Ok(Effects {
            votes,
            outcome: Some(final_outcome(record, state)?),
            ..Effects::default()
        });
    }
    if plan.escalation == Escalation::Auto {
        match escalate_round(plan, state, eligible, plan.max_tier) {
            Ok(seat) => {
                return Ok(Effects {
                    seat,
                    votes,
                    outcome: None,
                })
            }
            Err(refusal) => {
                tracing::warn!(job_id = %record.id(), ?refusal, "automatic escalation stopped; the job waits as escalated")
            }
        }
    }
    state.escalated = true;
    Ok(Effects {
        votes,
        ..Effects::default()
    })
}

/// The outcome the jury's latest verdict gives (final when unanimous, provisional for an
/// escalated job): its first juror's report, with every agreeing attestation over the same
/// signed fields (the registry records them together; a juror of another accepted runtime
/// agrees on output and fuel but signs another `runtimeId`, so its signature stays in the
/// round's attestations, not in the record's). `None` without a verdict.
pub fn verdict_outcome(record: &JobRecord, state: &JuryState) -> Option<JobOutcome> {
    let (round, report) = state.verdict()?;
    let mut outcome = outcome_from_report(record, report);
    outcome.attestations = round
        .agreeing_attestations()
        .into_iter()
        .filter(|a| a.fields == report.attestation.fields)
        .collect();
    Some(outcome)
}

/// The final outcome of a unanimous jury.
fn final_outcome(record: &JobRecord, state: &JuryState) -> Result<JobOutcome> {
    verdict_outcome(record, state)
        .ok_or_else(|| Error::Store(format!("job {}: no verdict to finalize", record.id())))
}

fn conflict(reason: &str, message: String) -> Rejected {
    Rejected::Conflict {
        message,
        params: json!({ "reason": reason }),
    }
}
