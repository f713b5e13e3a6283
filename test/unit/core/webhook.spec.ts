import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ChannelEncryption, parseMasterKey } from '../../../lib/core/encryption.js';
import { PusherWebhookError, type PusherWebhookFailure } from '../../../lib/core/pusher.errors.js';
import type { WebhookRequest } from '../../../lib/core/pusher.types.js';
import { verifyWebhook, webhookDeliveryId, type WebhookVerifier } from '../../../lib/core/webhook.js';

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
    expect(
      verifyWebhook(verifier, { key: ['123456789'], signature: [vectorSignature], body: Buffer.from(vectorBody) })
        .time_ms,
    ).toBe(1403175510755);
    const bytes = new Uint8Array(Buffer.from(vectorBody));
    expect(
      verifyWebhook(verifier, { key: '123456789', signature: vectorSignature.toUpperCase(), body: bytes }).events,
    ).toHaveLength(1);
  });

  it('verifies the raw bytes, not a re-encoding (non-ASCII body)', () => {
    const body =
      '{"time_ms":1,"events":[{"name":"client_event","channel":"private-é","event":"client-x","data":"ü","socket_id":"1.1"}]}';
    const payload = verifyWebhook(verifier, {
      key: '123456789',
      signature: sign(Buffer.from(body, 'utf8')),
      body: Buffer.from(body),
    });
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
    expect(reasonOf(verifier, { key: '123456789', signature: vectorSignature, body: vectorBody, ...change })).toBe(
      reason,
    );
  });

  it.each([
    ['not JSON', 'not json'],
    ['a JSON array', '[]'],
    ['no time_ms', '{"events":[]}'],
    ['no events array', '{"time_ms":1,"events":{}}'],
  ])('refuses a signed body that is %s (malformed-body)', (_label, body) => {
    expect(reasonOf(verifier, { key: '123456789', signature: sign(body), body })).toBe('malformed-body');
  });

  it('skips malformed events of an authentic body, lists them in rejectedEvents, and keeps the rest in order', () => {
    const events = [
      { name: 'channel_occupied', channel: 'a' },
      { channel: 'no-name' },
      { name: 'member_added', channel: 'presence-a' },
      { name: 'client_event', channel: 'private-a', event: 'client-x' },
      null,
      { name: 'member_added', channel: 'presence-a', user_id: '7' },
    ];
    const body = JSON.stringify({ time_ms: 1, events });
    const payload = verifyWebhook(verifier, { key: '123456789', signature: sign(body), body });
    expect(payload.events).toEqual([events[0], events[5]]);
    expect(payload.rejectedEvents!.map(({ index }) => index)).toEqual([1, 2, 3, 4]);
    expect(payload.rejectedEvents![2]!.reason).toBe('Webhook event #3 (client_event) has no data.');
    expect(payload.rejectedEvents![1]!.event).toEqual(events[2]);
  });

  it('skips a client_event whose data is nested too deep to serialize, instead of throwing a RangeError', () => {
    const body = `{"time_ms":1,"events":[{"name":"client_event","channel":"a","event":"client-x","data":${'['.repeat(50_000)}${']'.repeat(50_000)}},{"name":"channel_occupied","channel":"b"}]}`;
    const payload = verifyWebhook(verifier, { key: '123456789', signature: sign(body), body });
    expect(payload.events).toEqual([{ name: 'channel_occupied', channel: 'b' }]);
    expect(payload.rejectedEvents![0]!.reason).toContain('nested too deep');
  });

  it('passes unknown event names through (Pusher may add types)', () => {
    const body = '{"time_ms":1,"events":[{"name":"future_event","channel":"a"}]}';
    expect(verifyWebhook(verifier, { key: '123456789', signature: sign(body), body }).events[0]!.name).toBe(
      'future_event',
    );
  });

  it('refuses a stale time_ms past the window plus the clock skew, and one from further in the future than the skew', () => {
    const body = '{"time_ms":1000000,"events":[]}';
    const request = { key: '123456789', signature: sign(body), body };
    const windowed = { ...verifier, maxAgeMs: 5000, clockSkewMs: 1000 };
    expect(reasonOf({ ...windowed, now: () => 1000000 + 6001 }, request)).toBe('stale');
    expect(verifyWebhook({ ...windowed, now: () => 1000000 + 6000 }, request).time_ms).toBe(1000000);
    expect(reasonOf({ ...windowed, now: () => 1000000 - 1001 }, request)).toBe('stale');
    expect(verifyWebhook({ ...windowed, now: () => 1000000 - 1000 }, request).time_ms).toBe(1000000);
    // Skew defaults to a minute.
    expect(reasonOf({ ...verifier, maxAgeMs: 5000, now: () => 1000000 + 5000 + 60_001 }, request)).toBe('stale');
    // Without a window nothing is stale.
    expect(verifyWebhook(verifier, request).time_ms).toBe(1000000);
  });

  it('accepts a webhook signed with any of the additional key/secret pairs, and only with the secret of its key', () => {
    const rotating = {
      ...verifier,
      additionalKeys: [
        { key: 'second-key', secret: 'second-secret' },
        { key: '123456789', secret: 'old-tofu' },
      ],
    };
    const body = '{"time_ms":1,"events":[]}';
    expect(verifyWebhook(rotating, { key: 'second-key', signature: sign(body, 'second-secret'), body }).time_ms).toBe(
      1,
    );
    // Same key, two secrets (a secret being rotated): both verify.
    expect(verifyWebhook(rotating, { key: '123456789', signature: sign(body, 'old-tofu'), body }).time_ms).toBe(1);
    expect(verifyWebhook(rotating, { key: '123456789', signature: sign(body), body }).time_ms).toBe(1);
    // A pair's secret does not verify under another pair's key.
    expect(reasonOf(rotating, { key: 'second-key', signature: sign(body), body })).toBe('invalid-signature');
    expect(reasonOf(verifier, { key: 'second-key', signature: sign(body, 'second-secret'), body })).toBe('unknown-key');
  });

  it('gives a redelivered body the same delivery id whatever its form, and another body another id', () => {
    expect(webhookDeliveryId(vectorBody)).toBe(webhookDeliveryId(Buffer.from(vectorBody)));
    expect(webhookDeliveryId(vectorBody)).toBe(createHash('sha256').update(vectorBody).digest('hex'));
    expect(webhookDeliveryId(vectorBody)).not.toBe(webhookDeliveryId(vectorBody.replace('1403', '1404')));
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
        {
          name: 'client_event',
          channel: 'private-plain',
          event: 'client-msg',
          data: { typing: true, who: 'é' },
          socket_id: '1.1',
        },
        { name: 'client_event', channel: 'private-plain', event: 'client-msg', data: 7, socket_id: '1.1' },
        { name: 'client_event', channel, event: 'client-msg', data: sealed, socket_id: '1.1' },
      ],
    });
    const payload = verifyWebhook({ ...verifier, encryption }, { key: '123456789', signature: sign(body), body });
    expect(payload.events.map((event) => (event as { data: string }).data)).toEqual([
      '{"typing":true,"who":"é"}',
      '7',
      '{"text":"hi"}',
    ]);
  });

  it('skips an undecryptable client_event on an encrypted channel (any subscriber can send one) and keeps the rest', () => {
    const encryption = new ChannelEncryption(parseMasterKey(Buffer.alloc(32, 9).toString('base64')));
    const body = JSON.stringify({
      time_ms: 1,
      events: [
        {
          name: 'client_event',
          channel: 'private-encrypted-chat',
          event: 'client-msg',
          data: '{"nonce":"x"}',
          socket_id: '1.1',
        },
        { name: 'member_added', channel: 'presence-a', user_id: '1' },
      ],
    });
    const payload = verifyWebhook({ ...verifier, encryption }, { key: '123456789', signature: sign(body), body });
    expect(payload.events).toEqual([{ name: 'member_added', channel: 'presence-a', user_id: '1' }]);
    expect(payload.rejectedEvents).toHaveLength(1);
    expect(payload.rejectedEvents![0]!.reason).toContain('could not be decrypted');
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
