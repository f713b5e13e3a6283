/**
 * Issue 6, hostile input against the core's signing of auth answers: `Pusher.authorizeChannel` and
 * `Pusher.authenticateUser` refuse every socket id that is not `^\d+\.\d+$` (ASCII digits) and every channel name
 * outside the protocol's character set and length with `PusherValidationError`, before anything is signed; valid
 * input gets the exact signature of the protocol's string to sign.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Pusher, PusherValidationError } from 'nest-pusher/core';
import {
  authorizableChannelArb,
  CHANNEL_INJECTIONS,
  hostileChannelArb,
  hostileSocketIdArb,
  isValidChannelName,
  isValidSocketId,
  SOCKET_ID_INJECTIONS,
  validSocketIdArb,
} from '../support/hostile-auth.js';
import { CapturingLogger, errorText } from '../support/hostile-secrets.js';
import { HOSTILE_APP, hmacHex, nastyStringArb } from '../support/hostile-webhooks.js';

/** The core's own logger option: whatever it logs while refusing hostile input is checked at the end. */
const coreLogger = new CapturingLogger();
const pusher = new Pusher({
  appId: HOSTILE_APP.appId,
  key: HOSTILE_APP.key,
  secret: HOSTILE_APP.secret,
  logger: coreLogger,
});

afterAll(async () => {
  await pusher.close();
});

const member = { user_id: 'member-1', user_info: { name: 'M' } };

/** Runs `sign`; returns the answer, or the PusherValidationError. Anything else fails the property. */
function attempt<T>(what: string, sign: () => T): { ok: true; value: T } | { ok: false; error: PusherValidationError } {
  let value: T;
  try {
    value = sign();
  } catch (error) {
    if (error instanceof PusherValidationError) return { ok: false, error };
    throw new Error(`${what} threw ${(error as Error)?.name}: ${(error as Error)?.message?.slice(0, 200)}`);
  }
  if (value instanceof Promise) throw new Error(`${what} returned a promise; the contract is synchronous`);
  return { ok: true, value };
}

/** The refusal carries neither the secret nor the signature the input would have produced. */
function expectNoLeak(error: PusherValidationError, wouldBeSigned: string): void {
  const text = errorText(error);
  expect(text.includes(HOSTILE_APP.secret)).toBe(false);
  expect(text.includes(hmacHex(HOSTILE_APP.secret, wouldBeSigned))).toBe(false);
}

/** Every way of signing something for `socketId` (private, presence, user sign-in): all must be refused. */
function expectAllRefused(socketId: string, channel: string): void {
  const signings: Array<[string, () => unknown, string]> = [
    [
      `authorizeChannel(${JSON.stringify(socketId.slice(0, 80))}, private)`,
      () => pusher.authorizeChannel(socketId, 'private-room'),
      `${socketId}:private-room`,
    ],
    [
      `authorizeChannel(…, ${JSON.stringify(channel.slice(0, 80))})`,
      () => pusher.authorizeChannel(socketId, channel, member),
      `${socketId}:${channel}`,
    ],
    [
      `authorizeChannel(…, presence)`,
      () => pusher.authorizeChannel(socketId, 'presence-room', member),
      `${socketId}:presence-room:${JSON.stringify(member)}`,
    ],
    [
      `authenticateUser(${JSON.stringify(socketId.slice(0, 80))})`,
      () => pusher.authenticateUser(socketId, { id: 'user-1' }),
      `${socketId}::user::{"id":"user-1"}`,
    ],
  ];
  for (const [what, sign, signed] of signings) {
    const outcome = attempt(what, sign);
    if (outcome.ok) throw new Error(`${what} signed a hostile socket id`);
    expectNoLeak(outcome.error, signed);
  }
}

describe('core auth signing under hostile socket ids and channel names (fast-check)', () => {
  it('signs the protocol page vectors (control)', () => {
    const docs = new Pusher({ appId: '1', key: '278d425bdf160c739803', secret: '7ad3773142a6692b25b8' });
    expect(docs.authorizeChannel('1234.1234', 'private-foobar').auth).toBe(
      '278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4',
    );
    expect(docs.authenticateUser('1234.1234', { id: '12345' }).auth).toBe(
      '278d425bdf160c739803:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba',
    );
    void docs.close();
  });

  it('refuses every hand-picked socket_id injection (incl. 1.1:presence-room:{"user_id":"admin"}, ١.١, １.１, 1.1\\n)', () => {
    for (const socketId of SOCKET_ID_INJECTIONS) {
      expect(isValidSocketId(socketId)).toBe(false);
      expectAllRefused(socketId, 'private-room');
    }
  });

  it('refuses every generated non-^\\d+\\.\\d+$ socket id, for private, presence and user sign-in alike', () => {
    // 500 runs draw each branch of the generator (the rarest has weight 1 of 14) about 35 times; every run inspects
    // four refusals that may hold 100 kB values, so more runs would crowd the timeout on a busy machine.
    fc.assert(
      fc.property(hostileSocketIdArb, authorizableChannelArb, (socketId, channel) =>
        expectAllRefused(socketId, channel),
      ),
      { numRuns: 500 },
    );
  });

  it('on arbitrary strings: signs exactly when the socket id matches the rule, with the exact signature', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          validSocketIdArb,
          hostileSocketIdArb,
          fc.string({ unit: fc.constantFrom('0', '5', '9', '.'), maxLength: 12 }),
          nastyStringArb,
        ),
        authorizableChannelArb,
        (socketId, channel) => {
          const presence = channel.startsWith('presence-');
          const outcome = attempt('authorizeChannel', () =>
            pusher.authorizeChannel(socketId, channel, presence ? member : undefined),
          );
          if (!isValidSocketId(socketId)) {
            expect(outcome.ok).toBe(false);
            return;
          }
          if (!outcome.ok)
            throw new Error(`refused a valid socket id ${JSON.stringify(socketId)}: ${outcome.error.rule}`);
          const signed = presence ? `${socketId}:${channel}:${outcome.value.channel_data}` : `${socketId}:${channel}`;
          expect(outcome.value.auth).toBe(`${HOSTILE_APP.key}:${hmacHex(HOSTILE_APP.secret, signed)}`);
          if (presence) expect(JSON.parse(outcome.value.channel_data as string)).toEqual(member);

          const user = attempt('authenticateUser', () => pusher.authenticateUser(socketId, { id: 'user-1' }));
          if (!user.ok) throw new Error(`authenticateUser refused a valid socket id: ${user.error.rule}`);
          expect(user.value.auth).toBe(
            `${HOSTILE_APP.key}:${hmacHex(HOSTILE_APP.secret, `${socketId}::user::${user.value.user_data}`)}`,
          );
          expect(JSON.parse(user.value.user_data)).toEqual({ id: 'user-1' });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('accepts very long all-digit socket ids only as the rule says (signed exactly, or refused with PusherValidationError)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 21, max: 100_000 }), fc.integer({ min: 1, max: 100_000 }), (a, b) => {
        const socketId = `${'9'.repeat(a)}.${'1'.repeat(b)}`;
        const outcome = attempt('authorizeChannel', () => pusher.authorizeChannel(socketId, 'private-room'));
        if (outcome.ok) {
          expect(outcome.value.auth).toBe(
            `${HOSTILE_APP.key}:${hmacHex(HOSTILE_APP.secret, `${socketId}:private-room`)}`,
          );
        }
      }),
      { numRuns: 30 },
    );
  });

  it('refuses channel-name injection (":", newline, "#", non-ASCII, over 200 characters) with a valid socket id', () => {
    for (const channel of CHANNEL_INJECTIONS) expect(isValidChannelName(channel)).toBe(false);
    fc.assert(
      fc.property(
        validSocketIdArb,
        fc.oneof(fc.constantFrom(...CHANNEL_INJECTIONS), hostileChannelArb),
        (socketId, channel) => {
          for (const presenceData of [undefined, member]) {
            const outcome = attempt(`authorizeChannel(…, ${JSON.stringify(channel.slice(0, 80))})`, () =>
              pusher.authorizeChannel(socketId, channel, presenceData),
            );
            if (outcome.ok) throw new Error(`signed hostile channel name ${JSON.stringify(channel.slice(0, 80))}`);
            expectNoLeak(outcome.error, `${socketId}:${channel}`);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses hostile user ids in sign-in data, and when it signs, signs exactly the user_data it returns', () => {
    fc.assert(
      fc.property(
        validSocketIdArb,
        fc.oneof(nastyStringArb, fc.constantFrom('admin","id":"root', 'a:b', 'a\nb', '', 'x'.repeat(129))),
        (socketId, id) => {
          const outcome = attempt('authenticateUser', () => pusher.authenticateUser(socketId, { id }));
          if (!isValidChannelName(id) || id.length > 128) {
            expect(outcome.ok).toBe(false);
            return;
          }
          if (!outcome.ok) throw new Error(`refused a valid user id ${JSON.stringify(id)}: ${outcome.error.rule}`);
          expect(outcome.value.auth).toBe(
            `${HOSTILE_APP.key}:${hmacHex(HOSTILE_APP.secret, `${socketId}::user::${outcome.value.user_data}`)}`,
          );
          expect(JSON.parse(outcome.value.user_data)).toEqual({ id });
        },
      ),
      { numRuns: 400 },
    );
  });

  it('logged nothing holding the secret or a signature (64 hex digits) through the core logger', () => {
    expect(
      coreLogger.lines.filter((line) => line.includes(HOSTILE_APP.secret) || /[0-9a-f]{64}/i.test(line)).length,
    ).toBe(0);
  });
});
