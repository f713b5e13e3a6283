import { describe, expect, it } from '@jest/globals';
import { Pusher } from '../../../lib/core/pusher.js';
import { PusherValidationError } from '../../../lib/core/pusher.errors.js';
import type { BatchEvent, PresenceData, UserData } from '../../../lib/core/pusher.types.js';
import { FakeTransport } from './fake-transport.js';

/** Every rule of the protocol page's "Limits" table (and the API's own preconditions), one case each. */
type Call = (pusher: Pusher) => unknown;

const longName = (length: number) => 'c'.repeat(length);
const channels = (count: number) => Array.from({ length: count }, (_, i) => `ch-${i}`);
const batch = (count: number): BatchEvent[] =>
  Array.from({ length: count }, (_, i) => ({ channel: `ch-${i}`, name: 'ev', data: i }));

const asyncCases: Array<[string, Call, string, (number | string)?]> = [
  ['channel name empty', (p) => p.trigger('', 'ev', 1), 'channel-name-required'],
  ['channel name not a string', (p) => p.trigger([42 as unknown as string], 'ev', 1), 'channel-name-required'],
  ['channel name over 200 characters', (p) => p.trigger(longName(201), 'ev', 1), 'channel-name-length', 200],
  ['channel name with a space', (p) => p.trigger('bad name', 'ev', 1), 'channel-name-charset'],
  ['channel name with a slash', (p) => p.trigger('a/b', 'ev', 1), 'channel-name-charset'],
  ['channel name with # outside #server-to-user-', (p) => p.trigger('room#1', 'ev', 1), 'channel-name-hash'],
  ['channel name with a second #', (p) => p.trigger('#server-to-user-a#b', 'ev', 1), 'channel-name-hash'],
  ['no channels', (p) => p.trigger([], 'ev', 1), 'channels-required'],
  ['channels not a list', (p) => p.trigger(7 as unknown as string, 'ev', 1), 'channels-required'],
  ['101 channels', (p) => p.trigger(channels(101), 'ev', 1), 'channels-count', 100],
  [
    'encrypted channel with another channel',
    (p) => p.trigger(['private-encrypted-a', 'b'], 'ev', 1),
    'encrypted-channel-alone',
  ],
  [
    'encrypted channel without a master key',
    (p) => p.trigger('private-encrypted-a', 'ev', 1),
    'encryption-master-key-required',
  ],
  ['empty batch', (p) => p.triggerBatch([]), 'batch-required'],
  ['batch of 11', (p) => p.triggerBatch(batch(11)), 'batch-size', 10],
  [
    'batch item with a bad channel',
    (p) => p.triggerBatch([{ channel: 'a b', name: 'ev', data: 1 }]),
    'channel-name-charset',
  ],
  [
    'batch item with a bad socket id',
    (p) => p.triggerBatch([{ channel: 'a', name: 'ev', data: 1, socketId: '1.1:' }]),
    'socket-id',
  ],
  ['event name empty', (p) => p.trigger('a', '', 1), 'event-name-required'],
  ['event name over 200 characters', (p) => p.trigger('a', 'e'.repeat(201), 1), 'event-name-length', 200],
  [
    'event name of 201 emoji (characters, not UTF-16 units)',
    (p) => p.trigger('a', '😀'.repeat(201), 1),
    'event-name-length',
    200,
  ],
  [
    'socket id over 41 characters (60 KB)',
    (p) => p.trigger('a', 'ev', 1, { socketId: `${'1'.repeat(30_000)}.${'2'.repeat(30_000)}` }),
    'socket-id-length',
    41,
  ],
  [
    'socket id with 21 digits on one side',
    (p) => p.trigger('a', 'ev', 1, { socketId: `${'1'.repeat(21)}.1` }),
    'socket-id',
  ],
  [
    'batch item with an overlong socket id',
    (p) => p.triggerBatch([{ channel: 'a', name: 'ev', data: 1, socketId: `1.${'2'.repeat(60)}` }]),
    'socket-id-length',
    41,
  ],
  ['event name in the pusher: namespace', (p) => p.trigger('a', 'pusher:subscribe', 1), 'event-name-reserved'],
  [
    'event name in the pusher_internal: namespace',
    (p) => p.trigger('a', 'pusher_internal:member_added', 1),
    'event-name-reserved',
  ],
  ['data over 10240 bytes', (p) => p.trigger('a', 'ev', 'x'.repeat(10241)), 'payload-size', 10240],
  ['data over the limit only in UTF-8 bytes', (p) => p.trigger('a', 'ev', 'é'.repeat(5121)), 'payload-size', 10240],
  [
    'data over the limit once JSON-encoded',
    (p) => p.trigger('a', 'ev', { s: 'x'.repeat(10235) }),
    'payload-size',
    10240,
  ],
  ['data without a JSON encoding', (p) => p.trigger('a', 'ev', undefined), 'data-serializable'],
  [
    'data with a cycle',
    (p) => {
      const o: Record<string, unknown> = {};
      o.self = o;
      return p.trigger('a', 'ev', o);
    },
    'data-serializable',
  ],
  ['socket id with a trailing colon', (p) => p.trigger('a', 'ev', 1, { socketId: '1.1:' }), 'socket-id'],
  ['socket id with a leading colon', (p) => p.trigger('a', 'ev', 1, { socketId: ':1.1' }), 'socket-id'],
  ['socket id with a newline', (p) => p.trigger('a', 'ev', 1, { socketId: '1.1\n:' }), 'socket-id'],
  [
    'trigger info attribute unknown',
    (p) => p.trigger('a', 'ev', 1, { info: ['cache' as 'user_count'] }),
    'info-attribute',
  ],
  ['sendToUser with an empty user id', (p) => p.sendToUser('', 'ev', 1), 'user-id-required'],
  [
    'sendToUser with a user id over 128 characters',
    (p) => p.sendToUser('u'.repeat(129), 'ev', 1),
    'user-id-length',
    128,
  ],
  ['sendToUser with a user id outside the charset', (p) => p.sendToUser('a|b', 'ev', 1), 'user-id-charset'],
  ['sendToUser with a reserved event name', (p) => p.sendToUser('u1', 'pusher:x', 1), 'event-name-reserved'],
  ['terminateUserConnections with a path in the user id', (p) => p.terminateUserConnections('../x'), 'user-id-charset'],
  [
    'channelsInfo user_count without a prefix filter',
    (p) => p.channelsInfo({ attributes: ['user_count'] }),
    'info-user-count-presence',
  ],
  [
    'channelsInfo user_count with a non-presence prefix',
    (p) => p.channelsInfo({ prefixFilter: 'private-', attributes: ['user_count'] }),
    'info-user-count-presence',
  ],
  [
    'channelsInfo unknown attribute',
    (p) => p.channelsInfo({ prefixFilter: 'presence-', attributes: ['subscription_count' as 'user_count'] }),
    'info-attribute',
  ],
  ['channelsInfo prefix filter outside the charset', (p) => p.channelsInfo({ prefixFilter: 'a&b' }), 'prefix-filter'],
  [
    'channelInfo user_count on a non-presence channel',
    (p) => p.channelInfo('private-a', ['user_count']),
    'info-user-count-presence',
  ],
  ['channelInfo unknown attribute', (p) => p.channelInfo('a', ['members' as 'cache']), 'info-attribute'],
  ['channelInfo bad channel', (p) => p.channelInfo('a?b'), 'channel-name-charset'],
  ['usersInfo on a non-presence channel', (p) => p.usersInfo('private-a'), 'presence-channel-required'],
  ['get with a reserved param', (p) => p.get('/channels', { auth_key: 'x' }), 'query-param-reserved'],
  [
    'post with a reserved param in another case',
    (p) => p.post('/events', {}, { Body_Md5: 'x' }),
    'query-param-reserved',
  ],
  ['get with a non-string param', (p) => p.get('/channels', { n: 1 as unknown as string }), 'query-params'],
  ['get with a relative path', (p) => p.get('channels'), 'api-path'],
];

const syncCases: Array<[string, Call, string, (number | string)?]> = [
  ['authorizeChannel forged socket id', (p) => p.authorizeChannel('1.1:presence-a', 'private-a'), 'socket-id'],
  [
    'authorizeChannel socket id of 60 KB',
    (p) => p.authorizeChannel(`${'9'.repeat(60_000)}.1`, 'private-a'),
    'socket-id-length',
    41,
  ],
  [
    'authenticateUser socket id of 42 characters',
    (p) => p.authenticateUser(`${'1'.repeat(20)}.${'2'.repeat(21)}`, { id: 'a' }),
    'socket-id-length',
    41,
  ],
  ['authorizeChannel public channel', (p) => p.authorizeChannel('1.1', 'public-a'), 'auth-channel-type'],
  ['authorizeChannel bad channel name', (p) => p.authorizeChannel('1.1', 'private-a b'), 'channel-name-charset'],
  ['authorizeChannel presence without data', (p) => p.authorizeChannel('1.1', 'presence-a'), 'presence-data-required'],
  [
    'authorizeChannel presence user id empty',
    (p) => p.authorizeChannel('1.1', 'presence-a', { user_id: '' } as PresenceData),
    'presence-user-id-required',
  ],
  [
    'authorizeChannel presence user id over 128',
    (p) => p.authorizeChannel('1.1', 'presence-a', { user_id: 'u'.repeat(129) }),
    'presence-user-id-length',
    128,
  ],
  ['authenticateUser without id', (p) => p.authenticateUser('1.1', {} as UserData), 'user-id-required'],
  [
    'authenticateUser watchlist over 100',
    (p) => p.authenticateUser('1.1', { id: 'a', watchlist: channels(101) }),
    'watchlist-size',
    100,
  ],
  ['authenticateUser forged socket id', (p) => p.authenticateUser('1.1\n', { id: 'a' }), 'socket-id'],
];

function asCases(rows: Array<[string, Call, string, (number | string)?]>) {
  return rows.map(([label, call, rule, limit]) => ({ label, call, rule, limit }));
}

function setup() {
  const transport = new FakeTransport();
  const pusher = new Pusher({ appId: '1', key: 'k', secret: 's', transport });
  return { pusher, transport };
}

describe('validation: async methods reject before sending', () => {
  // Object rows: jest hands a `done` callback to a test function with more parameters than the row has values.
  it.each(asCases(asyncCases))('$label → $rule', async ({ call, rule, limit }) => {
    const { pusher, transport } = setup();
    let result: unknown;
    expect(() => {
      result = call(pusher);
    }).not.toThrow();
    expect(result).toBeInstanceOf(Promise);
    const error = await (result as Promise<unknown>).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(PusherValidationError);
    expect((error as PusherValidationError).rule).toBe(rule);
    if (limit !== undefined) expect((error as PusherValidationError).limit).toBe(limit);
    expect((error as Error).message.length).toBeGreaterThan(20);
    expect(transport.requests).toHaveLength(0);
  });
});

describe('validation: auth helpers throw synchronously', () => {
  it.each(asCases(syncCases))('$label → $rule', ({ call, rule, limit }) => {
    const { pusher } = setup();
    let error: unknown;
    try {
      call(pusher);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PusherValidationError);
    expect((error as PusherValidationError).rule).toBe(rule);
    if (limit !== undefined) expect((error as PusherValidationError).limit).toBe(limit);
  });
});

describe('validation: the limits themselves are allowed', () => {
  it('accepts 200-character channels, 100 channels, 10-event batches, 200-character events and 10240-byte data', async () => {
    const { pusher, transport } = setup();
    await pusher.trigger(longName(200), 'e'.repeat(200), 'x'.repeat(10240));
    await pusher.trigger(channels(100), 'ev', 1);
    await pusher.triggerBatch(batch(10));
    await pusher.trigger('#server-to-user-abc', 'ev', 1);
    await pusher.trigger('a-Z_0=9@,.;', 'pusherlike:ok', 1);
    // 200 characters of 2 UTF-16 units each: the limit counts characters, as Pusher's docs state it.
    await pusher.trigger('a', '😀'.repeat(200), 1);
    // The longest socket id: two 20-digit numbers (any unsigned 64-bit integer).
    await pusher.trigger('a', 'ev', 1, { socketId: '18446744073709551615.18446744073709551615' });
    expect(transport.requests).toHaveLength(7);
  });

  it('counts a presence user_id in characters like every other name: 128 emoji pass, 129 do not', () => {
    const { pusher } = setup();
    const answer = pusher.authorizeChannel('1.1', 'presence-a', { user_id: '😀'.repeat(128) });
    expect(JSON.parse(answer.channel_data!)).toEqual({ user_id: '😀'.repeat(128) });
    expect(() => pusher.authorizeChannel('1.1', 'presence-a', { user_id: '😀'.repeat(129) })).toThrow(
      'is 129 characters long',
    );
  });

  it('honours a raised maxPayloadBytes', async () => {
    const transport = new FakeTransport();
    const pusher = new Pusher({ appId: '1', key: 'k', secret: 's', transport, maxPayloadBytes: 100 * 1024 });
    await pusher.trigger('a', 'ev', 'x'.repeat(50 * 1024));
    expect(transport.requests).toHaveLength(1);
  });

  it('counts the encrypted payload against the limit', async () => {
    const transport = new FakeTransport();
    const pusher = new Pusher({
      appId: '1',
      key: 'k',
      secret: 's',
      transport,
      encryptionMasterKeyBase64: Buffer.alloc(32, 1).toString('base64'),
    });
    // 8000 bytes of plaintext become > 10240 once sealed and base64-encoded.
    await expect(pusher.trigger('private-encrypted-a', 'ev', 'x'.repeat(8000))).rejects.toMatchObject({
      rule: 'payload-size',
    });
    expect(transport.requests).toHaveLength(0);
  });
});
