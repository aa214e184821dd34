// The local chain tests run against: a Hardhat 2 node with Base Sepolia's chain id (84532), so
// signatures and x402 networks match what Notary uses in production. Contracts are compiled by
// compile.js (solc-js), not by Hardhat.
module.exports = {
  networks: {
    hardhat: {
      chainId: 84532,
    },
  },
};
