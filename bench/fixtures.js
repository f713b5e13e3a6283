// Shared inputs: credentials, payloads of a given size, and pre-signed requests for the raw-undici floor and the
// webhook route. Signing here follows the protocol page (shared/pusher-protocol.md) with node:crypto directly.
import { createHash, createHmac } from 'node:crypto';

export const APP = Object.freeze({
  appId: '4242',
  key: 'bench-key-278d425bdf160c739803',
  secret: 'bench-secret-7ad3773142a6692b',
});
export const CHANNEL = 'bench-channel';
export const EVENT = 'bench-event';

/** A plain object whose JSON encoding is exactly `bytes` long (ASCII), like a typical app payload. */
export function payloadOfSize(bytes) {
  const base = {
    id: 123456,
    type: 'message.created',
    author: { id: 'u-42', name: 'Ada' },
    at: 1700000000000,
    text: '',
  };
  const overhead = JSON.stringify(base).length;
  if (bytes < overhead) throw new Error(`payload of ${bytes} B is smaller than its skeleton (${overhead} B)`);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789.,';
  let text = '';
  for (let i = 0; text.length < bytes - overhead; i++) text += alphabet[(i * 7) % alphabet.length];
  return { ...base, text };
}

export const PAYLOADS = Object.freeze({
  '200B': payloadOfSize(200),
  '8KB': payloadOfSize(8 * 1024),
});

/** The body a client sends for one trigger of `data` to CHANNEL. */
export function triggerBody(data) {
  return JSON.stringify({ name: EVENT, channels: [CHANNEL], data: JSON.stringify(data) });
}

/** `path?signed-query` for a POST of `body` to `/apps/{id}{subPath}`, signed now. */
export function signedPath(subPath, body, app = APP) {
  const path = `/apps/${app.appId}${subPath}`;
  const query =
    `auth_key=${app.key}&auth_timestamp=${Math.floor(Date.now() / 1000)}&auth_version=1.0` +
    `&body_md5=${createHash('md5').update(body).digest('hex')}`;
  const signature = createHmac('sha256', app.secret).update(`POST\n${path}\n${query}`).digest('hex');
  return `${path}?${query}&auth_signature=${signature}`;
}

export const SOCKET_ID = '123456.7890123';
export const PRIVATE_CHANNEL = 'private-bench-room';
export const PRESENCE_CHANNEL = 'presence-bench-room';
export const PRESENCE_DATA = Object.freeze({ user_id: 'user-42', user_info: { name: 'Ada Lovelace', role: 'admin' } });
export const USER_DATA = Object.freeze({
  id: 'user-42',
  user_info: { name: 'Ada Lovelace' },
  watchlist: ['user-1', 'user-2'],
});

/** A webhook as Pusher sends it: raw body bytes (string) and the headers that sign it. */
export function signedWebhook(events, app = APP) {
  const body = JSON.stringify({ time_ms: Date.now(), events });
  const signature = createHmac('sha256', app.secret).update(body).digest('hex');
  return { body, key: app.key, signature };
}

export const WEBHOOK_EVENTS = Object.freeze([
  { name: 'channel_occupied', channel: 'presence-bench-room' },
  { name: 'member_added', channel: 'presence-bench-room', user_id: 'user-42' },
]);
