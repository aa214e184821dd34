//! `ComputeCoordinator` on a real node (issue 14, first step of on-chain requests): a consumer
//! contract asks, the node delivers once with a registered worker's signature the contract
//! checks, a subscription's intervals come due one period apart, and a reverting consumer
//! neither loses the node its payment nor blocks the delivery.

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
        receipt
            .inner
            .logs()
            .iter()
            .find_map(|l| C::ComputeRequested::decode_log(&l.inner).ok())
            .expect("ComputeRequested")
            .requestId
    }

    /// The attestation a worker signs for this request's job, as the contract takes it.
    fn attested(&self, output: &[u8], signer: &WorkerKey) -> (IAttestations::Attestation, Bytes) {
        let fields = Attestation {
            job_id: Uuid::new_v4(),
            code_hash: Digest32([7; 32]),
            input_hash: sha256(INPUT),
            output_hash: sha256(output),
            expected_hash: Digest32(link([7; 32])),
            fuel_used: 50_000,
            result: Verdict::Invalid,
            runtime_id: Digest32([9; 32]),
        };
        let signed = signer.sign(fields, &self.domain).unwrap();
        let (a, sig) = notary_coordinator::payments::registry::to_sol(&signed);
        let a = IAttestations::Attestation {
            jobId: a.jobId,
            codeHash: a.codeHash,
            inputHash: a.inputHash,
            outputHash: a.outputHash,
            expectedHash: a.expectedHash,
            fuelUsed: a.fuelUsed,
            result: a.result,
            runtimeId: a.runtimeId,
        };
        (a, sig)
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

    /// `deliverCompute` as `from`.
    async fn send(
        &self,
        from: &Chain,
        id: U256,
        interval: u32,
        output: &[u8],
        attestation: IAttestations::Attestation,
        signature: Bytes,
    ) -> Result<alloy::rpc::types::TransactionReceipt, String> {
        let call = C::deliverComputeCall {
            requestId: id,
            interval,
            output: Bytes::copy_from_slice(output),
            attestation,
            signatures: vec![signature],
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
