//! A real Hardhat 2 node (chain id 84532, from contracts/hardhat.config.js) on a free loopback
//! port, started directly from `contracts/node_modules/.bin/hardhat` (not through npx, whose
//! parent would survive a kill) and stopped by PID when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

/// Hardhat's well-known dev keys (public; 10,000 ETH each on a fresh node).
pub const DEV_KEYS: [&str; 6] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3149ee5f6a1cfe7e6a3a7cee1d4e0c0e",
];

/// A running Hardhat node.
pub struct Hardhat {
    child: Child,
    /// Its JSON-RPC URL.
    pub url: String,
}

pub fn contracts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../contracts")
}

impl Hardhat {
    /// Starts a node and waits (90 s) until it answers `eth_chainId`, through the tests' one
    /// start loop ([`crate::support::spawn_until_ready`]: a node that exits at once, its port
    /// taken meanwhile, is started again on another). Its stderr goes to a file, shown if it
    /// never answers.
    pub async fn start() -> Hardhat {
        let dir = contracts_dir();
        let bin = dir.join("node_modules/.bin/hardhat");
        assert!(
            bin.exists(),
            "{} missing: run `npm ci` in contracts/",
            bin.display()
        );
        let log = tempfile::NamedTempFile::new().unwrap();
        let command = |port: u16| {
            let mut command = Command::new(&bin);
            command
                .args([
                    "node",
                    "--hostname",
                    "127.0.0.1",
                    "--port",
                    &port.to_string(),
                ])
                .current_dir(&dir)
                .env("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true")
                .stdin(Stdio::null())
                // Its log of every call would grow with the test; errors go to stderr.
                .stdout(Stdio::null())
                .stderr(log.reopen().unwrap());
            command
        };
        let ready = |port: u16| async move { chain_id(&url_of(port)).await.is_ok() };
        let (child, port) =
            crate::support::spawn_until_ready(command, ready, Duration::from_secs(90))
                .await
                .unwrap_or_else(|e| {
                    let output = std::fs::read_to_string(log.path()).unwrap_or_default();
                    panic!("hardhat: {e}; its output:\n{output}")
                });
        let node = Hardhat {
            child,
            url: url_of(port),
        };
        assert_eq!(
            chain_id(&node.url).await.unwrap(),
            json!("0x14a34"),
            "chain id must be 84532"
        );
        node
    }

    /// A raw JSON-RPC call (params always an array: Hardhat rejects `null`).
    pub async fn rpc(&self, method: &str, params: Value) -> Result<Value, String> {
        rpc_at(&self.url, method, params).await
    }

    /// Mines `n` empty blocks.
    pub async fn mine(&self, n: u64) {
        self.rpc("hardhat_mine", json!([format!("0x{n:x}")]))
            .await
            .unwrap();
    }

    /// Turns automatic mining on or off.
    pub async fn automine(&self, on: bool) {
        self.rpc("evm_setAutomine", json!([on])).await.unwrap();
    }
}

fn url_of(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// The node's chain id (`eth_chainId`).
async fn chain_id(url: &str) -> Result<Value, String> {
    rpc_at(url, "eth_chainId", json!([])).await
}

/// A raw JSON-RPC call to the node at `url`.
async fn rpc_at(url: &str, method: &str, params: Value) -> Result<Value, String> {
    let resp = reqwest::Client::new()
        .post(url)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let v: Value = resp.json().await.map_err(|e| e.to_string())?;
    match v.get("error") {
        Some(e) => Err(e.to_string()),
        None => Ok(v["result"].clone()),
    }
}

impl Drop for Hardhat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
