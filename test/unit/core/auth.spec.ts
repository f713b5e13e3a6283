import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { authenticateUser, authorizeChannel, SIGNED_IN_USER } from '../../../lib/core/auth.js';
import { ChannelEncryption, deriveChannelKey, parseMasterKey } from '../../../lib/core/encryption.js';
import { PusherValidationError } from '../../../lib/core/pusher.errors.js';
import type { PresenceData } from '../../../lib/core/pusher.types.js';

const signer = { key: '278d425bdf160c739803', secret: '7ad3773142a6692b25b8' };

function ruleOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PusherValidationError);
    return (error as PusherValidationError).rule;
  }
  throw new Error('expected a PusherValidationError');
}

describe('authorizeChannel', () => {
  it('signs a private channel as the protocol page example', () => {
    expect(authorizeChannel(signer, '1234.1234', 'private-foobar')).toEqual({
      auth: '278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4',
    });
  });

  it('signs a presence channel with the exact channel_data string (docs example)', () => {
    // The docs' example uses a numeric user_id; the signature covers the exact JSON text.
    const presenceData = { user_id: 10, user_info: { name: 'Mr. Pusher' } } as unknown as PresenceData;
    expect(authorizeChannel(signer, '1234.1234', 'presence-foobar', presenceData)).toEqual({
      auth: '278d425bdf160c739803:afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c',
      channel_data: '{"user_id":10,"user_info":{"name":"Mr. Pusher"}}',
    });
  });

  it('adds shared_secret for a private-encrypted channel, outside the signature', () => {
    const masterKey = parseMasterKey(Buffer.alloc(32, 3).toString('base64'));
    const result = authorizeChannel(
      { ...signer, encryption: new ChannelEncryption(masterKey) },
      '1234.1234',
      'private-encrypted-foo',
    );
    const plain = authorizeChannel(signer, '1234.1234', 'private-foo');
    expect(result.shared_secret).toBe(
      Buffer.from(deriveChannelKey('private-encrypted-foo', masterKey)).toString('base64'),
    );
    expect(result.auth).not.toBe(plain.auth);
    expect(result.auth).toMatch(/^278d425bdf160c739803:[0-9a-f]{64}$/);
  });

  it('refuses an encrypted channel without a master key (rule encryption-master-key-required)', () => {
    expect(ruleOf(() => authorizeChannel(signer, '1.1', 'private-encrypted-foo'))).toBe(
      'encryption-master-key-required',
    );
  });

  it.each(['1.1:', ':1.1', '1.1\n:', '1.1\n', '1234', '1.1:presence-x', 'a.1', '', ' 1.1'])(
    'refuses the forged socket id %j before signing (rule socket-id)',
    (socketId) => {
      expect(ruleOf(() => authorizeChannel(signer, socketId, 'private-foobar'))).toBe('socket-id');
    },
  );

  it('refuses a public channel (rule auth-channel-type)', () => {
    expect(ruleOf(() => authorizeChannel(signer, '1.1', 'public-room'))).toBe('auth-channel-type');
  });

  it('refuses a presence channel without presence data (rule presence-data-required)', () => {
    expect(ruleOf(() => authorizeChannel(signer, '1.1', 'presence-room'))).toBe('presence-data-required');
  });

  it('refuses a presence user_id that is empty or over 128 characters, and signs any other string', () => {
    expect(ruleOf(() => authorizeChannel(signer, '1.1', 'presence-room', { user_id: '' }))).toBe(
      'presence-user-id-required',
    );
    expect(ruleOf(() => authorizeChannel(signer, '1.1', 'presence-room', { user_id: 'u'.repeat(129) }))).toBe(
      'presence-user-id-length',
    );
    // Presence ids never become channel names: characters outside the channel set are fine.
    for (const userId of ['é', 'a+b@x.com', 'Ada Lovelace', 'u'.repeat(128)]) {
      const answer = authorizeChannel(signer, '1.1', 'presence-room', { user_id: userId });
      expect(JSON.parse(answer.channel_data!)).toEqual({ user_id: userId });
    }
  });

  it('refuses member data over 1 KB as JSON by default, and over maxPresenceDataBytes when set', () => {
    const big = { user_id: '1', user_info: { bio: 'x'.repeat(20 * 1024) } };
    expect(ruleOf(() => authorizeChannel(signer, '1.1', 'presence-room', big))).toBe('presence-data-size');
    const justFits = {
      user_id: '1',
      user_info: { bio: 'x'.repeat(1024 - '{"user_id":"1","user_info":{"bio":""}}'.length) },
    };
    expect(authorizeChannel(signer, '1.1', 'presence-room', justFits).channel_data).toHaveLength(1024);
    const oneMore = { user_id: '1', user_info: { bio: justFits.user_info.bio + 'x' } };
    expect(ruleOf(() => authorizeChannel(signer, '1.1', 'presence-room', oneMore))).toBe('presence-data-size');
    expect(
      authorizeChannel({ ...signer, maxPresenceDataBytes: 64 * 1024 }, '1.1', 'presence-room', big).channel_data,
    ).toContain('"bio"');
  });

  it('takes only the SIGNED_IN_USER symbol, never its old string spelling, for a signed-in presence member', () => {
    expect(typeof SIGNED_IN_USER).toBe('symbol');
    expect(() => authorizeChannel(signer, '1.1', 'presence-room', 'signed-in-user' as never)).toThrow(
      PusherValidationError,
    );
  });

  it("signs a signed-in user's presence subscription without channel_data (socket_id:channel)", () => {
    const answer = authorizeChannel(signer, '1234.1234', 'presence-room', SIGNED_IN_USER);
    expect(answer).toEqual({
      auth: `${signer.key}:${createHmac('sha256', signer.secret).update('1234.1234:presence-room').digest('hex')}`,
    });
  });

  it('refuses a non-object user_info (rule presence-user-info)', () => {
    const data = { user_id: '1', user_info: 'x' } as unknown as PresenceData;
    expect(ruleOf(() => authorizeChannel(signer, '1.1', 'presence-room', data))).toBe('presence-user-info');
  });

  it('does not mutate presence data', () => {
    const data = Object.freeze({ user_id: '7', user_info: Object.freeze({ name: 'x' }) });
    authorizeChannel(signer, '1.1', 'presence-room', data);
    expect(data).toEqual({ user_id: '7', user_info: { name: 'x' } });
  });
});

describe('authenticateUser', () => {
  it('signs socket_id::user::user_data as the protocol page example', () => {
    expect(authenticateUser(signer, '1234.1234', { id: '12345' })).toEqual({
      auth: '278d425bdf160c739803:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba',
      user_data: '{"id":"12345"}',
    });
  });

  it('refuses a forged socket id (rule socket-id)', () => {
    expect(ruleOf(() => authenticateUser(signer, '1.1::user::', { id: '1' }))).toBe('socket-id');
  });

  it('refuses user data without a valid id', () => {
    expect(ruleOf(() => authenticateUser(signer, '1.1', null as unknown as { id: string }))).toBe('user-data-required');
    expect(ruleOf(() => authenticateUser(signer, '1.1', { id: '' }))).toBe('user-id-required');
    expect(ruleOf(() => authenticateUser(signer, '1.1', { id: 'x'.repeat(129) }))).toBe('user-id-length');
    expect(ruleOf(() => authenticateUser(signer, '1.1', { id: 'a#b' }))).toBe('user-id-charset');
  });

  it('refuses a watchlist over 100 ids (rule watchlist-size) and accepts exactly 100', () => {
    const ids = Array.from({ length: 101 }, (_, i) => `u${i}`);
    expect(ruleOf(() => authenticateUser(signer, '1.1', { id: '1', watchlist: ids }))).toBe('watchlist-size');
    expect(authenticateUser(signer, '1.1', { id: '1', watchlist: ids.slice(0, 100) }).user_data).toContain('"u99"');
  });

  it('refuses a watchlist that is not an array of user ids', () => {
    expect(ruleOf(() => authenticateUser(signer, '1.1', { id: '1', watchlist: 'u1' as unknown as string[] }))).toBe(
      'watchlist-type',
    );
    expect(ruleOf(() => authenticateUser(signer, '1.1', { id: '1', watchlist: [''] }))).toBe(
      'watchlist-user-id-required',
    );
  });

  it('refuses a non-object user_info (rule user-info)', () => {
    expect(
      ruleOf(() => authenticateUser(signer, '1.1', { id: '1', user_info: [] as unknown as Record<string, unknown> })),
    ).toBe('user-info');
  });
});
