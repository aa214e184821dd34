// Pays an x402 server with the official x402 TypeScript client (@x402/fetch + @x402/evm, scheme
// "exact", EIP-3009), then replays the authorization it sent. Used by the Rust chain tests
// (Notary's own /verify, and a provider behind notary-middleware); prints one JSON line with
// what happened.
//
// The local test token is not Base Sepolia USDC, which the client accepts by default, so the
// test opts the token in through the client's spend controls (allowedAssets), with a cap.
//
// env: PAYER_KEY (hex), TOKEN (address), and either NOTARY_URL and BODY (a POST of BODY, the
// JSON of a job, to NOTARY_URL + ROUTE, default /verify) or TARGET (a URL to GET).
import { x402Client, wrapFetchWithPayment, decodePaymentResponseHeader } from '@x402/fetch';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { privateKeyToAccount } from 'viem/accounts';

const { NOTARY_URL, ROUTE, PAYER_KEY, TOKEN, BODY, TARGET } = process.env;
const url = TARGET ?? `${NOTARY_URL}${ROUTE ?? '/verify'}`;
const account = privateKeyToAccount(PAYER_KEY);
const client = new x402Client().register('eip155:84532', new ExactEvmScheme(account));
client.setSpendControls({
  allowedAssets: [{ asset: TOKEN, network: 'eip155:84532', maxAmountPerPayment: '10000' }],
});

// Remember the PAYMENT-SIGNATURE the client sends, to replay it afterwards.
let sentSignature = null;
const recordingFetch = async (input, init) => {
  const req = new Request(input, init);
  const sig = req.headers.get('PAYMENT-SIGNATURE');
  if (sig) sentSignature = sig;
  return fetch(req);
};
const pay = wrapFetchWithPayment(recordingFetch, client);

const request = (headers = {}) =>
  TARGET
    ? { method: 'GET', headers }
    : { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: BODY };
const json = async (response) => {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};
const first = await pay(url, request());
const firstBody = await json(first);
const header = first.headers.get('PAYMENT-RESPONSE');
const paymentResponse = header ? decodePaymentResponseHeader(header) : null;

const replay = await fetch(url, request({ 'PAYMENT-SIGNATURE': sentSignature }));
const replayBody = await json(replay);
console.log(JSON.stringify({
  status: first.status,
  body: firstBody,
  paymentResponse,
  sentSignature: sentSignature !== null,
  replayStatus: replay.status,
  replayBody,
}));
