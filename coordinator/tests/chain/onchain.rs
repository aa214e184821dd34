//! On-chain compute requests end to end (issue 14): a consumer contract asks the
//! `ComputeCoordinator`, the coordinator sees the request only once it has its confirmations,
//! runs the registered module on the request's input, and delivers the result with its worker's
//! signature, which the contract checks against the registry; each interval once, also for a
//! subscription across a coordinator SIGKILL and for a consumer that reverts.

use std::time::{Duration, Instant};

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::Provider;
use alloy::sol_types::{SolCall, SolConstructor, SolEvent};
use notary_coordinator::chain::contracts::{ComputeCoordinator as C, SampleConsumer};
use notary_coordinator::compute::onchain::interval_job_id;
use notary_coordinator::compute::{first_link, next_link, step_id, ChainContainer};
use notary_protocol::{sha256, Digest32};
use serde_json::json;

use crate::payments::{spawn_coordinator, PaidEnv};
use crate::support::{publish_file, Coordinator};

/// Dev account that owns the consumer contracts.
const ASKER: usize = 2;
const INC: &str = "console.log(JSON.stringify({n: inputData.n + 1}));";
const INPUT: &[u8] = b"{\"n\":4}";
const OUTPUT: &[u8] = b"{\"n\":5}\n";
const PAYMENT: u64 = 1000;

/// `containersHash` of the one-container chain of the module `hash` (hex).
fn containers_hash(hash: &str) -> B256 {
    let module = Digest32::from_hex(hash).unwrap();
    let link = first_link(&[ChainContainer {
        id: String::new(),
        module,
    }]);
    B256::from(link.0)
}

/// Deploys a `SampleConsumer` of the environment's `ComputeCoordinator` (as the asker).
async fn deploy_consumer(env: &PaidEnv) -> Address {
    let mut code = SampleConsumer::BYTECODE.to_vec();
    code.extend(
        SampleConsumer::constructorCall {
            coordinator_: env.d.compute,
        }
        .abi_encode(),
    );
    env.account(ASKER)
        .await
        .transact(None, U256::ZERO, Bytes::from(code))
        .await
        .unwrap()
        .contract_address
        .unwrap()
}

/// The consumer asks for `frequency` runs one `period` apart (1: `ask`); the request id.
async fn ask(env: &PaidEnv, consumer: Address, hash: B256, frequency: u32, period: u32) -> U256 {
    let input = Bytes::from_static(INPUT);
    let data = if frequency == 1 {
        SampleConsumer::askCall {
            containersHash: hash,
            input,
            maxFuel: 50_000_000,
            redundancy: 1,
        }
        .abi_encode()
    } else {
        SampleConsumer::subscribeCall {
            containersHash: hash,
            input,
            maxFuel: 50_000_000,
            redundancy: 1,
            frequency,
            period,
        }
        .abi_encode()
    };
    consumer_asks(env, consumer, PAYMENT * u64::from(frequency), data).await
}

/// The asker sends `data` with `value` wei to the consumer, which asks; the request id.
async fn consumer_asks(env: &PaidEnv, consumer: Address, value: u64, data: Vec<u8>) -> U256 {
    let receipt = env
        .account(ASKER)
        .await
        .transact(Some(consumer), U256::from(value), Bytes::from(data))
        .await
        .unwrap();
    crate::compute::requested(&receipt).requestId
}

/// Every `ComputeDelivered` of the contract: (request, interval, accepted).
async fn deliveries(env: &PaidEnv) -> Vec<(U256, u32, bool)> {
    env.owner
        .provider()
        .get_logs(
            &alloy::rpc::types::Filter::new()
                .address(env.d.compute)
                .event_signature(C::ComputeDelivered::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .unwrap()
        .iter()
        .filter_map(|l| C::ComputeDelivered::decode_log(&l.inner).ok())
        .map(|e| (e.requestId, e.interval, e.accepted))
        .collect()
}

/// Waits until `request`'s `interval` is delivered on chain.
async fn wait_delivered(env: &PaidEnv, request: U256, interval: u32, limit: Duration) {
    let compute = C::new(env.d.compute, env.owner.provider());
    let deadline = Instant::now() + limit;
    while !compute.delivered(request, interval).call().await.unwrap() {
        assert!(
            Instant::now() < deadline,
            "request {request} interval {interval} not delivered in {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn pending_onchain(c: &Coordinator) -> u64 {
    let (status, info) = c.get("/info").await;
    assert_eq!(status, 200, "{info}");
    info["pending"]["onchain"].as_u64().unwrap()
}

async fn set_broken(env: &PaidEnv, consumer: Address, broken: bool) {
    env.account(ASKER)
        .await
        .transact(
            Some(consumer),
            U256::ZERO,
            Bytes::from(SampleConsumer::setBrokenCall { broken_: broken }.abi_encode()),
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_seen_after_its_confirmations_and_delivered_once_even_to_a_reverting_consumer()
{
    let env = PaidEnv::start().await;
    let mut config = env.config(2);
    config.payments.as_mut().unwrap().compute_coordinator = Some(env.d.compute);
    let c = Coordinator::start(config).await;
    let hash = containers_hash(&publish_file(&c, "inc", "js", INC).await);
    let consumer = deploy_consumer(&env).await;
    let compute = C::new(env.d.compute, env.owner.provider());
    let sample = SampleConsumer::new(consumer, env.owner.provider());

    // One block (its own) of the two confirmations: not seen, however long we wait.
    let id = ask(&env, consumer, hash, 1, 0).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(pending_onchain(&c).await, 0);
    assert!(deliveries(&env).await.is_empty());

    // A second block confirms it: run, delivered with the signature the contract checked.
    env.node.rpc("evm_mine", json!([])).await.unwrap();
    wait_delivered(&env, id, 0, Duration::from_secs(60)).await;
    assert_eq!(
        sample.outputs(id, 0).call().await.unwrap(),
        Bytes::from_static(OUTPUT)
    );
    let job = interval_job_id(84532, env.d.compute, id, 0);
    let (status, view) = c.get(&format!("/jobs/{job}")).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["actualHash"], sha256(OUTPUT).to_hex(), "{view}");
    assert_eq!(view["inputHash"], sha256(INPUT).to_hex());
    assert_eq!(view["expectedHash"], hex::encode(hash), "the chain link");
    let signing_hash =
        Digest32::from_hex(view["attestation"]["signingHash"].as_str().unwrap()).unwrap();
    let chain_hash = next_link(&Digest32(hash.0), &signing_hash);
    assert_eq!(
        sample.attestations(id, 0).call().await.unwrap(),
        B256::from(chain_hash.0),
        "the consumer gets the chain hash, naming the attestation the contract checked"
    );
    assert_eq!(compute.earned().call().await.unwrap(), U256::from(PAYMENT));

    // A consumer that reverts: delivered all the same (not accepted), and the node is paid.
    set_broken(&env, consumer, true).await;
    let broken = ask(&env, consumer, hash, 1, 0).await;
    env.node.rpc("evm_mine", json!([])).await.unwrap();
    wait_delivered(&env, broken, 0, Duration::from_secs(60)).await;
    // And the next request is not blocked by it.
    set_broken(&env, consumer, false).await;
    let after = ask(&env, consumer, hash, 1, 0).await;
    env.node.rpc("evm_mine", json!([])).await.unwrap();
    wait_delivered(&env, after, 0, Duration::from_secs(60)).await;

    // Give the watcher a few more rounds: nothing is delivered twice, nothing is pending.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut got = deliveries(&env).await;
    got.sort();
    assert_eq!(
        got,
        vec![(id, 0, true), (broken, 0, false), (after, 0, true)]
    );
    assert_eq!(sample.received().call().await.unwrap(), U256::from(2));
    assert_eq!(
        compute.earned().call().await.unwrap(),
        U256::from(3 * PAYMENT)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while pending_onchain(&c).await != 0 {
        assert!(Instant::now() < deadline, "pending.onchain stays above 0");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_is_delivered_once_per_interval_across_a_coordinator_kill() {
    let env = PaidEnv::start().await;
    let dir = tempfile::tempdir().unwrap();
    let compute_flag = env.d.compute.to_string();
    let flags = [
        "--compute-coordinator",
        compute_flag.as_str(),
        "--compute-poll-ms",
        "200",
    ];
    let (mut first, url) = spawn_coordinator(&env, dir.path(), &flags).await;
    let c = Coordinator::remote(url.clone());
    let hash = containers_hash(&publish_file(&c, "inc", "js", INC).await);
    let consumer = deploy_consumer(&env).await;

    // Three runs, one every 4 s: the first is due at once.
    let period = 4;
    let sub = ask(&env, consumer, hash, 3, period).await;
    wait_delivered(&env, sub, 0, Duration::from_secs(60)).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while pending_onchain(&c).await != 2 {
        assert!(Instant::now() < deadline, "two intervals should be pending");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The coordinator dies; meanwhile interval 1 comes due and another request is made.
    first.kill().unwrap();
    first.wait().unwrap();
    let single = ask(&env, consumer, hash, 1, 0).await;
    tokio::time::sleep(Duration::from_secs(u64::from(period))).await;
    assert!(!C::new(env.d.compute, env.owner.provider())
        .delivered(sub, 1)
        .call()
        .await
        .unwrap());

    // Restarted on the same data: the stored cursor finds the request made while it was down,
    // and every interval is delivered once.
    let (mut second, _) = spawn_coordinator(&env, dir.path(), &flags).await;
    wait_delivered(&env, single, 0, Duration::from_secs(60)).await;
    wait_delivered(&env, sub, 1, Duration::from_secs(60)).await;
    wait_delivered(&env, sub, 2, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let mut got = deliveries(&env).await;
    got.sort();
    assert_eq!(
        got,
        vec![
            (sub, 0, true),
            (sub, 1, true),
            (sub, 2, true),
            (single, 0, true)
        ]
    );
    let sample = SampleConsumer::new(consumer, env.owner.provider());
    assert_eq!(sample.received().call().await.unwrap(), U256::from(4));
    second.kill().unwrap();
    second.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_request_runs_its_containers_in_order_and_a_failed_one_is_refunded() {
    let env = PaidEnv::start().await;
    let mut config = env.config(1);
    config.payments.as_mut().unwrap().compute_coordinator = Some(env.d.compute);
    let c = Coordinator::start(config).await;
    let inc = publish_file(&c, "inc", "js", INC).await;
    let double = publish_file(
        &c,
        "double",
        "js",
        "console.log(JSON.stringify({n: inputData.n * 2}));",
    )
    .await;
    let consumer = deploy_consumer(&env).await;
    let modules: Vec<B256> = [&inc, &double]
        .iter()
        .map(|h| B256::from(Digest32::from_hex(h).unwrap().0))
        .collect();
    let ask_chain = |max_fuel: u64| {
        let env = &env;
        let modules = modules.clone();
        async move {
            let call = SampleConsumer::askChainCall {
                containers: modules,
                input: Bytes::from_static(INPUT),
                maxFuel: max_fuel,
                redundancy: 1,
                frequency: 1,
                period: 0,
            };
            consumer_asks(env, consumer, PAYMENT, call.abi_encode()).await
        }
    };

    // ({"n":4} + 1) * 2, each step its own attested job, the second reading the first's output.
    let id = ask_chain(50_000_000).await;
    wait_delivered(&env, id, 0, Duration::from_secs(60)).await;
    let sample = SampleConsumer::new(consumer, env.owner.provider());
    assert_eq!(
        sample.outputs(id, 0).call().await.unwrap(),
        Bytes::from_static(b"{\"n\":10}\n")
    );
    let head = interval_job_id(84532, env.d.compute, id, 0);
    let (_, first) = c.get(&format!("/jobs/{head}")).await;
    let (_, second) = c.get(&format!("/jobs/{}", step_id(head, 1))).await;
    assert_eq!(first["actualHash"], sha256(OUTPUT).to_hex(), "{first}");
    assert_eq!(second["inputHash"], sha256(OUTPUT).to_hex(), "{second}");
    let link = |v: &serde_json::Value| {
        Digest32::from_hex(v["attestation"]["signingHash"].as_str().unwrap()).unwrap()
    };
    let link0 = first_link(&[
        ChainContainer {
            id: String::new(),
            module: Digest32::from_hex(&inc).unwrap(),
        },
        ChainContainer {
            id: String::new(),
            module: Digest32::from_hex(&double).unwrap(),
        },
    ]);
    let link1 = next_link(&link0, &link(&first));
    assert_eq!(second["expectedHash"], link1.to_hex());
    assert_eq!(
        sample.attestations(id, 0).call().await.unwrap(),
        B256::from(next_link(&link1, &link(&second)).0)
    );

    // A chain that needs more fuel than the request allows is refused, and its payment goes
    // back to the consumer: the second step gets only what the first left, and runs out.
    let fuel_of_first = first["fuelUsed"].as_u64().unwrap();
    let short = ask_chain(fuel_of_first + 1000).await;
    let head = interval_job_id(84532, env.d.compute, short, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, v) = c.get(&format!("/jobs/{}", step_id(head, 1))).await;
        if status == 200 && v["status"] != "running" {
            assert_eq!(v["result"], "ERROR", "{v}");
            assert!(
                v["errorMessage"].as_str().unwrap().contains("out of fuel"),
                "{v}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "the second step did not end");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let compute = C::new(env.d.compute, env.owner.provider());
    wait_ended(&env, short, 0).await;
    assert!(!compute.delivered(short, 0).call().await.unwrap());
    assert!(compute.refused(short, 0).call().await.unwrap());
    assert_eq!(
        compute.refunds(consumer).call().await.unwrap(),
        U256::from(PAYMENT)
    );

    // Input that is not text can never run: refused at once.
    let call = SampleConsumer::askCall {
        containersHash: containers_hash(&inc),
        input: Bytes::from_static(&[0xff, 0xfe]),
        maxFuel: 50_000_000,
        redundancy: 1,
    };
    let binary = consumer_asks(&env, consumer, PAYMENT, call.abi_encode()).await;
    wait_ended(&env, binary, 0).await;
    assert!(compute.refused(binary, 0).call().await.unwrap());
    assert_eq!(
        compute.refunds(consumer).call().await.unwrap(),
        U256::from(2 * PAYMENT)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while pending_onchain(&c).await != 0 {
        assert!(
            Instant::now() < deadline,
            "an ended interval is not pending"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `request`'s `interval` has ended on chain (delivered or refused).
async fn wait_ended(env: &PaidEnv, request: U256, interval: u32) {
    let compute = C::new(env.d.compute, env.owner.provider());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !compute.ended(request, interval).call().await.unwrap() {
        assert!(
            Instant::now() < deadline,
            "interval {interval} of {request} never ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A delivery the contract refuses for good (here: the worker that signed it was deregistered
/// from the registry after the run) is not retried forever: the interval is refused and the
/// consumer refunded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_the_contract_refuses_becomes_a_refund() {
    let env = PaidEnv::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key = notary_protocol::WorkerKey::generate();
    let key_file = dir.path().join("worker.key");
    std::fs::write(&key_file, key.to_hex()).unwrap();
    let mut config = env.config(1);
    config.worker_key_file = Some(key_file);
    config.payments.as_mut().unwrap().compute_coordinator = Some(env.d.compute);
    let c = Coordinator::start(config).await;
    // Registered by the coordinator at start; the registry's owner removes it.
    let deregister =
        notary_coordinator::chain::contracts::VerificationRegistry::deregisterWorkerCall {
            worker: key.address(),
        };
    env.owner
        .transact(
            Some(env.d.registry),
            U256::ZERO,
            Bytes::from(deregister.abi_encode()),
        )
        .await
        .unwrap();
    let hash = containers_hash(&publish_file(&c, "inc", "js", INC).await);
    let consumer = deploy_consumer(&env).await;
    let id = ask(&env, consumer, hash, 1, 0).await;
    wait_ended(&env, id, 0).await;
    let compute = C::new(env.d.compute, env.owner.provider());
    assert!(!compute.delivered(id, 0).call().await.unwrap());
    assert!(compute.refused(id, 0).call().await.unwrap());
    assert_eq!(
        compute.refunds(consumer).call().await.unwrap(),
        U256::from(PAYMENT)
    );
    assert_eq!(compute.earned().call().await.unwrap(), U256::ZERO);
}
