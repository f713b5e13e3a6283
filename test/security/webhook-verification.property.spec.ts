/**
 * Issue 6, hostile input against the core: `Pusher.validateWebhook` / `verifyWebhook` never let through a body whose
 * signature is not the exact HMAC-SHA256 of the exact bytes under the app secret with the app key, never throw
 * anything but `PusherWebhookError`, refuse malformed bodies even when signed, and accept what Pusher really sends.
 * The oracle (test/support/hostile-webhooks.ts) is written from the protocol page, not from the implementation.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Pusher, PusherWebhookError, type PusherWebhookFailure, type PusherWebhookPayload } from 'nest-pusher/core';
import { CapturingLogger, errorText } from '../support/hostile-secrets.js';
import {
  HOSTILE_APP,
  hmacHex,
  isTypedPayload,
  keyVariantArb,
  mutatedWebhookArb,
  nastyStringArb,
  reserializedWebhookArb,
  signatureVariantArb,
  signedGarbageArb,
  signedWebhookArb,
  webhookBodyArb,
  webhookOracle,
  webhookPayloadArb,
  type WebhookCase,
} from '../support/hostile-webhooks.js';

const REASONS: readonly PusherWebhookFailure[] = [
  'missing-key',
  'unknown-key',
  'missing-signature',
  'invalid-signature',
  'malformed-body',
  'stale',
  'missing-raw-body',
];

/** The core's own logger option: whatever it logs while refusing hostile input is checked at the end. */
const coreLogger = new CapturingLogger();
// No freshness window: the oracle is about signatures and shapes (old time_ms values included); the window has its own specs.
const pusher = new Pusher({
  appId: HOSTILE_APP.appId,
  key: HOSTILE_APP.key,
  secret: HOSTILE_APP.secret,
  logger: coreLogger,
  webhookMaxAgeMs: false,
});

afterAll(async () => {
  await pusher.close();
});

/** How the body reaches the core: a Buffer, a Uint8Array view into a bigger buffer (offset!), or a string. */
type BodyForm = 'buffer' | 'view' | 'string';
const bodyFormArb = fc.constantFrom<BodyForm>('buffer', 'view', 'string');

function present(c: WebhookCase, form: BodyForm): { body: Buffer | Uint8Array | string; bytes: Buffer } {
  if (form === 'string') {
    const text = c.body.toString('utf8');
    return { body: text, bytes: Buffer.from(text, 'utf8') };
  }
  if (form === 'view') {
    // Garbage on both sides: a verifier that ignores byteOffset/byteLength signs the wrong bytes.
    const before = Buffer.from('{"time_ms":0,"events":[]}');
    const padded = Buffer.concat([before, c.body, Buffer.from('GARBAGE')]);
    return { body: new Uint8Array(padded.buffer, padded.byteOffset + before.length, c.body.length), bytes: c.body };
  }
  return { body: c.body, bytes: c.body };
}

/** The whole property for one case; throws (failing the property) with a description, never with a secret. */
function checkCase(c: WebhookCase, form: BodyForm): void {
  const { body, bytes } = present(c, form);
  const effective: WebhookCase = { ...c, body: bytes };
  const verdict = webhookOracle(effective);
  const rightMac = hmacHex(HOSTILE_APP.secret, bytes);
  const request = { key: c.key, signature: c.signature, body };

  let validated: unknown;
  try {
    validated = pusher.validateWebhook(request);
  } catch (error) {
    throw new Error(
      `validateWebhook threw (${(error as Error)?.name}: ${(error as Error)?.message?.slice(0, 200)}) for ${c.label}`,
    );
  }
  let verified: unknown;
  let failure: unknown;
  try {
    verified = pusher.verifyWebhook(request);
  } catch (error) {
    failure = error;
  }

  if (failure !== undefined) {
    if (!(failure instanceof PusherWebhookError)) {
      throw new Error(
        `verifyWebhook threw ${(failure as Error)?.name} (${(failure as Error)?.message?.slice(0, 200)}) for ${c.label}`,
      );
    }
    expect(REASONS).toContain(failure.reason);
    expect(validated).toBeNull();
    // Nothing a log could pick up from the error holds the secret or the MAC the sender should have sent
    // (unless the sender sent that text itself, e.g. a key header carrying the secret).
    const sent = `${String(c.key)} ${String(c.signature)}`;
    const text = errorText(failure);
    if (!sent.includes(HOSTILE_APP.secret)) expect(text.includes(HOSTILE_APP.secret)).toBe(false);
    if (!sent.toLowerCase().includes(rightMac)) expect(text.toLowerCase().includes(rightMac)).toBe(false);
  } else {
    // Rejected events hold what was sent, which may be nested deeper than a deep-equality walk can recurse.
    const comparable = (payload: unknown) => {
      const { rejectedEvents, ...rest } = payload as PusherWebhookPayload;
      return { ...rest, rejected: rejectedEvents?.map(({ index, reason }) => ({ index, reason })) };
    };
    expect(comparable(validated)).toEqual(comparable(verified));
  }

  if (verdict === 'reject') {
    if (validated !== null || failure === undefined) {
      throw new Error(`accepted a webhook it must refuse: ${c.label} (body ${bytes.length} bytes, form ${form})`);
    }
  } else if (verdict === 'accept') {
    if (validated === null) {
      throw new Error(
        `refused a correctly signed, documented webhook: ${c.label} (${(failure as PusherWebhookError).reason}, form ${form})`,
      );
    }
    expect(validated).toEqual(JSON.parse(bytes.toString('utf8')));
  }
  if (validated !== null) {
    expect(isTypedPayload(validated)).toBe(true);
  }
  // No prototype pollution from `__proto__` / `constructor` keys in signed bodies.
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(({} as Record<string, unknown>).events).toBeUndefined();
}

describe('core webhook verification under hostile input (fast-check)', () => {
  it('accepts the protocol page vector (control: the oracle and the library agree on a known answer)', () => {
    const vector = new Pusher({ appId: '1', key: '123456789', secret: 'tofu', webhookMaxAgeMs: false });
    const body = '{"time_ms":1403175510755,"events":[{"channel":"test_channel","name":"channel_vacated"}]}';
    expect(hmacHex('tofu', body)).toBe('c17257e92037cd7de407ebc1ed174ceb7b2e518db127f44411b9ffc4f5b28cc5');
    expect(
      vector.validateWebhook({
        key: '123456789',
        signature: 'c17257e92037cd7de407ebc1ed174ceb7b2e518db127f44411b9ffc4f5b28cc5',
        body,
      }),
    ).toEqual(JSON.parse(body));
    void vector.close();
  });

  it('returns the payload of every correctly signed, documented webhook (unicode, lone surrogates, NUL in data)', () => {
    fc.assert(
      fc.property(signedWebhookArb, bodyFormArb, (c, form) => {
        expect(webhookOracle(c)).toBe('accept');
        checkCase(c, form);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a signed body after any byte flip, insertion, deletion, append or truncation', () => {
    fc.assert(fc.property(mutatedWebhookArb, bodyFormArb, checkCase), { numRuns: 500 });
  });

  it('refuses the same JSON re-serialized (whitespace, key order, escapes, BOM) under the original signature', () => {
    fc.assert(fc.property(reserializedWebhookArb, bodyFormArb, checkCase), { numRuns: 300 });
  });

  it('refuses non-JSON and wrong-shape bodies even when they are signed correctly', () => {
    fc.assert(fc.property(signedGarbageArb, bodyFormArb, checkCase), { numRuns: 300 });
  });

  it('accepts only the exact MAC: wrong length, non-hex, truncated, padded, base64, arrays, empty, absent signatures', () => {
    fc.assert(
      fc.property(
        webhookBodyArb.chain((body) =>
          signatureVariantArb(hmacHex(HOSTILE_APP.secret, body)).map((v) => ({ body, ...v })),
        ),
        bodyFormArb,
        ({ body, label, signature }, form) =>
          checkCase({ label: `signature: ${label}`, body, key: HOSTILE_APP.key, signature }, form),
      ),
      { numRuns: 500 },
    );
  });

  it('refuses wrong, absent, empty and conflicting-array keys even with the right signature', () => {
    fc.assert(
      fc.property(webhookBodyArb, keyVariantArb, bodyFormArb, (body, { label, key }, form) =>
        checkCase({ label: `key: ${label}`, body, key, signature: hmacHex(HOSTILE_APP.secret, body) }, form),
      ),
      { numRuns: 400 },
    );
  });

  it('refuses a body signed with another secret, and random everything', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(webhookBodyArb, fc.string({ minLength: 1, maxLength: 40 })).map(([body, secret]) => ({
            label: 'signed with another secret',
            body,
            key: HOSTILE_APP.key,
            signature: hmacHex(secret === HOSTILE_APP.secret ? `${secret}x` : secret, body),
          })),
          fc.record({
            label: fc.constant('random everything'),
            body: fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
            key: fc.oneof(fc.constant(HOSTILE_APP.key), nastyStringArb, fc.constant(undefined)),
            signature: fc.oneof(
              fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: 64, maxLength: 64 }),
              nastyStringArb,
            ),
          }),
        ),
        bodyFormArb,
        checkCase,
      ),
      { numRuns: 400 },
    );
  });

  it('handles multi-megabyte bodies: signed → payload, one byte changed → refused, signed non-JSON → refused', () => {
    fc.assert(
      fc.property(
        webhookPayloadArb,
        // Whole megabytes: 1, the middle and 6 are enough sizes for a check that reads every byte once.
        fc.constantFrom(1, 3, 6),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (payload, megabytes, at, bit) => {
          const big = {
            ...payload,
            events: [
              {
                name: 'client_event',
                channel: 'private-big',
                event: 'client-big',
                data: 'x'.repeat(megabytes << 20),
                socket_id: '1.1',
              },
              ...payload.events,
            ],
          };
          const body = Buffer.from(JSON.stringify(big), 'utf8');
          const good = hmacHex(HOSTILE_APP.secret, body);
          checkCase({ label: `${megabytes} MB signed`, body, key: HOSTILE_APP.key, signature: good }, 'buffer');
          const flipped = Buffer.from(body);
          flipped[at % body.length] = (flipped[at % body.length] as number) ^ (1 << bit);
          checkCase(
            { label: `${megabytes} MB one bit flipped`, body: flipped, key: HOSTILE_APP.key, signature: good },
            'buffer',
          );
          const junk = Buffer.alloc(megabytes << 20, 0x7b); // "{{{{…": not JSON
          checkCase(
            {
              label: `${megabytes} MB of "{" signed`,
              body: junk,
              key: HOSTILE_APP.key,
              signature: hmacHex(HOSTILE_APP.secret, junk),
            },
            'buffer',
          );
        },
      ),
      { numRuns: 3 },
    );
  });

  it('logged nothing holding the secret or a signature (64 hex digits) through the core logger', () => {
    expect(
      coreLogger.lines.filter((line) => line.includes(HOSTILE_APP.secret) || /[0-9a-f]{64}/i.test(line)).length,
    ).toBe(0);
  });
});
