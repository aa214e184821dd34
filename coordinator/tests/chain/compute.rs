//! `ComputeCoordinator` on a real node (issue 14), driven by hand: a consumer contract asks,
//! the node delivers once with a registered worker's signature the contract checks, a
//! subscription's intervals come due one period apart, a reverting consumer neither loses the
//! node its payment nor blocks the delivery, and a chain is accepted only when its steps link
//! as Notary links them. (`onchain.rs` has the coordinator do it.)

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::Provider;
use alloy::sol_types::{SolCall, SolConstructor, SolEvent};
use notary_coordinator::chain::contracts::{
    ComputeCoordinator as C, IAttestations, SampleConsumer, VerificationRegistry as R,
};
use notary_coordinator::chain::Chain;
use notary_protocol::{sha256, Attestation, AttestationDomain, Digest32, Verdict, WorkerKey};
use serde_json::json;
use uuid::Uuid;

use crate::payments::PaidEnv;

const CONSUMER_OWNER: usize = 2;
const INPUT: &[u8] = b"{\"n\":4}";
const OUTPUT: &[u8] = b"{\"n\":5}\n";

/// The chain link of a one-container chain of `module` (what `containersHash` names).
fn link(module: [u8; 32]) -> [u8; 32] {
    sha256(&[b"notary-chain:v1".as_slice(), &module].concat()).0
}

struct Setup {
    env: PaidEnv,
    consumer: Address,
    asker: Chain,
    worker: WorkerKey,
    domain: AttestationDomain,
}

impl Setup {
    async fn start() -> Setup {
        let env = PaidEnv::start().await;
        let worker = WorkerKey::generate();
        env.owner
            .transact(
                Some(env.d.registry),
                U256::ZERO,
                Bytes::from(
                    R::registerWorkerCall {
                        worker: worker.address(),
                        configHash: B256::repeat_byte(9),
                    }
                    .abi_encode(),
                ),
            )
            .await
            .unwrap();
        let asker = env.account(CONSUMER_OWNER).await;
        let mut code = SampleConsumer::BYTECODE.to_vec();
        code.extend(
            SampleConsumer::constructorCall {
                coordinator_: env.d.compute,
            }
            .abi_encode(),
        );
        let consumer = asker
            .transact(None, U256::ZERO, Bytes::from(code))
            .await
            .unwrap()
            .contract_address
            .unwrap();
        let domain = AttestationDomain {
            chain_id: 84532,
            verifying_contract: env.d.registry,
        };
        Setup {
            env,
            consumer,
            asker,
            worker,
            domain,
        }
    }

    /// The consumer asks (`frequency` 1: `ask`, else `subscribe` every `period`); the id.
    async fn ask(&self, frequency: u32, period: u32, value: u64) -> U256 {
        let data = if frequency == 1 {
            SampleConsumer::askCall {
                containersHash: B256::from(link([7; 32])),
                input: Bytes::from_static(INPUT),
                maxFuel: 1_000_000,
                redundancy: 1,
            }
            .abi_encode()
        } else {
            SampleConsumer::subscribeCall {
                containersHash: B256::from(link([7; 32])),
                input: Bytes::from_static(INPUT),
                maxFuel: 1_000_000,
                redundancy: 1,
                frequency,
                period,
            }
            .abi_encode()
        };
        let receipt = self
            .asker
            .transact(Some(self.consumer), U256::from(value), Bytes::from(data))
            .await
            .unwrap();
        requested(&receipt).requestId
    }

    /// The attestation a worker signs for this request's job, as the contract takes it.
    fn attested(&self, output: &[u8], signer: &WorkerKey) -> (IAttestations::Attestation, Bytes) {
        let (a, sig, _) = self.step(sha256(INPUT), output, Digest32(link([7; 32])), signer);
        (a, sig)
    }

    /// A step's attestation (reading `input`, writing `output`, claiming the link `expected`),
    /// its signature and its EIP-712 signing hash.
    fn step(
        &self,
        input: Digest32,
        output: &[u8],
        expected: Digest32,
        signer: &WorkerKey,
    ) -> (IAttestations::Attestation, Bytes, Digest32) {
        let fields = Attestation {
            job_id: Uuid::new_v4(),
            code_hash: Digest32([7; 32]),
            input_hash: input,
            output_hash: sha256(output),
            expected_hash: expected,
            fuel_used: 50_000,
            result: Verdict::Invalid,
            runtime_id: Digest32([9; 32]),
        };
        let digest = fields.signing_hash(&self.domain);
        let signed = signer.sign(fields, &self.domain).unwrap();
        let (a, sig) = notary_coordinator::payments::registry::to_sol(&signed);
        let a = notary_coordinator::chain::contracts::compute_attestation(&a);
        (a, sig, digest)
    }

    async fn deliver(
        &self,
        from: &Chain,
        id: U256,
        interval: u32,
        output: &[u8],
        signer: &WorkerKey,
    ) -> Result<alloy::rpc::types::TransactionReceipt, String> {
        let (attestation, sig) = self.attested(output, signer);
        self.send(from, id, interval, output, attestation, sig)
            .await
    }

    /// `deliverCompute` of a one-step chain as `from`.
    async fn send(
        &self,
        from: &Chain,
        id: U256,
        interval: u32,
        output: &[u8],
        attestation: IAttestations::Attestation,
        signature: Bytes,
    ) -> Result<alloy::rpc::types::TransactionReceipt, String> {
        self.send_steps(
            from,
            id,
            interval,
            output,
            vec![attestation],
            vec![vec![signature]],
        )
        .await
    }

    /// `deliverCompute` as `from`.
    async fn send_steps(
        &self,
        from: &Chain,
        id: U256,
        interval: u32,
        output: &[u8],
        steps: Vec<IAttestations::Attestation>,
        signatures: Vec<Vec<Bytes>>,
    ) -> Result<alloy::rpc::types::TransactionReceipt, String> {
        let call = C::deliverComputeCall {
            requestId: id,
            interval,
            output: Bytes::copy_from_slice(output),
            steps,
            signatures,
        };
        from.transact(
            Some(self.env.d.compute),
            U256::ZERO,
            Bytes::from(call.abi_encode()),
        )
        .await
        .map_err(|e| e.to_string())
    }
}

/// The request a transaction made.
pub fn requested(receipt: &alloy::rpc::types::TransactionReceipt) -> C::ComputeRequested {
    receipt
        .inner
        .logs()
        .iter()
        .find_map(|l| C::ComputeRequested::decode_log(&l.inner).ok())
        .expect("ComputeRequested")
        .data
}

fn delivered(receipt: &alloy::rpc::types::TransactionReceipt) -> C::ComputeDelivered {
    receipt
        .inner
        .logs()
        .iter()
        .find_map(|l| C::ComputeDelivered::decode_log(&l.inner).ok())
        .expect("ComputeDelivered")
        .data
}

#[tokio::test]
async fn a_request_is_delivered_once_with_signatures_the_contract_checked() {
    let s = Setup::start().await;
    let compute = C::new(s.env.d.compute, s.env.owner.provider());
    let consumer = SampleConsumer::new(s.consumer, s.env.owner.provider());
    let id = s.ask(1, 0, 1000).await;
    assert_eq!(compute.requestCount().call().await.unwrap(), U256::from(1));

    // Only the node delivers; the output, the signer and the job must be right.
    assert!(s.deliver(&s.asker, id, 0, OUTPUT, &s.worker).await.is_err());
    let stranger = WorkerKey::generate();
    let err = s.deliver(&s.env.owner, id, 0, OUTPUT, &stranger).await;
    assert!(err.is_err(), "an unregistered signer does not count");
    let (mut attestation, sig) = s.attested(OUTPUT, &s.worker);
    let owner = &s.env.owner;
    let lie = s
        .send(
            owner,
            id,
            0,
            b"something else",
            attestation.clone(),
            sig.clone(),
        )
        .await;
    assert!(lie.is_err(), "an output that is not the attested one");
    attestation.inputHash = B256::repeat_byte(1);
    let other = s.send(owner, id, 0, OUTPUT, attestation, sig).await;
    assert!(other.is_err(), "an attestation of another input");

    let receipt = s
        .deliver(&s.env.owner, id, 0, OUTPUT, &s.worker)
        .await
        .unwrap();
    let event = delivered(&receipt);
    assert!(event.accepted);
    assert_eq!(
        consumer.outputs(id, 0).call().await.unwrap(),
        Bytes::from_static(OUTPUT)
    );
    assert_eq!(
        consumer.attestations(id, 0).call().await.unwrap(),
        event.attestationHash
    );
    assert!(
        s.deliver(&s.env.owner, id, 0, OUTPUT, &s.worker)
            .await
            .is_err(),
        "each interval once"
    );
    assert_eq!(compute.earned().call().await.unwrap(), U256::from(1000));
}

#[tokio::test]
async fn subscription_intervals_come_due_and_a_reverting_consumer_blocks_nothing() {
    let s = Setup::start().await;
    let compute = C::new(s.env.d.compute, s.env.owner.provider());
    let consumer = SampleConsumer::new(s.consumer, s.env.owner.provider());
    let id = s.ask(2, 3600, 2000).await;
    s.deliver(&s.env.owner, id, 0, OUTPUT, &s.worker)
        .await
        .unwrap();
    assert!(
        s.deliver(&s.env.owner, id, 1, OUTPUT, &s.worker)
            .await
            .is_err(),
        "the second interval is not due yet"
    );
    assert!(
        s.deliver(&s.env.owner, id, 2, OUTPUT, &s.worker)
            .await
            .is_err(),
        "there is no third interval"
    );
    s.env
        .node
        .rpc("evm_increaseTime", json!([3600]))
        .await
        .unwrap();
    // The consumer breaks: the delivery still counts and is paid.
    s.asker
        .transact(
            Some(s.consumer),
            U256::ZERO,
            Bytes::from(SampleConsumer::setBrokenCall { broken_: true }.abi_encode()),
        )
        .await
        .unwrap();
    let receipt = s
        .deliver(&s.env.owner, id, 1, OUTPUT, &s.worker)
        .await
        .unwrap();
    assert!(!delivered(&receipt).accepted, "the consumer reverted");
    assert_eq!(consumer.received().call().await.unwrap(), U256::from(1));
    assert!(compute.delivered(id, 1).call().await.unwrap());
    assert_eq!(compute.earned().call().await.unwrap(), U256::from(2000));

    // The node withdraws what it earned.
    let to = Address::repeat_byte(0x42);
    s.env
        .owner
        .transact(
            Some(s.env.d.compute),
            U256::ZERO,
            Bytes::from(C::withdrawCall { to }.abi_encode()),
        )
        .await
        .unwrap();
    assert_eq!(
        s.env.owner.provider().get_balance(to).await.unwrap(),
        U256::from(2000)
    );
    assert_eq!(compute.earned().call().await.unwrap(), U256::ZERO);
}

#[tokio::test]
async fn a_chain_is_delivered_only_as_its_links_say() {
    let s = Setup::start().await;
    let modules = vec![B256::repeat_byte(7), B256::repeat_byte(8)];
    let receipt = s
        .asker
        .transact(
            Some(s.consumer),
            U256::from(1000),
            Bytes::from(
                SampleConsumer::askChainCall {
                    containers: modules.clone(),
                    input: Bytes::from_static(INPUT),
                    maxFuel: 100_000,
                    redundancy: 1,
                    frequency: 1,
                    period: 0,
                }
                .abi_encode(),
            ),
        )
        .await
        .unwrap();
    let asked = requested(&receipt);
    let link0 = sha256(&[b"notary-chain:v1".as_slice(), &[7; 32], &[8; 32]].concat());
    assert_eq!(
        asked.containersHash,
        B256::from(link0.0),
        "Notary's first link"
    );
    assert_eq!(asked.containers, modules);
    let id = asked.requestId;

    // Step 0 reads the input and claims link₀; step 1 reads step 0's output and claims link₁.
    let mid: &[u8] = b"{\"n\":5}\n";
    let (a0, sig0, d0) = s.step(sha256(INPUT), mid, link0, &s.worker);
    let link1 = sha256(&[link0.0, d0.0].concat());
    let (a1, sig1, d1) = s.step(sha256(mid), OUTPUT, link1, &s.worker);
    let owner = &s.env.owner;
    let send = |steps: Vec<IAttestations::Attestation>, sigs: Vec<Bytes>| {
        let sigs = sigs.into_iter().map(|s| vec![s]).collect();
        s.send_steps(owner, id, 0, OUTPUT, steps, sigs)
    };
    assert!(
        send(vec![a1.clone()], vec![sig1.clone()]).await.is_err(),
        "one step of two"
    );
    assert!(
        send(
            vec![a1.clone(), a0.clone()],
            vec![sig1.clone(), sig0.clone()]
        )
        .await
        .is_err(),
        "the steps out of order"
    );
    let (wrong, wrong_sig, _) = s.step(sha256(mid), OUTPUT, link0, &s.worker);
    assert!(
        send(vec![a0.clone(), wrong], vec![sig0.clone(), wrong_sig])
            .await
            .is_err(),
        "step 1 claiming another link"
    );
    let (skip, skip_sig, _) = s.step(sha256(INPUT), OUTPUT, link1, &s.worker);
    assert!(
        send(vec![a0.clone(), skip], vec![sig0.clone(), skip_sig])
            .await
            .is_err(),
        "step 1 not reading step 0's output"
    );
    let receipt = send(vec![a0, a1], vec![sig0, sig1]).await.unwrap();
    let event = delivered(&receipt);
    let chain_hash = sha256(&[link1.0, d1.0].concat());
    assert_eq!(
        event.attestationHash,
        B256::from(chain_hash.0),
        "the chain hash"
    );
    assert!(event.accepted);
    let consumer = SampleConsumer::new(s.consumer, s.env.owner.provider());
    assert_eq!(
        consumer.outputs(id, 0).call().await.unwrap(),
        Bytes::from_static(OUTPUT)
    );
}

#[tokio::test]
async fn a_refused_interval_ends_undelivered_and_its_payment_goes_back() {
    let s = Setup::start().await;
    let compute = C::new(s.env.d.compute, s.env.owner.provider());
    let id = s.ask(2, 3600, 2000).await;
    async fn refuse_as(
        from: &Chain,
        compute: Address,
        id: U256,
        interval: u32,
    ) -> Result<alloy::rpc::types::TransactionReceipt, String> {
        let call = C::refuseComputeCall {
            requestId: id,
            interval,
            reason: "the run failed".into(),
        };
        from.transact(Some(compute), U256::ZERO, Bytes::from(call.abi_encode()))
            .await
            .map_err(|e| e.to_string())
    }
    let refuse = |from, interval| refuse_as(from, s.env.d.compute, id, interval);
    assert!(refuse(&s.asker, 0).await.is_err(), "only the node refuses");
    assert!(refuse(&s.env.owner, 2).await.is_err(), "no such interval");
    // Interval 1 is not due yet; it may be refused all the same.
    let receipt = refuse(&s.env.owner, 1).await.unwrap();
    assert!(receipt
        .inner
        .logs()
        .iter()
        .any(|l| C::ComputeRefused::decode_log(&l.inner).is_ok()));
    assert!(compute.ended(id, 1).call().await.unwrap());
    assert!(!compute.delivered(id, 1).call().await.unwrap());
    assert!(refuse(&s.env.owner, 1).await.is_err(), "once");
    assert_eq!(
        compute.refunds(s.consumer).call().await.unwrap(),
        U256::from(1000)
    );
    // Interval 0 is delivered and paid; a refused one can no longer be delivered.
    s.deliver(&s.env.owner, id, 0, OUTPUT, &s.worker)
        .await
        .unwrap();
    assert!(refuse(&s.env.owner, 0).await.is_err(), "delivered already");
    s.env
        .node
        .rpc("evm_increaseTime", json!([3600]))
        .await
        .unwrap();
    assert!(s
        .deliver(&s.env.owner, id, 1, OUTPUT, &s.worker)
        .await
        .is_err());
    assert_eq!(compute.earned().call().await.unwrap(), U256::from(1000));

    // The consumer claims its refund.
    let to = Address::repeat_byte(0x43);
    s.asker
        .transact(
            Some(s.consumer),
            U256::ZERO,
            Bytes::from(SampleConsumer::claimCall { to }.abi_encode()),
        )
        .await
        .unwrap();
    assert_eq!(
        s.env.owner.provider().get_balance(to).await.unwrap(),
        U256::from(1000)
    );
    assert_eq!(
        compute.refunds(s.consumer).call().await.unwrap(),
        U256::ZERO
    );
}
