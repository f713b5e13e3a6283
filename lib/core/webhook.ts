import { hash } from 'node:crypto';
import type { ChannelEncryption } from './encryption.js';
import { PusherWebhookError } from './pusher.errors.js';
import type {
  PusherRejectedWebhookEvent,
  PusherWebhookEvent,
  PusherWebhookPayload,
  WebhookKeyPair,
  WebhookRequest,
} from './pusher.types.js';
import { verifySignatureHex } from './signing.js';
import { isEncryptedChannel } from './validation.js';

/**
 * How long Pusher keeps redelivering a webhook that was not answered with a 2xx: "Channels will retry sending the
 * webhook, with exponential backoff, for 5 minutes" (Pusher Channels docs, "Webhook Timeouts and Retries"). A
 * redelivery carries the original body, so its `time_ms` is up to this old when it arrives.
 */
export const DEFAULT_WEBHOOK_MAX_AGE_MS = 5 * 60_000;
/** How far the sender's clock may be from ours, either way, on top of the age window. */
export const DEFAULT_WEBHOOK_CLOCK_SKEW_MS = 60_000;

/** What verifying a webhook needs. */
export interface WebhookVerifier {
  key: string;
  secret: string;
  /** More key/secret pairs of the same app whose signatures are accepted too (key rotation). */
  additionalKeys?: readonly WebhookKeyPair[] | undefined;
  /** Refuse bodies whose `time_ms` is older than this (plus `clockSkewMs`); no window when absent. */
  maxAgeMs?: number | undefined;
  /** Tolerated clock difference either way; default {@link DEFAULT_WEBHOOK_CLOCK_SKEW_MS}. */
  clockSkewMs?: number | undefined;
  /** Decrypts `client_event` data on `private-encrypted-` channels when given. */
  encryption?: ChannelEncryption | undefined;
  /** Clock in ms (tests). */
  now?: (() => number) | undefined;
}

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/**
 * Verifies a webhook and returns its typed payload: the `X-Pusher-Key` must be the app key (or one of
 * `additionalKeys`), `X-Pusher-Signature` the HMAC-SHA256 of the raw body bytes under that key's secret (compared in
 * constant time), the body `{time_ms, events[]}`, and `time_ms` inside the freshness window when one is set.
 * `client_event` data on encrypted channels comes back decrypted.
 *
 * The body as a whole is all or nothing; single events are not: an event of an authentic body that is malformed or
 * cannot be decrypted is left out of `events` and listed in `rejectedEvents`, so that one bad event (a subscriber can
 * send any `client_event`) does not make the sender retry a batch that can never pass.
 *
 * @throws PusherWebhookError whose `reason` says what failed.
 */
export function verifyWebhook(verifier: WebhookVerifier, request: WebhookRequest): PusherWebhookPayload {
  if (request === null || typeof request !== 'object') {
    throw new PusherWebhookError('Webhook request is missing; pass { key, signature, body }.', 'missing-raw-body');
  }
  const key = singleHeader(request.key, 'X-Pusher-Key', 'missing-key', 'unknown-key');
  const secrets = secretsOfKey(verifier, key);
  if (secrets.length === 0) {
    // The key is public, so echoing it helps find a misrouted webhook.
    throw new PusherWebhookError(
      `Webhook X-Pusher-Key ${JSON.stringify(key.slice(0, 64))} is not one of this app's keys; check which app the webhook URL belongs to.`,
      'unknown-key',
    );
  }
  const signature = singleHeader(request.signature, 'X-Pusher-Signature', 'missing-signature', 'invalid-signature');
  const bytes = rawBytes(request.body);

  // A header that is not 64 hex digits is refused without comparing: its shape is the caller's, not a secret.
  // The comparison itself is constant-time, so nothing about the expected signature is learned from timing.
  // Every secret of the key is tried (no early exit), so timing does not tell which one matched either.
  let matched = false;
  if (HEX_SHA256.test(signature)) {
    for (const secret of secrets) matched = verifySignatureHex(secret, bytes, signature) || matched;
  }
  if (!matched) {
    throw new PusherWebhookError(
      'Webhook X-Pusher-Signature does not match the body: check the app secret, and that the body is passed exactly as received (not re-serialized).',
      'invalid-signature',
    );
  }

  const { timeMs, events } = parseEnvelope(bytes);
  checkFreshness(verifier, timeMs);
  return checkEvents(timeMs, events, verifier.encryption);
}

/**
 * A stable id of one delivery: the SHA-256 (hex) of the raw body bytes. Pusher redelivers the same bytes, so a
 * redelivery has the same id; the signature header is not used because its hex case is the sender's choice.
 */
export function webhookDeliveryId(body: string | Buffer | Uint8Array): string {
  // One-shot: no Hash object per delivery.
  return hash(
    'sha256',
    typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    'hex',
  );
}

function secretsOfKey(verifier: WebhookVerifier, key: string): string[] {
  const secrets: string[] = [];
  if (verifier.key === key) secrets.push(verifier.secret);
  for (const pair of verifier.additionalKeys ?? []) if (pair.key === key) secrets.push(pair.secret);
  return secrets;
}

function rawBytes(body: unknown): string | Buffer {
  // A string is signed and parsed as it is: converting it to bytes and back would cost more than the HMAC.
  if (typeof body === 'string') return body;
  // isView rather than instanceof: Buffers may come from another realm (vm contexts, test runners).
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new PusherWebhookError(
    'Webhook body must be the raw bytes as received (string or Buffer), not a parsed object; enable the raw body in your HTTP framework (e.g. NestFactory.create(AppModule, { rawBody: true })).',
    'missing-raw-body',
  );
}

function checkFreshness(verifier: WebhookVerifier, timeMs: number): void {
  if (verifier.maxAgeMs === undefined) return;
  const skew = verifier.clockSkewMs ?? DEFAULT_WEBHOOK_CLOCK_SKEW_MS;
  const age = (verifier.now ?? Date.now)() - timeMs;
  if (age > verifier.maxAgeMs + skew) {
    throw new PusherWebhookError(
      `Webhook time_ms is ${Math.round(age)} ms old; webhooks older than ${verifier.maxAgeMs} ms (webhookMaxAgeMs) plus ${skew} ms of clock skew (webhookClockSkewMs) are refused. A replay, or a clock to sync.`,
      'stale',
    );
  }
  if (age < -skew) {
    throw new PusherWebhookError(
      `Webhook time_ms is ${Math.round(-age)} ms in the future; more than ${skew} ms (webhookClockSkewMs) is refused. Sync the clocks.`,
      'stale',
    );
  }
}

function singleHeader(
  value: string | string[] | undefined | null,
  header: string,
  missing: 'missing-key' | 'missing-signature',
  conflicting: 'unknown-key' | 'invalid-signature',
): string {
  let single: unknown = value;
  if (Array.isArray(value)) {
    const distinct = new Set(value);
    if (distinct.size > 1) {
      throw new PusherWebhookError(
        `Webhook carries ${distinct.size} different ${header} headers; exactly one is expected.`,
        conflicting,
      );
    }
    single = value[0];
  }
  if (typeof single !== 'string' || single.trim().length === 0) {
    throw new PusherWebhookError(`Webhook has no ${header} header; is this request from Pusher?`, missing);
  }
  return single.trim();
}

function parseEnvelope(bytes: string | Buffer): { timeMs: number; events: unknown[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch {
    const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
    throw new PusherWebhookError(`Webhook body (${size} bytes) is not JSON.`, 'malformed-body');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new PusherWebhookError('Webhook body must be a JSON object {time_ms, events}.', 'malformed-body');
  }
  const { time_ms: timeMs, events } = parsed as { time_ms?: unknown; events?: unknown };
  if (typeof timeMs !== 'number' || !Number.isFinite(timeMs)) {
    throw new PusherWebhookError('Webhook body has no numeric time_ms.', 'malformed-body');
  }
  if (!Array.isArray(events)) {
    throw new PusherWebhookError('Webhook body has no events array.', 'malformed-body');
  }
  return { timeMs, events };
}

function checkEvents(
  timeMs: number,
  events: unknown[],
  encryption: ChannelEncryption | undefined,
): PusherWebhookPayload {
  const accepted: PusherWebhookEvent[] = [];
  const rejected: PusherRejectedWebhookEvent[] = [];
  for (let index = 0; index < events.length; index++) {
    const candidate = events[index];
    const problem = eventProblem(candidate);
    if (problem !== undefined) {
      rejected.push({ index, reason: `Webhook event #${index} ${problem}.`, event: candidate });
      continue;
    }
    const event = candidate as PusherWebhookEvent;
    if (encryption === undefined || event.name !== 'client_event' || !isEncryptedChannel(event.channel)) {
      accepted.push(event);
      continue;
    }
    try {
      accepted.push({ ...event, data: encryption.decrypt(event.channel, event.data) });
    } catch (error) {
      rejected.push({
        index,
        reason: `Webhook event #${index} (client_event on ${JSON.stringify(event.channel)}) could not be decrypted: ${(error as Error).message}`,
        event: candidate,
      });
    }
  }
  const payload: PusherWebhookPayload = { time_ms: timeMs, events: accepted };
  // Only when there are any, so that a clean payload is exactly the body that was sent.
  if (rejected.length > 0) payload.rejectedEvents = rejected;
  return payload;
}

/** What is wrong with one event, or `undefined` when it is usable (a `client_event`'s data is made a string). */
function eventProblem(event: unknown): string | undefined {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return 'is not an object';
  const fields = event as Record<string, unknown>;
  if (typeof fields.name !== 'string') return 'has no string name';
  // The name is the sender's text: quoted and cut short, as it ends up in a log line.
  if (typeof fields.channel !== 'string') return `(${JSON.stringify(fields.name.slice(0, 64))}) has no string channel`;
  // Unknown event names pass through untouched: Pusher may add types, and refusing them would make it retry forever.
  switch (fields.name) {
    case 'member_added':
    case 'member_removed':
      if (typeof fields.user_id !== 'string') return `(${fields.name}) has no string user_id`;
      break;
    case 'client_event':
      if (typeof fields.event !== 'string') return '(client_event) has no string event';
      // Pusher sends the data as a JSON string; soketi (and other compatible servers) send the parsed value.
      // Either way handlers get a string, so one handler works against both.
      if (fields.data === undefined) return '(client_event) has no data';
      if (typeof fields.data !== 'string') {
        try {
          fields.data = JSON.stringify(fields.data);
        } catch {
          // JSON.parse takes nesting that JSON.stringify's recursion cannot give back (a RangeError).
          return '(client_event) has data that cannot be serialized again (nested too deep)';
        }
      }
      break;
    case 'subscription_count':
      if (typeof fields.subscription_count !== 'number')
        return '(subscription_count) has no numeric subscription_count';
      break;
  }
  return undefined;
}

/**
 * How long a delivery store must remember a handled webhook, counted from when it was handled: as long as its body
 * can still pass the freshness check. A body is accepted from `time_ms` - skew to `time_ms` + age window + skew, and
 * one dated up to skew in the future is accepted now, so that is the age window plus twice the clock skew (the age
 * window's default when it is off).
 */
export function webhookReplayWindowMs(options: {
  webhookMaxAgeMs?: number | false | undefined;
  webhookClockSkewMs?: number | undefined;
}): number {
  const maxAge = typeof options.webhookMaxAgeMs === 'number' ? options.webhookMaxAgeMs : DEFAULT_WEBHOOK_MAX_AGE_MS;
  return maxAge + 2 * (options.webhookClockSkewMs ?? DEFAULT_WEBHOOK_CLOCK_SKEW_MS);
}
