// A worker of Notary's open fleet written in Node with nothing but fetch and viem's
// secp256k1 signing: it follows docs/worker-protocol.md alone. The sandbox run itself is
// `notary-worker exec --job` (the protocol page says a worker may wrap it). Used by the Rust
// test `open_fleet::a_worker_outside_rust_follows_the_protocol_page`; prints one JSON line.
//
// env: NOTARY_URL, WORKER_KEY (0x hex), WORKER_BIN (notary-worker), MODULE_CACHE (a dir)
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';

const { NOTARY_URL, WORKER_KEY, WORKER_BIN, MODULE_CACHE } = process.env;
const account = privateKeyToAccount(WORKER_KEY);
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const sandbox = ['--module-cache-dir', MODULE_CACHE];

// One signed request: the text is notary-actor:v1, METHOD, path with query, timestamp, body
// hash, joined by newlines; the signature is EIP-191 personal_sign of it.
async function signed(method, route, body) {
  const path = `${route}${route.includes('?') ? '&' : '?'}nonce=${randomBytes(8).toString('hex')}`;
  const text = body === undefined ? '' : JSON.stringify(body);
  const timestamp = Math.floor(Date.now() / 1000).toString();
  const message = ['notary-actor:v1', method, path, timestamp, sha256(text)].join('\n');
  const headers = {
    'x-notary-actor': account.address,
    'x-notary-timestamp': timestamp,
    'x-notary-signature': await account.signMessage({ message }),
    'x-notary-worker-id': 'node-0',
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const resp = await fetch(NOTARY_URL + path, { method, headers, body: body === undefined ? undefined : text });
  return { status: resp.status, answer: resp.status === 204 ? null : await resp.json() };
}

const out = {};
const runtimeId = execFileSync(WORKER_BIN, ['runtime-id', ...sandbox]).toString().trim();
// The registration the registry contract anchors: EIP-712 in the domain the coordinator names.
const domain = await (await fetch(`${NOTARY_URL}/notary/domain`)).json();
const deadline = Math.floor(Date.now() / 1000) + 3600;
const anchorSignature = await account.signTypedData({
  domain: { name: domain.name, version: domain.version, chainId: domain.chainId, verifyingContract: domain.verifyingContract },
  types: { WorkerRegistration: [
    { name: 'worker', type: 'address' },
    { name: 'configHash', type: 'bytes32' },
    { name: 'deadline', type: 'uint64' },
  ] },
  primaryType: 'WorkerRegistration',
  message: { worker: account.address, configHash: runtimeId, deadline: BigInt(deadline) },
});
const registered = await signed('POST', '/providers/register', {
  configHash: runtimeId, engine: 'cranelift', anchor: { deadline, signature: anchorSignature },
});
out.registered = registered.status;
let seat = null;
for (let i = 0; i < 30 && !seat; i++) {
  const polled = await signed('GET', '/assignments?waitSeconds=2');
  if (polled.status === 200) seat = polled.answer;
  else if (polled.status !== 204) { out.pollError = polled; break; }
}
if (seat) {
  out.seat = seat.seat;
  const dir = mkdtempSync(join(tmpdir(), 'node-worker-'));
  const jobFile = join(dir, 'job.json');
  writeFileSync(jobFile, JSON.stringify(seat.job));
  const report = JSON.parse(execFileSync(
    WORKER_BIN,
    ['exec', '--job', jobFile, '--attempt', String(seat.attempt), '--coordinator', NOTARY_URL, ...sandbox],
    { env: { ...process.env, NOTARY_WORKER_KEY: WORKER_KEY } },
  ).toString());
  const submitted = await signed('POST', seat.submitTo, { assignmentId: seat.assignmentId, report });
  out.submitted = submitted.status;
  out.answer = submitted.answer;
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
