// Verifies captured webhook deliveries with the official Standard Webhooks library
// (npm `standardwebhooks`, installed in contracts/node_modules) and document 002's
// x-notary-signature check. Usage: node verify-webhooks.mjs <file.json>, where the file is
// {"secret": "...", "deliveries": [{"headers": {...}, "body": "<raw body>"}]}.
// Exits non-zero, with the reason on stderr, at the first delivery that does not verify.
import { readFileSync } from "node:fs";
import { createHmac } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(new URL("../../../contracts/package.json", import.meta.url));
const { Webhook } = require("standardwebhooks");

const { secret, deliveries } = JSON.parse(readFileSync(process.argv[2], "utf8"));
// A whsec_ secret is base64 (its key is the decoded bytes); any other is its raw bytes.
const wh = secret.startsWith("whsec_") ? new Webhook(secret) : new Webhook(secret, { format: "raw" });
let verified = 0;
for (const d of deliveries) {
  const id = d.headers["webhook-id"];
  const payload = wh.verify(d.body, d.headers); // throws WebhookVerificationError
  const hmac = (text) => "sha256=" + createHmac("sha256", secret).update(text).digest("hex");
  if (d.headers["x-notary-signature"] !== hmac(d.body)) {
    throw new Error(`x-notary-signature does not match the raw body of ${id}`);
  }
  // Document 002's snippet hashes JSON.stringify(req.body): it must give the same signature.
  if (d.headers["x-notary-signature"] !== hmac(JSON.stringify(JSON.parse(d.body)))) {
    throw new Error(`x-notary-signature does not match the re-serialized body of ${id}`);
  }
  if (typeof payload.event !== "string" || typeof payload.timestamp !== "string" || !payload.data?.jobId) {
    throw new Error(`payload of ${id} lacks event, timestamp or data.jobId`);
  }
  verified++;
}
console.log(JSON.stringify({ verified }));
