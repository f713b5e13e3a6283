import { createHash, createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { deriveChannelKey, parseMasterKey } from '../../../lib/core/encryption.js';
import { Pusher } from '../../../lib/core/pusher.js';
import { PusherConfigurationError, PusherRequestError, PusherWebhookError } from '../../../lib/core/pusher.errors.js';
import type { PusherOptions } from '../../../lib/core/pusher.options.js';
import { FakeTransport, json, type RecordedRequest } from './fake-transport.js';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';

const SECRET = 'the-app-secret-0123';
const masterKeyBase64 = Buffer.alloc(32, 5).toString('base64');

function setup(options: Partial<PusherOptions> = {}, transport = new FakeTransport()) {
  const pusher = new Pusher({ appId: '77', key: 'app-key', secret: SECRET, transport, ...options });
  return { pusher, transport };
}

/** Recomputes the request signature independently from what went over the (fake) wire. */
function expectSigned(request: RecordedRequest): void {
  const { auth_signature: signature, ...rest } = request.query;
  expect(rest.auth_key).toBe('app-key');
  expect(rest.auth_version).toBe('1.0');
  expect(Math.abs(Number(rest.auth_timestamp) - Date.now() / 1000)).toBeLessThan(60);
  if (request.body !== undefined) expect(rest.body_md5).toBe(createHash('md5').update(request.body).digest('hex'));
  else expect(rest.body_md5).toBeUndefined();
  const query = Object.keys(rest)
    .sort()
    .map((name) => `${name}=${rest[name]}`)
    .join('&');
  const expected = createHmac('sha256', SECRET)
    .update(`${request.method}\n${request.pathname}\n${query}`)
    .digest('hex');
  expect(signature).toBe(expected);
}

const bodyOf = (request: RecordedRequest) => JSON.parse(request.body!) as Record<string, unknown>;

describe('Pusher', () => {
  describe('trigger', () => {
    it('POSTs a signed /events with the data as a JSON string and returns the parsed answer', async () => {
      const { pusher, transport } = setup();
      await expect(pusher.trigger('my-channel', 'my-event', { message: 'hi' })).resolves.toEqual({});
      const [request] = transport.requests;
      expect(request).toMatchObject({
        method: 'POST',
        origin: 'https://api.pusherapp.com',
        pathname: '/apps/77/events',
      });
      expect(bodyOf(request!)).toEqual({ name: 'my-event', data: '{"message":"hi"}', channels: ['my-channel'] });
      expect(request!.headers['X-Pusher-Library']).toMatch(/^nest-pusher \d+\.\d+\.\d+/);
      expectSigned(request!);
    });

    it('sends string data as is, to several channels, with socket_id and info; returns channel attributes', async () => {
      const transport = new FakeTransport(() => json(200, { channels: { 'presence-a': { user_count: 3 } } }));
      const { pusher } = setup({}, transport);
      const result = await pusher.trigger(['presence-a', 'b'], 'ev', 'raw text', {
        socketId: '123.456',
        info: ['user_count', 'subscription_count'],
      });
      expect(result).toEqual({ channels: { 'presence-a': { user_count: 3 } } });
      expect(bodyOf(transport.requests[0]!)).toEqual({
        name: 'ev',
        data: 'raw text',
        channels: ['presence-a', 'b'],
        socket_id: '123.456',
        info: 'user_count,subscription_count',
      });
    });

    it('encrypts data for a private-encrypted channel (JSON of the data, sealed with the channel key)', async () => {
      const { pusher, transport } = setup({ encryptionMasterKeyBase64: masterKeyBase64 });
      await pusher.trigger('private-encrypted-x', 'ev', { secret: 'plan' });
      const data = JSON.parse(bodyOf(transport.requests[0]!).data as string) as { nonce: string; ciphertext: string };
      const key = deriveChannelKey('private-encrypted-x', parseMasterKey(masterKeyBase64));
      const opened = xsalsa20poly1305(key, new Uint8Array(Buffer.from(data.nonce, 'base64'))).decrypt(
        new Uint8Array(Buffer.from(data.ciphertext, 'base64')),
      );
      expect(Buffer.from(opened).toString()).toBe('{"secret":"plan"}');
    });

    it('never mutates the channel list, the data or the options', async () => {
      const { pusher, transport } = setup();
      const channels = Object.freeze(['a', 'b']);
      const data = Object.freeze({ x: Object.freeze([1]) });
      const options = Object.freeze({ socketId: '1.2', info: Object.freeze(['subscription_count'] as const) });
      await pusher.trigger(channels, 'ev', data, options);
      expect(channels).toEqual(['a', 'b']);
      expect(options).toEqual({ socketId: '1.2', info: ['subscription_count'] });
      expect(bodyOf(transport.requests[0]!)).toEqual({
        name: 'ev',
        data: '{"x":[1]}',
        channels: ['a', 'b'],
        socket_id: '1.2',
        info: 'subscription_count',
      });
    });

    it('refuses options that would smuggle protocol fields (or the official spelling socket_id), sending nothing', async () => {
      const { pusher, transport } = setup();
      await expect(pusher.trigger('a', 'ev', 1, { name: 'forged', channels: ['evil'] } as never)).rejects.toMatchObject(
        { rule: 'trigger-options' },
      );
      await expect(pusher.trigger('a', 'ev', 1, { socket_id: '1.1' } as never)).rejects.toMatchObject({
        rule: 'trigger-options',
        message: expect.stringContaining('socketId'),
      });
      expect(transport.requests).toHaveLength(0);
    });

    it('rejects (never throws synchronously) with the server error', async () => {
      const transport = new FakeTransport(() => ({ status: 401, headers: {}, body: 'Invalid signature' }));
      const { pusher } = setup({ retry: false }, transport);
      const promise = pusher.trigger('a', 'ev', 1);
      await expect(promise).rejects.toBeInstanceOf(PusherRequestError);
      await expect(promise).rejects.toMatchObject({ status: 401 });
    });
  });

  describe('triggerBatch', () => {
    it('POSTs /batch_events with one channel per item, encrypting where needed', async () => {
      const transport = new FakeTransport(() => json(200, { batch: [{ user_count: 1 }, {}] }));
      const { pusher } = setup({ encryptionMasterKeyBase64: masterKeyBase64 }, transport);
      const events = [
        { channel: 'presence-a', name: 'e1', data: { n: 1 }, info: ['user_count'] as const, socketId: '1.1' },
        { channel: 'private-encrypted-b', name: 'e2', data: 'txt' },
      ];
      const snapshot = JSON.parse(JSON.stringify(events)) as unknown;
      await expect(pusher.triggerBatch(events)).resolves.toEqual({ batch: [{ user_count: 1 }, {}] });
      const request = transport.requests[0]!;
      expect(request.pathname).toBe('/apps/77/batch_events');
      const batch = bodyOf(request).batch as Array<Record<string, string>>;
      expect(batch[0]).toEqual({
        name: 'e1',
        data: '{"n":1}',
        channel: 'presence-a',
        socket_id: '1.1',
        info: 'user_count',
      });
      expect(JSON.parse(batch[1]!.data!)).toEqual({ nonce: expect.any(String), ciphertext: expect.any(String) });
      expect(events).toEqual(snapshot);
      expectSigned(request);
    });
  });

  describe('triggerBatch fields', () => {
    it('refuses an unknown item field (socket_id would otherwise be dropped and the sender get its own event)', async () => {
      const { pusher, transport } = setup();
      const item = { channel: 'a', name: 'e', data: 1, socket_id: '1.1' } as unknown as {
        channel: string;
        name: string;
        data: unknown;
      };
      await expect(pusher.triggerBatch([item])).rejects.toMatchObject({ rule: 'trigger-options', value: 'socket_id' });
      await expect(pusher.triggerBatch([item])).rejects.toThrow(/write socketId/);
      expect(transport.requests).toHaveLength(0);
    });
  });

  describe('close', () => {
    it.each([false, true])(
      'refuses a call made in the same tick as close() without sending it (batching %s)',
      async (batching) => {
        const { pusher, transport } = setup({ batching });
        const closing = pusher.close();
        await expect(pusher.trigger('a', 'e', 1)).rejects.toMatchObject({ code: 'ECLOSED' });
        await closing;
        expect(transport.requests).toHaveLength(0);
      },
    );

    it('still sends the batched triggers waiting when close() is called', async () => {
      const { pusher, transport } = setup({ batching: true });
      const waiting = pusher.trigger('a', 'e', 1);
      await pusher.close();
      await expect(waiting).resolves.toEqual({});
      expect(transport.requests.map((request) => request.pathname)).toEqual(['/apps/77/batch_events']);
    });
  });

  describe('users', () => {
    it('sendToUser triggers on #server-to-user-{id}', async () => {
      const { pusher, transport } = setup();
      await pusher.sendToUser('user-1', 'hello', { a: 1 });
      expect(bodyOf(transport.requests[0]!)).toEqual({
        name: 'hello',
        data: '{"a":1}',
        channels: ['#server-to-user-user-1'],
      });
    });

    it('terminateUserConnections POSTs {} to /users/{id}/terminate_connections', async () => {
      const { pusher, transport } = setup();
      await pusher.terminateUserConnections('u@x.com');
      expect(transport.requests[0]).toMatchObject({
        method: 'POST',
        pathname: '/apps/77/users/u@x.com/terminate_connections',
        body: '{}',
      });
      expectSigned(transport.requests[0]!);
    });
  });

  describe('queries', () => {
    it('channelsInfo GETs /channels with filter_by_prefix and info', async () => {
      const transport = new FakeTransport(() => json(200, { channels: { 'presence-x': { user_count: 2 } } }));
      const { pusher } = setup({}, transport);
      await expect(pusher.channelsInfo({ prefixFilter: 'presence-', attributes: ['user_count'] })).resolves.toEqual({
        channels: { 'presence-x': { user_count: 2 } },
      });
      await pusher.channelsInfo();
      expect(transport.requests[0]).toMatchObject({ method: 'GET', pathname: '/apps/77/channels', body: undefined });
      expect(transport.requests[0]!.query).toMatchObject({ filter_by_prefix: 'presence-', info: 'user_count' });
      expect(transport.requests[1]!.query.filter_by_prefix).toBeUndefined();
      transport.requests.forEach(expectSigned);
    });

    it('channelInfo GETs /channels/{channel} with info, keeping = @ , ; readable in the path', async () => {
      const transport = new FakeTransport(() => json(200, { occupied: true, subscription_count: 4 }));
      const { pusher } = setup({}, transport);
      await expect(pusher.channelInfo('a=b@c,d;e', ['subscription_count', 'cache'])).resolves.toEqual({
        occupied: true,
        subscription_count: 4,
      });
      expect(transport.requests[0]!.pathname).toBe('/apps/77/channels/a=b@c,d;e');
      expect(transport.requests[0]!.query.info).toBe('subscription_count,cache');
      expectSigned(transport.requests[0]!);
    });

    it('usersInfo GETs /channels/{channel}/users', async () => {
      const transport = new FakeTransport(() => json(200, { users: [{ id: '1' }] }));
      const { pusher } = setup({}, transport);
      await expect(pusher.usersInfo('presence-room')).resolves.toEqual({ users: [{ id: '1' }] });
      expect(transport.requests[0]!.pathname).toBe('/apps/77/channels/presence-room/users');
    });

    it('get and post sign any path, with params that cannot override protocol fields', async () => {
      const { pusher, transport } = setup();
      const params = Object.freeze({ extra: 'a b' });
      await pusher.get('/channels', params);
      await pusher.post('/events', { name: 'x', data: '1', channels: ['c'] }, { extra: 'v' });
      await pusher.post('/events', '{"raw":true}');
      expect(transport.requests[0]!.query.extra).toBe('a b');
      expect(transport.requests[1]!.body).toBe('{"name":"x","data":"1","channels":["c"]}');
      expect(transport.requests[2]!.body).toBe('{"raw":true}');
      transport.requests.forEach(expectSigned);
      await expect(pusher.get('/channels', { auth_timestamp: '1' })).rejects.toMatchObject({
        rule: 'query-param-reserved',
      });
      await expect(pusher.post('/events', {}, { BODY_MD5: 'x' })).rejects.toMatchObject({
        rule: 'query-param-reserved',
      });
      await expect(pusher.get('channels')).rejects.toMatchObject({ rule: 'api-path' });
      await expect(pusher.get('/channels?x=1')).rejects.toMatchObject({ rule: 'api-path' });
      expect(transport.requests).toHaveLength(3);
    });
  });

  describe('auth', () => {
    it('authorizeChannel and authenticateUser answer with the app key and shared_secret', () => {
      const { pusher } = setup({ encryptionMasterKeyBase64: masterKeyBase64 });
      const privateAuth = pusher.authorizeChannel('1.2', 'private-a');
      expect(privateAuth.auth).toBe('app-key:' + createHmac('sha256', SECRET).update('1.2:private-a').digest('hex'));
      const presence = pusher.authorizeChannel('1.2', 'presence-a', { user_id: '9', user_info: { n: 1 } });
      expect(presence.channel_data).toBe('{"user_id":"9","user_info":{"n":1}}');
      expect(presence.auth).toBe(
        'app-key:' +
          createHmac('sha256', SECRET)
            .update('1.2:presence-a:' + presence.channel_data)
            .digest('hex'),
      );
      const encrypted = pusher.authorizeChannel('1.2', 'private-encrypted-a');
      expect(encrypted.shared_secret).toBe(
        Buffer.from(deriveChannelKey('private-encrypted-a', parseMasterKey(masterKeyBase64))).toString('base64'),
      );
      const user = pusher.authenticateUser('1.2', { id: 'u1', watchlist: ['u2'] });
      expect(user).toEqual({
        auth:
          'app-key:' + createHmac('sha256', SECRET).update('1.2::user::{"id":"u1","watchlist":["u2"]}').digest('hex'),
        user_data: '{"id":"u1","watchlist":["u2"]}',
      });
    });
  });

  describe('webhooks', () => {
    const body = '{"time_ms":1403175510755,"events":[{"channel":"test_channel","name":"channel_vacated"}]}';
    const signature = createHmac('sha256', SECRET).update(body).digest('hex');

    it('refuses an old webhook by default (freshness window on), accepts it with webhookMaxAgeMs: false', () => {
      expect(setup().pusher.validateWebhook({ key: 'app-key', signature, body })).toBeNull();
      let reason: string | undefined;
      try {
        setup().pusher.verifyWebhook({ key: 'app-key', signature, body });
      } catch (error) {
        reason = (error as PusherWebhookError).reason;
      }
      expect(reason).toBe('stale');
      expect(
        setup({ webhookMaxAgeMs: false }).pusher.validateWebhook({ key: 'app-key', signature, body }),
      ).not.toBeNull();
    });

    it('accepts webhooks signed with additionalKeys', () => {
      const { pusher } = setup({
        webhookMaxAgeMs: false,
        additionalKeys: [{ key: 'next-key', secret: 'next-secret' }],
      });
      const nextSignature = createHmac('sha256', 'next-secret').update(body).digest('hex');
      expect(pusher.validateWebhook({ key: 'next-key', signature: nextSignature, body })?.time_ms).toBe(1403175510755);
      expect(
        setup({ webhookMaxAgeMs: false }).pusher.validateWebhook({ key: 'next-key', signature: nextSignature, body }),
      ).toBeNull();
    });

    it('validateWebhook returns the payload, or null when not authentic', () => {
      const { pusher } = setup({ webhookMaxAgeMs: false });
      expect(pusher.validateWebhook({ key: 'app-key', signature, body })?.events).toEqual([
        { channel: 'test_channel', name: 'channel_vacated' },
      ]);
      const flipped = signature.slice(0, -1) + (signature.endsWith('0') ? '1' : '0');
      expect(pusher.validateWebhook({ key: 'app-key', signature: flipped, body })).toBeNull();
      expect(pusher.validateWebhook({ key: 'other', signature, body })).toBeNull();
    });

    it('verifyWebhook throws PusherWebhookError with a reason; webhookMaxAgeMs applies', () => {
      const { pusher } = setup({ webhookMaxAgeMs: 60000 });
      expect(() => pusher.verifyWebhook({ key: 'app-key', signature: undefined, body })).toThrow(PusherWebhookError);
      let reason: string | undefined;
      try {
        pusher.verifyWebhook({ key: 'app-key', signature, body });
      } catch (error) {
        reason = (error as PusherWebhookError).reason;
      }
      expect(reason).toBe('stale');
    });
  });

  describe('construction and lifecycle', () => {
    it('fromUrl reads key, secret, host, port, scheme and appId; overrides apply', async () => {
      const transport = new FakeTransport();
      const pusher = Pusher.fromUrl('http://k1:s1@127.0.0.1:6001/apps/app-9', { transport, timeout: 5000 });
      expect(pusher.appId).toBe('app-9');
      expect(pusher.key).toBe('k1');
      await pusher.trigger('c', 'e', 1);
      expect(transport.requests[0]).toMatchObject({ origin: 'http://127.0.0.1:6001', pathname: '/apps/app-9/events' });
      expect(transport.requests[0]!.query.auth_signature).toBe(
        createHmac('sha256', 's1')
          .update(
            `POST\n/apps/app-9/events\nauth_key=k1&auth_timestamp=${transport.requests[0]!.query.auth_timestamp}&auth_version=1.0&body_md5=${transport.requests[0]!.query.body_md5}`,
          )
          .digest('hex'),
      );
    });

    it('fromUrl ignores overrides left undefined', async () => {
      const transport = new FakeTransport();
      const pusher = Pusher.fromUrl('https://k1:s1@example.test/apps/5', {
        transport,
        host: undefined,
        port: undefined,
      });
      await pusher.channelsInfo();
      expect(transport.requests[0]!.origin).toBe('https://example.test');
    });

    it('throws PusherConfigurationError synchronously for bad options', () => {
      expect(() => new Pusher({ appId: '1', key: 'k', secret: '' })).toThrow(PusherConfigurationError);
      expect(() => Pusher.fromUrl('https://nope')).toThrow(PusherConfigurationError);
    });

    it('never reveals the secret through inspect, JSON, String or own properties', () => {
      const { pusher } = setup({ encryptionMasterKeyBase64: masterKeyBase64 });
      const views = [
        inspect(pusher, { depth: 10, showHidden: true }),
        JSON.stringify(pusher),
        String(pusher),
        JSON.stringify(
          Object.getOwnPropertyNames(pusher).map((name) => [
            name,
            String((pusher as unknown as Record<string, unknown>)[name]),
          ]),
        ),
      ];
      for (const view of views) {
        expect(view).not.toContain(SECRET);
        expect(view).not.toContain(masterKeyBase64);
      }
      expect(JSON.parse(JSON.stringify(pusher))).toEqual({
        appId: '77',
        key: 'app-key',
        origin: 'https://api.pusherapp.com',
      });
      expect(inspect(pusher)).toContain('app-key');
    });

    it('close() closes the transport once, is safe twice, and later calls reject', async () => {
      const { pusher, transport } = setup();
      await pusher.close();
      await pusher.close();
      expect(transport.closed).toBe(1);
      await expect(pusher.trigger('a', 'b', 1)).rejects.toMatchObject({ code: 'ECLOSED' });
    });
  });
});
