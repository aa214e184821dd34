//! `NotaryEscrow` on a real node (issue 13): a deposit is funded once (after an approval, or in
//! one EIP-3009 signature bound to its prepareId), released in full only to the coordinator's
//! recipients and only once the registry holds the job's record, refunded, or reclaimed by its
//! payer after the delay; each deposit ends exactly once.

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::signers::SignerSync;
use alloy::sol_types::{eip712_domain, SolCall, SolStruct};
use notary_coordinator::chain::contracts::{
    NotaryEscrow as E, TestUSDC, VerificationRegistry as R,
};
use notary_coordinator::chain::{deploy_with, parse_key, Chain, Deployment};
use notary_coordinator::payments::registry::to_sol;
use notary_protocol::{AttestationDomain, WorkerKey};
use serde_json::json;
use uuid::Uuid;

use crate::contracts::{attestation, owner_chain};
use crate::hardhat::{Hardhat, DEV_KEYS};

alloy::sol! {
    struct ReceiveWithAuthorization {
        address from;
        address to;
        uint256 value;
        uint256 validAfter;
        uint256 validBefore;
        bytes32 nonce;
    }
}

const RECLAIM_AFTER: u64 = 3600;

struct Env {
    node: Hardhat,
    owner: Chain,
    payer: Chain,
    payer_key: alloy::signers::local::PrivateKeySigner,
    d: Deployment,
}

impl Env {
    async fn start() -> Env {
        let node = Hardhat::start().await;
        let owner = owner_chain(&node).await;
        let d = deploy_with(&owner, RECLAIM_AFTER).await.unwrap();
        let payer_key = parse_key(DEV_KEYS[1]).unwrap();
        let payer = Chain::connect(&node.url, Some(84532), Some(payer_key.clone()))
            .await
            .unwrap();
        let env = Env {
            node,
            owner,
            payer,
            payer_key,
            d,
        };
        let mint = TestUSDC::mintCall {
            to: env.payer_addr(),
            value: U256::from(1_000_000u64),
        };
        env.owner_call(env.d.token, mint.abi_encode())
            .await
            .unwrap();
        env
    }

    fn payer_addr(&self) -> Address {
        self.payer_key.address()
    }

    async fn owner_call(&self, to: Address, data: Vec<u8>) -> Result<(), String> {
        send(&self.owner, to, data).await
    }

    async fn payer_call(&self, to: Address, data: Vec<u8>) -> Result<(), String> {
        send(&self.payer, to, data).await
    }

    async fn balance(&self, who: Address) -> U256 {
        TestUSDC::new(self.d.token, self.owner.provider())
            .balanceOf(who)
            .call()
            .await
            .unwrap()
    }

    async fn state(&self, prepare: B256) -> u8 {
        E::new(self.d.escrow, self.owner.provider())
            .deposits(prepare)
            .call()
            .await
            .unwrap()
            .state
    }

    /// Funds `prepare` with `amount` after an approval.
    async fn fund(&self, prepare: B256, amount: u64) -> Result<(), String> {
        let approve = TestUSDC::approveCall {
            spender: self.d.escrow,
            value: U256::from(amount),
        };
        self.payer_call(self.d.token, approve.abi_encode()).await?;
        let fund = E::fundCall {
            prepareId: prepare,
            amount: U256::from(amount),
        };
        self.payer_call(self.d.escrow, fund.abi_encode()).await
    }

    /// Records a result for `job` in the registry (one registered worker's signature).
    async fn record(&self, job: Uuid) {
        let worker = WorkerKey::generate();
        let register = R::registerWorkerCall {
            worker: worker.address(),
            configHash: B256::from([9; 32]),
        };
        self.owner_call(self.d.registry, register.abi_encode())
            .await
            .unwrap();
        let mut fields = attestation(1);
        fields.job_id = job;
        let domain = AttestationDomain {
            chain_id: 84532,
            verifying_contract: self.d.registry,
        };
        let (a, sig) = to_sol(&worker.sign(fields, &domain).unwrap());
        let record = R::recordResultCall {
            a,
            signatures: vec![sig],
        };
        self.owner_call(self.d.registry, record.abi_encode())
            .await
            .unwrap();
    }
}

async fn send(chain: &Chain, to: Address, data: Vec<u8>) -> Result<(), String> {
    chain
        .transact(Some(to), U256::ZERO, Bytes::from(data))
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn prepare_id(job: Uuid) -> B256 {
    let mut w = [0u8; 32];
    w[..16].copy_from_slice(job.as_bytes());
    B256::from(w)
}

const FUNDED: u8 = 1;
const RELEASED: u8 = 2;
const REFUNDED: u8 = 3;
const RECLAIMED: u8 = 4;

#[tokio::test]
async fn a_deposit_is_released_in_full_only_after_the_record_and_once_topped_up_by_the_coordinator()
{
    let env = Env::start().await;
    let job = Uuid::new_v4();
    let prepare = prepare_id(job);
    env.fund(prepare, 1000).await.unwrap();
    assert_eq!(env.state(prepare).await, FUNDED);
    assert_eq!(env.balance(env.d.escrow).await, U256::from(1000));
    assert!(env.fund(prepare, 1000).await.is_err(), "funded once");

    let (w1, w2, fee) = (
        Address::from([1; 20]),
        Address::from([2; 20]),
        Address::from([3; 20]),
    );
    let release = |amounts: [u64; 3]| E::releaseCall {
        prepareId: prepare,
        recipients: vec![w1, w2, fee],
        amounts: amounts.iter().map(|a| U256::from(*a)).collect(),
    };
    let err = env
        .owner_call(env.d.escrow, release([600, 300, 100]).abi_encode())
        .await;
    assert!(err.is_err(), "no record yet: nothing is released");
    env.record(job).await;
    assert!(
        env.payer_call(env.d.escrow, release([600, 300, 100]).abi_encode())
            .await
            .is_err(),
        "only the coordinator releases"
    );
    assert!(
        env.owner_call(env.d.escrow, release([600, 300, 99]).abi_encode())
            .await
            .is_err(),
        "the whole deposit or nothing"
    );
    let receipt = env
        .owner
        .transact(
            Some(env.d.escrow),
            U256::ZERO,
            Bytes::from(release([600, 300, 100]).abi_encode()),
        )
        .await
        .unwrap();
    // The README's figure: gas of a release to three recipients.
    eprintln!("escrow release, 3 recipients: {} gas", receipt.gas_used);
    assert!(receipt.gas_used < 150_000, "{}", receipt.gas_used);
    assert_eq!(env.state(prepare).await, RELEASED);
    for (who, amount) in [(w1, 600), (w2, 300), (fee, 100), (env.d.escrow, 0)] {
        assert_eq!(env.balance(who).await, U256::from(amount));
    }
    // Ended: nothing more moves.
    assert!(env
        .owner_call(env.d.escrow, release([600, 300, 100]).abi_encode())
        .await
        .is_err());
    let refund = E::refundCall { prepareId: prepare };
    assert!(env
        .owner_call(env.d.escrow, refund.abi_encode())
        .await
        .is_err());
    let reclaim = E::reclaimCall { prepareId: prepare };
    assert!(env
        .payer_call(env.d.escrow, reclaim.abi_encode())
        .await
        .is_err());

    // More than the deposit: the coordinator tops it up from its own balance, once it approved.
    let job = Uuid::new_v4();
    let prepare = prepare_id(job);
    env.fund(prepare, 1000).await.unwrap();
    env.record(job).await;
    let more = E::releaseCall {
        prepareId: prepare,
        recipients: vec![w1, w2],
        amounts: vec![U256::from(700), U256::from(500)],
    };
    assert!(
        env.owner_call(env.d.escrow, more.abi_encode())
            .await
            .is_err(),
        "no approval: no top-up"
    );
    let owner = env.owner.sender().unwrap();
    let mint = TestUSDC::mintCall {
        to: owner,
        value: U256::from(200),
    };
    env.owner_call(env.d.token, mint.abi_encode())
        .await
        .unwrap();
    let approve = TestUSDC::approveCall {
        spender: env.d.escrow,
        value: U256::from(200),
    };
    env.owner_call(env.d.token, approve.abi_encode())
        .await
        .unwrap();
    env.owner_call(env.d.escrow, more.abi_encode())
        .await
        .unwrap();
    assert_eq!(env.state(prepare).await, RELEASED);
    for (who, amount) in [(w1, 1300), (w2, 800), (owner, 0), (env.d.escrow, 0)] {
        assert_eq!(env.balance(who).await, U256::from(amount), "{who}");
    }
}

#[tokio::test]
async fn a_deposit_funded_by_signature_is_refunded_or_reclaimed_once() {
    let env = Env::start().await;
    let token_domain = eip712_domain! {
        name: "USDC",
        version: "2",
        chain_id: 84532,
        verifying_contract: env.d.token,
    };
    let start = env.balance(env.payer_addr()).await;
    let signed_fund = |prepare: B256, nonce: B256| {
        let auth = ReceiveWithAuthorization {
            from: env.payer_addr(),
            to: env.d.escrow,
            value: U256::from(500),
            validAfter: U256::ZERO,
            validBefore: U256::from(u64::MAX),
            nonce,
        };
        let sig = env
            .payer_key
            .sign_hash_sync(&auth.eip712_signing_hash(&token_domain))
            .unwrap();
        E::fundWithAuthorizationCall {
            prepareId: prepare,
            from: auth.from,
            amount: auth.value,
            validAfter: auth.validAfter,
            validBefore: auth.validBefore,
            nonce,
            v: 27 + sig.v() as u8,
            r: sig.r().into(),
            s: sig.s().into(),
        }
    };
    // The authorization's nonce must be the prepareId: it cannot fund another job.
    let (a, b) = (prepare_id(Uuid::new_v4()), prepare_id(Uuid::new_v4()));
    assert!(env
        .owner_call(env.d.escrow, signed_fund(a, b).abi_encode())
        .await
        .is_err());
    // Anyone may submit it (here the coordinator): the payer is the signer.
    env.owner_call(env.d.escrow, signed_fund(a, a).abi_encode())
        .await
        .unwrap();
    assert_eq!(env.state(a).await, FUNDED);
    assert_eq!(env.balance(env.payer_addr()).await, start - U256::from(500));
    let deposit = E::new(env.d.escrow, env.owner.provider())
        .deposits(a)
        .call()
        .await
        .unwrap();
    assert_eq!(deposit.payer, env.payer_addr());

    // Refunded by the coordinator, once.
    let refund = E::refundCall { prepareId: a };
    assert!(env
        .payer_call(env.d.escrow, refund.abi_encode())
        .await
        .is_err());
    env.owner_call(env.d.escrow, refund.abi_encode())
        .await
        .unwrap();
    assert!(env
        .owner_call(env.d.escrow, refund.abi_encode())
        .await
        .is_err());
    assert_eq!(env.state(a).await, REFUNDED);
    assert_eq!(env.balance(env.payer_addr()).await, start);

    // Nobody settles the next one: its payer reclaims it after the delay, not before, and no
    // one else can.
    env.owner_call(env.d.escrow, signed_fund(b, b).abi_encode())
        .await
        .unwrap();
    let reclaim = E::reclaimCall { prepareId: b };
    assert!(
        env.owner_call(env.d.escrow, reclaim.abi_encode())
            .await
            .is_err(),
        "not the payer"
    );
    assert!(
        env.payer_call(env.d.escrow, reclaim.abi_encode())
            .await
            .is_err(),
        "too early"
    );
    env.node
        .rpc("evm_increaseTime", json!([RECLAIM_AFTER + 1]))
        .await
        .unwrap();
    env.node.mine(1).await;
    env.payer_call(env.d.escrow, reclaim.abi_encode())
        .await
        .unwrap();
    assert_eq!(env.state(b).await, RECLAIMED);
    assert_eq!(env.balance(env.payer_addr()).await, start);
    assert!(env
        .payer_call(env.d.escrow, reclaim.abi_encode())
        .await
        .is_err());
    let release = E::releaseCall {
        prepareId: b,
        recipients: vec![Address::from([1; 20])],
        amounts: vec![U256::from(500)],
    };
    assert!(env
        .owner_call(env.d.escrow, release.abi_encode())
        .await
        .is_err());
}
