//! Payment options: flags, `NOTARY_*` environment, and a `[payments]` table in the TOML file.

use std::path::PathBuf;
use std::time::Duration;

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use serde::Deserialize;

use crate::chain::{parse_key, read_key_file};
use crate::error::{Error, Result};

/// Source document 002's price: 0.001 ETH per verification.
pub const DEFAULT_PRICE_WEI: u128 = 1_000_000_000_000_000;
/// Document 002: "Max 10 concurrent verifications per agent".
pub const DEFAULT_MAX_JOBS_PER_PAYER: usize = 10;

/// Payment options as given (all optional; payments are off unless `--payments x402`).
#[derive(clap::Args, Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PaymentSettings {
    /// `off` (default: every request is free) or `x402` (document 002's 402 flow). Needs
    /// `--redis` or a `--data-dir` (not `none`): used payments must be remembered across
    /// restarts.
    #[arg(long = "payments", env = "NOTARY_PAYMENTS", value_name = "off|x402")]
    pub mode: Option<String>,
    /// JSON-RPC URL of the chain payments, refunds and registry writes go to.
    #[arg(long, env = "NOTARY_RPC_URL", value_name = "URL")]
    pub rpc_url: Option<String>,
    /// Address payments must go to (default: the chain key's address, which also pays refunds).
    #[arg(long, env = "NOTARY_PAY_TO", value_name = "0xADDR")]
    pub pay_to: Option<Address>,
    /// Price of one verification in wei (default 1000000000000000 = 0.001 ETH).
    #[arg(long, env = "NOTARY_PRICE_WEI")]
    pub price_wei: Option<u128>,
    /// Blocks a payment needs (its own included) before it counts (default 1).
    #[arg(long, env = "NOTARY_CONFIRMATIONS")]
    pub confirmations: Option<u64>,
    /// File with the secret key that writes to the registry, sends refunds and settles x402
    /// authorizations (or the key itself in `NOTARY_CHAIN_KEY`). Never logged.
    #[arg(long, env = "NOTARY_CHAIN_KEY_FILE", value_name = "FILE")]
    pub chain_key_file: Option<PathBuf>,
    /// How long a 402's payment requirements stay valid (s, default 600).
    #[arg(long, env = "NOTARY_PAYMENT_WINDOW_SECS")]
    pub payment_window_secs: Option<u64>,
    /// Concurrent verifications per payer address before 429 (default 10).
    #[arg(long, env = "NOTARY_MAX_JOBS_PER_PAYER")]
    pub max_jobs_per_payer: Option<usize>,
    /// EIP-3009 token accepted through x402 v2 (`PAYMENT-SIGNATURE`), e.g. USDC; without it
    /// only `X-402-Payment` (ETH) is offered.
    #[arg(long, env = "NOTARY_TOKEN", value_name = "0xADDR")]
    pub token: Option<Address>,
    /// Price in the token's smallest unit (default 1000: 0.001 USDC).
    #[arg(long, env = "NOTARY_TOKEN_PRICE")]
    pub token_price: Option<u128>,
    /// Fuel-based part of a `POST /quote`, in wei per 10^9 fuel (default 0: quotes equal the
    /// flat price the 402 asks).
    #[arg(long, env = "NOTARY_PRICE_WEI_PER_GIGAFUEL")]
    pub price_wei_per_gigafuel: Option<u128>,
    /// Most registry records per transaction (default 16).
    #[arg(long, env = "NOTARY_REGISTRY_BATCH_MAX")]
    pub registry_batch_max: Option<usize>,
    /// How long the registry writer gathers records into one batch (ms, default 200).
    #[arg(long, env = "NOTARY_REGISTRY_BATCH_WAIT_MS")]
    pub registry_batch_wait_ms: Option<u64>,
    /// `NotaryEscrow` of the marketplace flow (`POST /jobs/prepare`, `POST /jobs`): requesters
    /// fund it, and the chain key (its coordinator) releases or refunds. Needs `--token`.
    #[arg(long, env = "NOTARY_ESCROW", value_name = "0xADDR")]
    pub escrow: Option<Address>,
    /// The operator's share of a released deposit, in basis points (default 1000: 10%); the
    /// rest is split equally among the seats that decided.
    #[arg(long, env = "NOTARY_ESCROW_FEE_BPS")]
    pub escrow_fee_bps: Option<u16>,
    /// ERC-8004 Validation Registry this notary answers as a validator: a job naming an
    /// `erc8004RequestHash` (a request there that names the chain key's address) gets its
    /// final verdict posted as `validationResponse`. Needs `--public-url`.
    #[arg(long, env = "NOTARY_VALIDATION_REGISTRY", value_name = "0xADDR")]
    pub validation_registry: Option<Address>,
    /// Where clients reach this coordinator (e.g. `https://notary.example`): the
    /// `responseURI` of a validation response is `<public-url>/jobs/<jobId>/result`.
    #[arg(long, env = "NOTARY_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// `ComputeCoordinator` whose node this coordinator is (document 001's on-chain
    /// requests): its `ComputeRequested` events are run and delivered back. Needs
    /// `--registry` (the contract checks the signers there) and the contract's `node` to be
    /// the chain key's address.
    #[arg(long, env = "NOTARY_COMPUTE_COORDINATOR", value_name = "0xADDR")]
    pub compute_coordinator: Option<Address>,
    /// The first block to scan for on-chain requests when none was scanned yet (default 0;
    /// set it to the contract's deployment block on a long chain).
    #[arg(long, env = "NOTARY_COMPUTE_FROM_BLOCK")]
    pub compute_from_block: Option<u64>,
    /// How often the chain is read for new requests and due intervals (ms, default 2000).
    #[arg(long, env = "NOTARY_COMPUTE_POLL_MS")]
    pub compute_poll_ms: Option<u64>,
}

impl PaymentSettings {
    /// Flags and environment over the file's `[payments]` table.
    pub fn or(self, file: PaymentSettings) -> PaymentSettings {
        PaymentSettings {
            mode: self.mode.or(file.mode),
            rpc_url: self.rpc_url.or(file.rpc_url),
            pay_to: self.pay_to.or(file.pay_to),
            price_wei: self.price_wei.or(file.price_wei),
            confirmations: self.confirmations.or(file.confirmations),
            chain_key_file: self.chain_key_file.or(file.chain_key_file),
            payment_window_secs: self.payment_window_secs.or(file.payment_window_secs),
            max_jobs_per_payer: self.max_jobs_per_payer.or(file.max_jobs_per_payer),
            token: self.token.or(file.token),
            price_wei_per_gigafuel: self.price_wei_per_gigafuel.or(file.price_wei_per_gigafuel),
            token_price: self.token_price.or(file.token_price),
            registry_batch_max: self.registry_batch_max.or(file.registry_batch_max),
            registry_batch_wait_ms: self.registry_batch_wait_ms.or(file.registry_batch_wait_ms),
            escrow: self.escrow.or(file.escrow),
            escrow_fee_bps: self.escrow_fee_bps.or(file.escrow_fee_bps),
            validation_registry: self.validation_registry.or(file.validation_registry),
            public_url: self.public_url.or(file.public_url),
            compute_coordinator: self.compute_coordinator.or(file.compute_coordinator),
            compute_from_block: self.compute_from_block.or(file.compute_from_block),
            compute_poll_ms: self.compute_poll_ms.or(file.compute_poll_ms),
        }
    }

    /// `None` when payments are off; the resolved options otherwise.
    pub fn resolve(self) -> Result<Option<PaymentConfig>> {
        match self.mode.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("off") => return Ok(None),
            Some("x402") => {}
            Some(other) => {
                return Err(Error::Config(format!(
                    "payments must be `off` or `x402`, not {other:?}"
                )))
            }
        }
        let rpc_url = self
            .rpc_url
            .ok_or_else(|| Error::Config("--payments x402 needs --rpc-url".into()))?;
        let key = match (&self.chain_key_file, std::env::var("NOTARY_CHAIN_KEY")) {
            (Some(path), _) => read_key_file(path).map_err(|e| Error::Config(e.to_string()))?,
            (None, Ok(text)) => {
                parse_key(&text).map_err(|why| Error::Config(format!("NOTARY_CHAIN_KEY: {why}")))?
            }
            (None, Err(_)) => {
                return Err(Error::Config(
                    "--payments x402 needs --chain-key-file (or NOTARY_CHAIN_KEY)".into(),
                ))
            }
        };
        if self.escrow.is_some() && self.token.is_none() {
            return Err(Error::Config(
                "--escrow needs --token (deposits are in the token)".into(),
            ));
        }
        let escrow_fee_bps = self.escrow_fee_bps.unwrap_or(1000);
        if escrow_fee_bps > 10_000 {
            return Err(Error::Config(
                "--escrow-fee-bps is at most 10000 (100%)".into(),
            ));
        }
        let public_url = self.public_url.map(|u| u.trim_end_matches('/').to_string());
        if let Some(url) = &public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(Error::Config(format!(
                    "--public-url must be an http(s) URL, not {url:?}"
                )));
            }
        }
        if self.validation_registry.is_some() && public_url.is_none() {
            return Err(Error::Config(
                "--validation-registry needs --public-url (the responseURI of each answer)".into(),
            ));
        }
        let confirmations = self.confirmations.unwrap_or(1);
        if confirmations == 0 {
            return Err(Error::Config("confirmations must be at least 1".into()));
        }
        Ok(Some(PaymentConfig {
            rpc_url,
            pay_to: self.pay_to.unwrap_or(key.address()),
            price_wei: U256::from(self.price_wei.unwrap_or(DEFAULT_PRICE_WEI)),
            confirmations,
            chain_key: ChainKey(key),
            window: Duration::from_secs(self.payment_window_secs.unwrap_or(600).max(1)),
            max_jobs_per_payer: self
                .max_jobs_per_payer
                .unwrap_or(DEFAULT_MAX_JOBS_PER_PAYER)
                .max(1),
            token: self.token,
            price_wei_per_gigafuel: U256::from(self.price_wei_per_gigafuel.unwrap_or(0)),
            token_price: U256::from(self.token_price.unwrap_or(1000)),
            registry_batch_max: self.registry_batch_max.unwrap_or(16).clamp(1, 256),
            registry_batch_wait: Duration::from_millis(self.registry_batch_wait_ms.unwrap_or(200)),
            orphan_after: Duration::from_secs(120),
            escrow: self.escrow,
            escrow_fee_bps,
            validation_registry: self.validation_registry,
            public_url,
            compute_coordinator: self.compute_coordinator,
            compute_from_block: self.compute_from_block.unwrap_or(0),
            compute_poll: Duration::from_millis(self.compute_poll_ms.unwrap_or(2000).max(50)),
        }))
    }
}

/// A secret key whose `Debug` shows only its address.
#[derive(Clone)]
pub struct ChainKey(pub PrivateKeySigner);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChainKey({})", self.0.address())
    }
}

/// Resolved payment options.
#[derive(Debug, Clone)]
pub struct PaymentConfig {
    /// JSON-RPC URL.
    pub rpc_url: String,
    /// Where payments go.
    pub pay_to: Address,
    /// Price per verification (wei).
    pub price_wei: U256,
    /// Confirmations a payment needs.
    pub confirmations: u64,
    /// The key that writes, refunds and settles.
    pub chain_key: ChainKey,
    /// Validity of a 402's requirements.
    pub window: Duration,
    /// Concurrent jobs per payer.
    pub max_jobs_per_payer: usize,
    /// EIP-3009 token of x402 v2 payments (`None`: v2 not offered).
    pub token: Option<Address>,
    /// Price in token units.
    pub token_price: U256,
    /// Quote's fuel-based part, wei per 10^9 fuel.
    pub price_wei_per_gigafuel: U256,
    /// Records per registry transaction.
    pub registry_batch_max: usize,
    /// Gathering time of a registry batch.
    pub registry_batch_wait: Duration,
    /// A paid job whose record never appeared this long after its payment (the coordinator
    /// failed between taking the payment and storing the job) is refunded by the sweeper.
    pub orphan_after: Duration,
    /// The marketplace's escrow (`None`: no marketplace flow).
    pub escrow: Option<Address>,
    /// The operator's share of a released deposit (basis points).
    pub escrow_fee_bps: u16,
    /// The ERC-8004 Validation Registry answered as a validator (`None`: not a validator).
    pub validation_registry: Option<Address>,
    /// This coordinator's public URL (no trailing `/`).
    pub public_url: Option<String>,
    /// The `ComputeCoordinator` this coordinator is the node of (`None`: no on-chain requests).
    pub compute_coordinator: Option<Address>,
    /// The first block scanned when none was.
    pub compute_from_block: u64,
    /// Poll interval of the on-chain watcher.
    pub compute_poll: Duration,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::Settings;

    #[test]
    fn payments_come_from_a_toml_table_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("chain.key");
        // Hardhat's public dev key #0.
        std::fs::write(
            &key,
            "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n",
        )
        .unwrap();
        let file = dir.path().join("notary.toml");
        std::fs::write(
            &file,
            format!(
                "redis = \"redis://127.0.0.1:6379\"\n[payments]\nmode = \"x402\"\nrpc-url = \"http://127.0.0.1:8545\"\nchain-key-file = {:?}\nconfirmations = 3\nprice-wei = 5\ncompute-coordinator = \"0x00000000000000000000000000000000000000c0\"\ncompute-poll-ms = 250\n",
                key.display()
            ),
        )
        .unwrap();
        let cli = Settings::parse_from([
            "notary-coordinator",
            "--config",
            file.to_str().unwrap(),
            "--confirmations",
            "2",
        ]);
        let c = cli.with_file().unwrap().resolve().unwrap();
        let p = c.payments.expect("payments on");
        assert_eq!(p.confirmations, 2);
        assert_eq!(p.price_wei, alloy::primitives::U256::from(5));
        assert_eq!(
            p.pay_to.to_checksum(None),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
        assert_eq!(p.max_jobs_per_payer, 10);
        assert_eq!(
            p.compute_coordinator,
            Some(alloy::primitives::Address::with_last_byte(0xc0))
        );
        assert_eq!(
            (p.compute_from_block, p.compute_poll),
            (0, std::time::Duration::from_millis(250))
        );
        // The key never shows in Debug output.
        let debug = format!("{p:?}");
        assert!(!debug.contains("ac0974bec39a17e36ba4a6b4d238ff944bacb478"));

        // Payments need Redis or a data directory (used payments must survive a restart),
        // and an unknown mode is an error.
        let args = |extra: &[&str]| {
            let mut a = vec![
                "x",
                "--payments",
                "x402",
                "--rpc-url",
                "http://x",
                "--chain-key-file",
                key.to_str().unwrap(),
            ];
            a.extend_from_slice(extra);
            Settings::parse_from(a)
        };
        let in_memory = args(&["--data-dir", "none"]);
        assert!(in_memory
            .resolve()
            .unwrap_err()
            .to_string()
            .contains("--redis or a --data-dir"));
        let data_dir = dir.path().join("data");
        let embedded = args(&["--data-dir", data_dir.to_str().unwrap()])
            .resolve()
            .unwrap();
        assert!(embedded.payments.is_some());
        assert!(embedded.redis.is_none());
        let fleet = args(&["--data-dir", "none", "--redis", "redis://127.0.0.1:6379"])
            .resolve()
            .unwrap();
        assert!(fleet.payments.is_some());
        let bad = Settings::parse_from(["x", "--payments", "bitcoin"]);
        assert!(bad.resolve().unwrap_err().to_string().contains("bitcoin"));
        // Off by default.
        assert!(Settings::parse_from(["x"])
            .resolve()
            .unwrap()
            .payments
            .is_none());
    }
}
