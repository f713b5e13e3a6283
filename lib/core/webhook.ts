import type { ChannelEncryption } from './encryption.js';
import { PusherWebhookError } from './pusher.errors.js';
import type { PusherWebhookEvent, PusherWebhookPayload, WebhookRequest } from './pusher.types.js';
import { verifySignatureHex } from './signing.js';
import { isEncryptedChannel } from './validation.js';

/** What verifying a webhook needs. */
export interface WebhookVerifier {
  key: string;
  secret: string;
  /** Reject bodies whose `time_ms` is further than this from now (replay window). */
  maxAgeMs?: number | undefined;
  /** Decrypts `client_event` data on `private-encrypted-` channels when given. */
  encryption?: ChannelEncryption | undefined;
  /** Clock in ms (tests). */
  now?: (() => number) | undefined;
}

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/**
 * Verifies a webhook and returns its typed payload: the `X-Pusher-Key` must be the app key, `X-Pusher-Signature`
 * the HMAC-SHA256 of the raw body bytes (compared in constant time), the body `{time_ms, events[]}`, and `time_ms`
 * inside `maxAgeMs` when set. `client_event` data on encrypted channels comes back decrypted.
 *
 * @throws PusherWebhookError whose `reason` says what failed.
 */
export function verifyWebhook(verifier: WebhookVerifier, request: WebhookRequest): PusherWebhookPayload {
  if (request === null || typeof request !== 'object') {
    throw new PusherWebhookError('Webhook request is missing; pass { key, signature, body }.', 'missing-raw-body');
  }
  const key = singleHeader(request.key, 'X-Pusher-Key', 'missing-key', 'unknown-key');
  if (key !== verifier.key) {
    // The key is public, so echoing it helps find a misrouted webhook.
    throw new PusherWebhookError(
      `Webhook X-Pusher-Key ${JSON.stringify(key.slice(0, 64))} is not this app's key; check which app the webhook URL belongs to.`,
      'unknown-key',
    );
  }
  const signature = singleHeader(request.signature, 'X-Pusher-Signature', 'missing-signature', 'invalid-signature');

  const body = request.body;
  let bytes: string | Buffer;
  // A string is signed and parsed as it is: converting it to bytes and back would cost more than the HMAC.
  if (typeof body === 'string') bytes = body;
  // isView rather than instanceof: Buffers may come from another realm (vm contexts, test runners).
  else if (ArrayBuffer.isView(body)) bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  else {
    throw new PusherWebhookError(
      'Webhook body must be the raw bytes as received (string or Buffer), not a parsed object; enable the raw body in your HTTP framework (e.g. NestFactory.create(AppModule, { rawBody: true })).',
      'missing-raw-body',
    );
  }

  // A header that is not 64 hex digits is refused without comparing: its shape is the caller's, not a secret.
  // The comparison itself is constant-time, so nothing about the expected signature is learned from timing.
  if (!HEX_SHA256.test(signature) || !verifySignatureHex(verifier.secret, bytes, signature)) {
    throw new PusherWebhookError(
      'Webhook X-Pusher-Signature does not match the body: check the app secret, and that the body is passed exactly as received (not re-serialized).',
      'invalid-signature',
    );
  }

  const payload = parsePayload(bytes);
  if (verifier.maxAgeMs !== undefined) {
    const now = (verifier.now ?? Date.now)();
    const age = now - payload.time_ms;
    if (Math.abs(age) > verifier.maxAgeMs) {
      throw new PusherWebhookError(
        `Webhook time_ms is ${Math.round(age)} ms away from now; the window is ${verifier.maxAgeMs} ms (webhookMaxAgeMs). A replay, or a clock to sync.`,
        'stale',
      );
    }
  }
  if (verifier.encryption !== undefined) {
    payload.events = payload.events.map((event) => decryptClientEvent(event, verifier.encryption!));
  }
  return payload;
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
      throw new PusherWebhookError(`Webhook carries ${distinct.size} different ${header} headers; exactly one is expected.`, conflicting);
    }
    single = value[0];
  }
  if (typeof single !== 'string' || single.trim().length === 0) {
    throw new PusherWebhookError(`Webhook has no ${header} header; is this request from Pusher?`, missing);
  }
  return single.trim();
}

function parsePayload(bytes: string | Buffer): PusherWebhookPayload {
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
  events.forEach(checkEvent);
  return { time_ms: timeMs, events: events as PusherWebhookEvent[] };
}

function checkEvent(event: unknown, index: number): void {
  const malformed = (what: string): never => {
    throw new PusherWebhookError(`Webhook event #${index} ${what}.`, 'malformed-body');
  };
  if (event === null || typeof event !== 'object' || Array.isArray(event)) malformed('is not an object');
  const fields = event as Record<string, unknown>;
  if (typeof fields.name !== 'string') malformed('has no string name');
  if (typeof fields.channel !== 'string') malformed(`(${String(fields.name)}) has no string channel`);
  // Unknown event names pass through untouched: Pusher may add types, and refusing them would make it retry forever.
  switch (fields.name) {
    case 'member_added':
    case 'member_removed':
      if (typeof fields.user_id !== 'string') malformed(`(${fields.name}) has no string user_id`);
      break;
    case 'client_event':
      if (typeof fields.event !== 'string') malformed('(client_event) has no string event');
      // Pusher sends the data as a JSON string; soketi (and other compatible servers) send the parsed value.
      // Either way handlers get a string, so one handler works against both.
      if (fields.data === undefined) malformed('(client_event) has no data');
      if (typeof fields.data !== 'string') fields.data = JSON.stringify(fields.data);
      break;
    case 'subscription_count':
      if (typeof fields.subscription_count !== 'number') malformed('(subscription_count) has no numeric subscription_count');
      break;
  }
}

function decryptClientEvent(event: PusherWebhookEvent, encryption: ChannelEncryption): PusherWebhookEvent {
  if (event.name !== 'client_event' || !isEncryptedChannel(event.channel)) return event;
  try {
    return { ...event, data: encryption.decrypt(event.channel, event.data) };
  } catch (error) {
    throw new PusherWebhookError(
      `Webhook client_event on ${JSON.stringify(event.channel)} could not be decrypted: ${(error as Error).message}`,
      'malformed-body',
    );
  }
}
