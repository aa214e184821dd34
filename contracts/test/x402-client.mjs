// Pays Notary with the official x402 TypeScript client (@x402/fetch + @x402/evm, scheme
// "exact", EIP-3009), then replays the authorization it sent. Used by the Rust chain test
// `x402_client_pays_with_eip3009`; prints one JSON line with what happened.
//
// The local test token is not Base Sepolia USDC, which the client accepts by default, so the
// test opts the token in through the client's spend controls (allowedAssets), with a cap.
//
// env: NOTARY_URL, PAYER_KEY (hex), TOKEN (address), BODY (JSON of the /verify request)
import { x402Client, wrapFetchWithPayment, decodePaymentResponseHeader } from '@x402/fetch';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { privateKeyToAccount } from 'viem/accounts';

const { NOTARY_URL, PAYER_KEY, TOKEN, BODY } = process.env;
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

const request = () => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: BODY,
});
const first = await pay(`${NOTARY_URL}/verify`, request());
const firstBody = await first.json();
const header = first.headers.get('PAYMENT-RESPONSE');
const paymentResponse = header ? decodePaymentResponseHeader(header) : null;

const replay = await fetch(`${NOTARY_URL}/verify`, {
  ...request(),
  headers: { 'content-type': 'application/json', 'PAYMENT-SIGNATURE': sentSignature },
});
const replayBody = await replay.json();
console.log(JSON.stringify({
  status: first.status,
  body: firstBody,
  paymentResponse,
  sentSignature: sentSignature !== null,
  replayStatus: replay.status,
  replayBody,
}));
