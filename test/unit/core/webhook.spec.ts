import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ChannelEncryption, parseMasterKey } from '../../../lib/core/encryption.js';
import { PusherWebhookError, type PusherWebhookFailure } from '../../../lib/core/pusher.errors.js';
import type { WebhookRequest } from '../../../lib/core/pusher.types.js';
import { verifyWebhook, type WebhookVerifier } from '../../../lib/core/webhook.js';

const verifier: WebhookVerifier = { key: '123456789', secret: 'tofu' };
const vectorBody = '{"time_ms":1403175510755,"events":[{"channel":"test_channel","name":"channel_vacated"}]}';
const vectorSignature = 'c17257e92037cd7de407ebc1ed174ceb7b2e518db127f44411b9ffc4f5b28cc5';

const sign = (body: string | Buffer, secret = 'tofu') => createHmac('sha256', secret).update(body).digest('hex');

function reasonOf(config: WebhookVerifier, request: WebhookRequest): PusherWebhookFailure {
  try {
    verifyWebhook(config, request);
  } catch (error) {
    expect(error).toBeInstanceOf(PusherWebhookError);
    return (error as PusherWebhookError).reason;
  }
  throw new Error('expected a PusherWebhookError');
}

describe('verifyWebhook', () => {
  it('accepts the protocol page vector and returns the typed payload', () => {
    expect(verifyWebhook(verifier, { key: '123456789', signature: vectorSignature, body: vectorBody })).toEqual({
      time_ms: 1403175510755,
      events: [{ channel: 'test_channel', name: 'channel_vacated' }],
    });
  });

  it('accepts the body as a Buffer or Uint8Array and header values as single-element arrays', () => {
    expect(verifyWebhook(verifier, { key: ['123456789'], signature: [vectorSignature], body: Buffer.from(vectorBody) }).time_ms).toBe(1403175510755);
    const bytes = new Uint8Array(Buffer.from(vectorBody));
    expect(verifyWebhook(verifier, { key: '123456789', signature: vectorSignature.toUpperCase(), body: bytes }).events).toHaveLength(1);
  });

  it('verifies the raw bytes, not a re-encoding (non-ASCII body)', () => {
    const body = '{"time_ms":1,"events":[{"name":"client_event","channel":"private-é","event":"client-x","data":"ü","socket_id":"1.1"}]}';
    const payload = verifyWebhook(verifier, { key: '123456789', signature: sign(Buffer.from(body, 'utf8')), body: Buffer.from(body) });
    expect(payload.events[0]).toMatchObject({ name: 'client_event', data: 'ü' });
  });

  it.each<[string, Partial<WebhookRequest>, PusherWebhookFailure]>([
    ['no key', { key: undefined }, 'missing-key'],
    ['an empty key', { key: '' }, 'missing-key'],
    ['an empty key array', { key: [] }, 'missing-key'],
    ['another key', { key: 'other' }, 'unknown-key'],
    ['two different keys', { key: ['123456789', 'other'] }, 'unknown-key'],
    ['no signature', { signature: null }, 'missing-signature'],
    ['a wrong signature', { signature: sign(vectorBody, 'not-tofu') }, 'invalid-signature'],
    ['a truncated signature', { signature: vectorSignature.slice(0, 63) }, 'invalid-signature'],
    ['two different signatures', { signature: [vectorSignature, sign('x')] }, 'invalid-signature'],
    ['a signature of another body', { body: vectorBody.replace('1403', '1404') }, 'invalid-signature'],
    ['a parsed object instead of the raw body', { body: JSON.parse(vectorBody) as string }, 'missing-raw-body'],
  ])('refuses %s', (_label, change, reason) => {
    expect(reasonOf(verifier, { key: '123456789', signature: vectorSignature, body: vectorBody, ...change })).toBe(reason);
  });

  it.each([
    ['not JSON', 'not json'],
    ['a JSON array', '[]'],
    ['no time_ms', '{"events":[]}'],
    ['no events array', '{"time_ms":1,"events":{}}'],
    ['an event without a name', '{"time_ms":1,"events":[{"channel":"a"}]}'],
    ['member_added without user_id', '{"time_ms":1,"events":[{"name":"member_added","channel":"presence-a"}]}'],
    ['client_event without data', '{"time_ms":1,"events":[{"name":"client_event","channel":"private-a","event":"client-x"}]}'],
  ])('refuses a signed body that is %s (malformed-body)', (_label, body) => {
    expect(reasonOf(verifier, { key: '123456789', signature: sign(body), body })).toBe('malformed-body');
  });

  it('passes unknown event names through (Pusher may add types)', () => {
    const body = '{"time_ms":1,"events":[{"name":"future_event","channel":"a"}]}';
    expect(verifyWebhook(verifier, { key: '123456789', signature: sign(body), body }).events[0]!.name).toBe('future_event');
  });

  it('refuses a stale time_ms when webhookMaxAgeMs is set, and accepts a fresh one', () => {
    const body = '{"time_ms":1000000,"events":[]}';
    const request = { key: '123456789', signature: sign(body), body };
    expect(reasonOf({ ...verifier, maxAgeMs: 5000, now: () => 1000000 + 5001 }, request)).toBe('stale');
    expect(verifyWebhook({ ...verifier, maxAgeMs: 5000, now: () => 1000000 + 4999 }, request).time_ms).toBe(1000000);
    // Without a window nothing is stale.
    expect(verifyWebhook(verifier, request).time_ms).toBe(1000000);
  });

  it('decrypts client_event data on encrypted channels when a master key is configured', () => {
    const encryption = new ChannelEncryption(parseMasterKey(Buffer.alloc(32, 9).toString('base64')));
    const channel = 'private-encrypted-chat';
    const sealed = encryption.encrypt(channel, '{"text":"hi"}');
    const body = JSON.stringify({
      time_ms: 1,
      events: [
        { name: 'client_event', channel, event: 'client-msg', data: sealed, socket_id: '1.1' },
        { name: 'client_event', channel: 'private-plain', event: 'client-msg', data: 'as is', socket_id: '1.1' },
      ],
    });
    const request = { key: '123456789', signature: sign(body), body };
    const payload = verifyWebhook({ ...verifier, encryption }, request);
    expect(payload.events[0]).toMatchObject({ data: '{"text":"hi"}' });
    expect(payload.events[1]).toMatchObject({ data: 'as is' });
    // Without a key the ciphertext stays untouched.
    expect(verifyWebhook(verifier, request).events[0]).toMatchObject({ data: sealed });
  });

  it('hands client_event data sent as a JSON value (as soketi does) to handlers as its JSON string, decrypting it too', () => {
    const encryption = new ChannelEncryption(parseMasterKey(Buffer.alloc(32, 9).toString('base64')));
    const channel = 'private-encrypted-chat';
    const sealed = JSON.parse(encryption.encrypt(channel, '{"text":"hi"}')) as object;
    const body = JSON.stringify({
      time_ms: 1,
      events: [
        { name: 'client_event', channel: 'private-plain', event: 'client-msg', data: { typing: true, who: 'é' }, socket_id: '1.1' },
        { name: 'client_event', channel: 'private-plain', event: 'client-msg', data: 7, socket_id: '1.1' },
        { name: 'client_event', channel, event: 'client-msg', data: sealed, socket_id: '1.1' },
      ],
    });
    const payload = verifyWebhook({ ...verifier, encryption }, { key: '123456789', signature: sign(body), body });
    expect(payload.events.map((event) => (event as { data: string }).data)).toEqual(['{"typing":true,"who":"é"}', '7', '{"text":"hi"}']);
  });

  it('refuses undecryptable client_event data on an encrypted channel (malformed-body)', () => {
    const encryption = new ChannelEncryption(parseMasterKey(Buffer.alloc(32, 9).toString('base64')));
    const body = JSON.stringify({
      time_ms: 1,
      events: [{ name: 'client_event', channel: 'private-encrypted-chat', event: 'client-msg', data: '{"nonce":"x"}', socket_id: '1.1' }],
    });
    expect(reasonOf({ ...verifier, encryption }, { key: '123456789', signature: sign(body), body })).toBe('malformed-body');
  });

  it('never puts the secret or the expected signature in the error', () => {
    try {
      verifyWebhook(verifier, { key: '123456789', signature: sign('other'), body: vectorBody });
    } catch (error) {
      const text = JSON.stringify({ ...(error as object), message: (error as Error).message });
      expect(text).not.toContain(vectorSignature);
      expect(text).not.toContain('tofu');
      return;
    }
    throw new Error('expected a throw');
  });
});
