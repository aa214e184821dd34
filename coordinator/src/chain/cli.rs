//! `notary-coordinator contracts …`: chain chores a newcomer needs before payments can be on.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::{deploy, parse_key, read_key_file, Chain, ChainError, ChainResult};

/// Contract chores (`notary-coordinator contracts deploy --rpc-url URL --key-file F`).
#[derive(Parser, Debug)]
#[command(name = "notary-coordinator contracts")]
pub struct ContractsCli {
    /// What to do.
    #[command(subcommand)]
    pub command: ContractsCommand,
}

/// The chores.
#[derive(Subcommand, Debug)]
pub enum ContractsCommand {
    /// Deploys `VerificationRegistry`, the EIP-3009 test token, `NotaryEscrow` and ERC-8004's
    /// identity and validation registries and `ComputeCoordinator` from the committed artifacts
    /// and prints
    /// `{"chainId","registry","token","escrow","identity","validation","compute","owner"}` as JSON on
    /// stdout.
    Deploy {
        /// JSON-RPC URL of the chain.
        #[arg(long, env = "NOTARY_RPC_URL")]
        rpc_url: String,
        /// File holding the deployer's secret key (hex); it becomes the registry's owner.
        #[arg(long, env = "NOTARY_CHAIN_KEY_FILE", conflicts_with = "key_env")]
        key_file: Option<PathBuf>,
        /// Read the key from the `NOTARY_CHAIN_KEY` environment variable instead.
        #[arg(long)]
        key_env: bool,
    },
}

/// Runs a `contracts` subcommand; returns what to print.
pub async fn run(cli: ContractsCli) -> ChainResult<String> {
    match cli.command {
        ContractsCommand::Deploy {
            rpc_url,
            key_file,
            key_env,
        } => {
            let key = match (key_file, key_env) {
                (Some(path), _) => read_key_file(&path)?,
                (None, true) => {
                    let text = std::env::var("NOTARY_CHAIN_KEY").map_err(|_| {
                        ChainError::Key("NOTARY_CHAIN_KEY".into(), "not set".into())
                    })?;
                    parse_key(&text)
                        .map_err(|why| ChainError::Key("NOTARY_CHAIN_KEY".into(), why))?
                }
                (None, false) => return Err(ChainError::NoKey),
            };
            let chain = Chain::connect(&rpc_url, None, Some(key)).await?;
            let deployment = deploy(&chain).await?;
            // Checksummed addresses, as block explorers and wallets show them.
            let out = serde_json::json!({
                "chainId": deployment.chain_id,
                "registry": deployment.registry.to_checksum(None),
                "token": deployment.token.to_checksum(None),
                "escrow": deployment.escrow.to_checksum(None),
                "identity": deployment.identity.to_checksum(None),
                "validation": deployment.validation.to_checksum(None),
                "compute": deployment.compute.to_checksum(None),
                "owner": deployment.owner.to_checksum(None),
            });
            Ok(serde_json::to_string_pretty(&out).expect("serializable"))
        }
    }
}
