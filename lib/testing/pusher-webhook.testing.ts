import { ChannelEncryption, parseMasterKey } from '../core/encryption.js';
import { hmacSha256Hex } from '../core/signing.js';
import { isEncryptedChannel } from '../core/validation.js';

/** A webhook event to send: any name (unknown ones too), a channel, and the fields of that event type. */
export interface PusherWebhookEventInput {
  name: string;
  channel: string;
  /** `client_event` data: a string is sent as is, anything else JSON-encoded (and encrypted on encrypted channels). */
  data?: unknown;
  [field: string]: unknown;
}

/** Who signs the webhook: the app's key and secret (and master key, to encrypt `client_event` data). */
export interface PusherWebhookCredentials {
  key: string;
  secret: string;
  encryptionMasterKeyBase64?: string | undefined;
}

/** A webhook exactly as Pusher posts it. */
export interface SignedPusherWebhook {
  /** The exact body bytes that were signed. */
  body: string;
  headers: { 'content-type': string; 'x-pusher-key': string; 'x-pusher-signature': string };
  payload: { time_ms: number; events: Array<Record<string, unknown>> };
}

let lastTimeMs = 0;

/**
 * A fresh `time_ms`: now, but strictly increasing within the process, so that two webhooks built in the same
 * millisecond never have the same body (a receiver that suppresses duplicates would drop the second).
 */
export function freshWebhookTimeMs(): number {
  lastTimeMs = Math.max(Date.now(), lastTimeMs + 1);
  return lastTimeMs;
}

/**
 * Builds a correctly signed webhook: body `{time_ms, events}` (time_ms fresh unless given), `X-Pusher-Key` and
 * `X-Pusher-Signature` (HMAC-SHA256 of the body). `client_event` data on `private-encrypted-` channels is encrypted
 * with the channel's key, as pusher-js would have sent it.
 * @example signPusherWebhook([{ name: 'member_added', channel: 'presence-room', user_id: '42' }], { key, secret })
 */
export function signPusherWebhook(
  events: readonly PusherWebhookEventInput[],
  credentials: PusherWebhookCredentials,
  options: { timeMs?: number } = {},
): SignedPusherWebhook {
  const encryption =
    credentials.encryptionMasterKeyBase64 === undefined
      ? undefined
      : new ChannelEncryption(parseMasterKey(credentials.encryptionMasterKeyBase64));
  const wireEvents = events.map((event) => {
    if (event.name !== 'client_event' || event.data === undefined) return { ...event };
    const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
    if (!isEncryptedChannel(event.channel)) return { ...event, data };
    if (encryption === undefined) {
      throw new Error(
        `signPusherWebhook: client_event on ${event.channel} needs encryptionMasterKeyBase64 to encrypt its data.`,
      );
    }
    return { ...event, data: encryption.encrypt(event.channel, data) };
  });
  const payload = { time_ms: options.timeMs ?? freshWebhookTimeMs(), events: wireEvents };
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-pusher-key': credentials.key,
      'x-pusher-signature': hmacSha256Hex(credentials.secret, body),
    },
    payload,
  };
}
