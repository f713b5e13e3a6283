// What the protocol itself costs per trigger, step by step, on the compiled dist/: the work raw undici's floor skips
// (it POSTs a pre-built body to a pre-signed URL). No I/O; each step timed alone in a loop, median of 5 rounds.
//
//   npm run build && node bench/steps.js
//
// These numbers bound how close a trigger can come to the raw floor: at concurrency 64 the floor is 24–35 µs of CPU
// per request on the 2-core machine of bench/README.md, so ~5 µs of mandatory work is already 1.15×–1.2× of it.
import { md5Hex, outboundSignatureHex, signRequestQuery } from '../dist/esm/core/signing.js';
import { serializeData } from '../dist/esm/core/validation.js';
import { APP, CHANNEL, EVENT, PAYLOADS } from './fixtures.js';
import { median } from './harness.js';

const CALLS = 200_000;
const ROUNDS = 5;
let sink;

function time(step) {
  for (let i = 0; i < CALLS / 4; i++) sink = step();
  const samples = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) sink = step();
    samples.push(Number(process.hrtime.bigint() - start) / CALLS / 1000);
  }
  return median(samples);
}

const rows = [];
for (const [size, data] of Object.entries(PAYLOADS)) {
  const wireData = serializeData(data);
  const body = JSON.stringify({ name: EVENT, data: wireData, channels: [CHANNEL] });
  const toSign = `POST\n/apps/${APP.appId}/events\nauth_key=${APP.key}&auth_timestamp=1700000000&auth_version=1.0&body_md5=${md5Hex(body)}`;
  const steps = {
    'JSON-encode the data': () => serializeData(data),
    'JSON-encode the body (data as a string)': () =>
      JSON.stringify({ name: EVENT, data: wireData, channels: [CHANNEL] }),
    'MD5 of the body': () => md5Hex(body),
    'HMAC-SHA256 of the string to sign': () => outboundSignatureHex(APP.secret, toSign),
    'signed query (MD5 + HMAC + strings)': () =>
      signRequestQuery({
        key: APP.key,
        secret: APP.secret,
        method: 'POST',
        path: `/apps/${APP.appId}/events`,
        body,
        timestamp: 1_700_000_000,
      }),
    'all of it': () => {
      const encoded = serializeData(data);
      const wire = JSON.stringify({ name: EVENT, data: encoded, channels: [CHANNEL] });
      return signRequestQuery({
        key: APP.key,
        secret: APP.secret,
        method: 'POST',
        path: `/apps/${APP.appId}/events`,
        body: wire,
        timestamp: 1_700_000_000,
      });
    },
  };
  for (const [name, step] of Object.entries(steps)) rows.push([size, name, time(step)]);
}
void sink;
console.log(
  `protocol work per trigger, µs per call (median of ${ROUNDS} rounds of ${CALLS.toLocaleString('en-US')})\n`,
);
console.log('| payload | step | µs |\n|:--|:--|--:|');
for (const [size, name, micros] of rows) console.log(`| ${size} | ${name} | ${micros.toFixed(2)} |`);
