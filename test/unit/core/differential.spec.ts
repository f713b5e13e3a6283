import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import OfficialPusher from 'pusher';
import { ChannelEncryption, parseMasterKey } from '../../../lib/core/encryption.js';
import { Pusher } from '../../../lib/core/pusher.js';
import type { PresenceData, UserData } from '../../../lib/core/pusher.types.js';
import { DEFAULT_MAX_PRESENCE_DATA_BYTES } from '../../../lib/core/rules.js';
import { signRequestQuery } from '../../../lib/core/signing.js';
import { FakeTransport } from './fake-transport.js';

/**
 * Differential tests: for many generated valid inputs, our signatures equal those of the official `pusher` package
 * (5.3.4) under the same fixed clock. The official client is only called, never copied.
 */

const appId = '4242';
const key = 'differential-key';
const secret = 'differential-secret-0123456789';
const masterKeyBase64 = Buffer.alloc(32, 0x5a).toString('base64');
const official = new OfficialPusher({ appId, key, secret, cluster: 'mt1', encryptionMasterKeyBase64: masterKeyBase64 });
const ours = new Pusher({
  appId,
  key,
  secret,
  encryptionMasterKeyBase64: masterKeyBase64,
  transport: new FakeTransport(),
});

const RUNS = 300;
const CHANNEL_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-=@,.;'.split('');

const nameChars = (min: number, max: number) =>
  fc.array(fc.constantFrom(...CHANNEL_CHARS), { minLength: min, maxLength: max }).map((chars) => chars.join(''));
// Up to 20 digits each, the bound the core allows (any unsigned 64-bit integer).
const socketId = fc
  .tuple(fc.bigInt({ min: 0n, max: 10n ** 20n - 1n }), fc.bigInt({ min: 0n, max: 10n ** 20n - 1n }))
  .map(([a, b]) => `${a}.${b}`);
const privateChannel = fc
  .tuple(fc.constantFrom('private-', 'private-encrypted-'), nameChars(1, 150))
  .map(([p, n]) => p + n);
const presenceChannel = nameChars(1, 150).map((n) => 'presence-' + n);
const publicChannel = nameChars(1, 200).filter((n) => !n.startsWith('private-encrypted-'));
const userId = nameChars(1, 128);
const userInfo = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 });
// Member data over the presence limit is refused by design (validation.spec covers that); compare within it.
const presenceData: fc.Arbitrary<PresenceData> = fc
  .record({ user_id: userId, user_info: userInfo }, { requiredKeys: ['user_id'] })
  .filter((data) => Buffer.byteLength(JSON.stringify(data)) <= DEFAULT_MAX_PRESENCE_DATA_BYTES);
const userData: fc.Arbitrary<UserData> = fc.record(
  { id: userId, user_info: userInfo, watchlist: fc.array(userId, { maxLength: 100 }) },
  { requiredKeys: ['id'] },
);
// The official client computes seconds with `| 0`, which wraps at 2^31 s (January 2038); ours does not, so the
// comparison stays below that.
const timestampMs = fc.integer({ min: 1_000_000_000_000, max: 2_147_483_647_999 });

afterEach(() => {
  jest.restoreAllMocks();
});

afterAll(async () => {
  await ours.close();
});

describe('differential: channel authorization', () => {
  it('private and private-encrypted channels sign (and share secrets) exactly like the official client', () => {
    fc.assert(
      fc.property(socketId, privateChannel, (socket, channel) => {
        expect(ours.authorizeChannel(socket, channel)).toEqual(official.authorizeChannel(socket, channel));
      }),
      { numRuns: RUNS },
    );
  });

  it('presence channels sign the same channel_data exactly like the official client', () => {
    fc.assert(
      fc.property(socketId, presenceChannel, presenceData, (socket, channel, data) => {
        expect(ours.authorizeChannel(socket, channel, data)).toEqual(official.authorizeChannel(socket, channel, data));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('differential: user authentication', () => {
  it('signs socket_id::user::user_data exactly like the official client', () => {
    fc.assert(
      fc.property(socketId, userData, (socket, data) => {
        expect(ours.authenticateUser(socket, data)).toEqual(official.authenticateUser(socket, data));
      }),
      { numRuns: RUNS },
    );
  });
});

/** The official client signs with its own clock: pin it to `ms`, then read its auth_signature. */
function officialSignature(
  ms: number,
  request: { method: string; path: string; params?: Record<string, string>; body?: string },
): string {
  jest.spyOn(Date, 'now').mockReturnValue(ms);
  const query = official.createSignedQueryString(request);
  jest.restoreAllMocks();
  return query.slice(query.lastIndexOf('&auth_signature=') + '&auth_signature='.length);
}

describe('differential: request signatures', () => {
  const paramName = fc
    .stringMatching(/^[a-z][a-z0-9_]{0,15}$/)
    .filter((name) => !name.startsWith('auth_') && name !== 'body_md5');
  const params = fc.dictionary(paramName, fc.string({ maxLength: 40 }), { maxKeys: 5 });

  it('signRequestQuery equals the official createSignedQueryString for generated calls', () => {
    fc.assert(
      fc.property(
        timestampMs,
        fc.constantFrom<'GET' | 'POST'>('GET', 'POST'),
        fc.constantFrom(
          '/events',
          '/batch_events',
          '/channels',
          '/channels/presence-x/users',
          '/users/u1/terminate_connections',
        ),
        params,
        fc.json({ maxDepth: 3 }),
        (ms, method, sub, query, json) => {
          const path = `/apps/${appId}${sub}`;
          const body = method === 'POST' ? json : undefined;
          const ourQuery = signRequestQuery({
            key,
            secret,
            method,
            path,
            params: query,
            body,
            timestamp: Math.floor(ms / 1000),
          });
          const expected = officialSignature(ms, {
            method,
            path,
            params: query,
            ...(body === undefined ? {} : { body }),
          });
          expect(new URLSearchParams(ourQuery).get('auth_signature')).toBe(expected);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a whole trigger goes out signed as the official client would sign the same body at the same second', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(publicChannel, { minLength: 1, maxLength: 5 }),
        nameChars(1, 50).filter((n) => !n.startsWith('pusher')),
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.jsonValue({ maxDepth: 3 }).filter((v) => v !== null && JSON.stringify(v) !== undefined),
        ),
        fc.option(socketId, { nil: undefined }),
        async (channels, event, data, socket) => {
          const transport = new FakeTransport();
          const client = new Pusher({ appId, key, secret, transport });
          await client.trigger(channels, event, data, socket === undefined ? {} : { socketId: socket });
          await client.close();
          const request = transport.requests[0]!;
          const { auth_timestamp: seconds, auth_signature: signature, body_md5: bodyMd5 } = request.query;
          expect(signature).toBe(
            officialSignature(Number(seconds) * 1000, { method: 'POST', path: request.pathname, body: request.body! }),
          );
          expect(bodyMd5).toBeDefined();
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('differential: requests on the wire and encrypted payloads', () => {
  let server: Server;
  let received: Array<{ url: string; body: string; headers: IncomingMessage['headers'] }> = [];
  let port = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ url: request.url!, body: Buffer.concat(chunks).toString('utf8'), headers: request.headers });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('the official client and ours send the same trigger body and signature at the same second', async () => {
    const ms = 1_700_000_000_000;
    const theirs = new OfficialPusher({ appId, key, secret, host: '127.0.0.1', port: String(port), useTLS: false });
    received = [];
    jest.spyOn(Date, 'now').mockReturnValue(ms);
    await theirs.trigger(['a', 'presence-b'], 'ev', { n: [1, 'two'] }, { socket_id: '12.34', info: 'user_count' });
    const transport = new FakeTransport();
    const client = new Pusher({ appId, key, secret, transport });
    await client.trigger(['a', 'presence-b'], 'ev', { n: [1, 'two'] }, { socketId: '12.34', info: ['user_count'] });
    await client.close();
    jest.restoreAllMocks();
    const wire = received[0]!;
    const theirQuery = Object.fromEntries(new URLSearchParams(wire.url.slice(wire.url.indexOf('?') + 1)));
    expect(transport.requests[0]!.body).toBe(wire.body);
    expect(transport.requests[0]!.pathname).toBe(wire.url.slice(0, wire.url.indexOf('?')));
    expect(transport.requests[0]!.query).toEqual(theirQuery);
  });

  it('our decrypt opens what the official client encrypted; the official format matches ours', async () => {
    const theirs = new OfficialPusher({
      appId,
      key,
      secret,
      host: '127.0.0.1',
      port: String(port),
      useTLS: false,
      encryptionMasterKeyBase64: masterKeyBase64,
    });
    const encryption = new ChannelEncryption(parseMasterKey(masterKeyBase64));
    await fc.assert(
      fc.asyncProperty(nameChars(1, 100), fc.jsonValue({ maxDepth: 3 }), async (suffix, data) => {
        const channel = 'private-encrypted-' + suffix;
        received = [];
        await theirs.trigger(channel, 'ev', data);
        const sent = JSON.parse(received[0]!.body) as { data: string };
        const payload = JSON.parse(sent.data) as Record<string, string>;
        expect(Object.keys(payload).sort()).toEqual(['ciphertext', 'nonce']);
        expect(encryption.decrypt(channel, sent.data)).toBe(JSON.stringify(data));
        // Ours in the same format, opened by the same key derivation.
        const transport = new FakeTransport();
        const client = new Pusher({ appId, key, secret, transport, encryptionMasterKeyBase64: masterKeyBase64 });
        await client.trigger(channel, 'ev', data);
        await client.close();
        const ourData = (JSON.parse(transport.requests[0]!.body!) as { data: string }).data;
        expect(Object.keys(JSON.parse(ourData) as object).sort()).toEqual(['ciphertext', 'nonce']);
        expect(encryption.decrypt(channel, ourData)).toBe(JSON.stringify(data));
      }),
      { numRuns: 40 },
    );
  });
});
