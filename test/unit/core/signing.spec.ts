import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { PusherValidationError } from '../../../lib/core/pusher.errors.js';
import fc from 'fast-check';
import {
  constantTimeEqualDigest,
  hmacSha256,
  hmacSha256Hex,
  md5Hex,
  outboundSignatureHex,
  signRequestQuery,
  verifySignatureHex,
} from '../../../lib/core/signing.js';
import { MIDSTATE_MAX_MESSAGE, MIDSTATE_MAX_VERIFIED_BODY } from '../../../lib/core/hmac-midstate.js';

const key = '278d425bdf160c739803';
const secret = '7ad3773142a6692b25b8';
const body = '{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}';

describe('signRequestQuery', () => {
  it('reproduces the protocol page worked example (body_md5 and auth_signature)', () => {
    const query = signRequestQuery({
      key,
      secret,
      method: 'POST',
      path: '/apps/3/events',
      body,
      timestamp: 1353088179,
    });
    expect(query).toBe(
      'auth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0' +
        '&body_md5=ec365a775a4cd0599faeb73354201b6f' +
        '&auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c',
    );
  });

  it('omits body_md5 without a body and signs METHOD\\nPATH\\nQUERY', () => {
    const query = signRequestQuery({ key, secret, method: 'GET', path: '/apps/3/channels', timestamp: 1353088179 });
    const params = new URLSearchParams(query);
    expect(params.has('body_md5')).toBe(false);
    const toSign = 'GET\n/apps/3/channels\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0';
    expect(params.get('auth_signature')).toBe(createHmac('sha256', secret).update(toSign).digest('hex'));
  });

  it('lower-cases and sorts param keys, signs values unescaped and URL-encodes them on the wire', () => {
    const params = { Info: 'user_count,subscription_count', filter_by_prefix: 'presence-a b&c' };
    const query = signRequestQuery({ key, secret, method: 'GET', path: '/apps/3/channels', params, timestamp: 1000 });
    const toSign =
      'GET\n/apps/3/channels\nauth_key=278d425bdf160c739803&auth_timestamp=1000&auth_version=1.0' +
      '&filter_by_prefix=presence-a b&c&info=user_count,subscription_count';
    const decoded = new URLSearchParams(query);
    expect(decoded.get('auth_signature')).toBe(createHmac('sha256', secret).update(toSign).digest('hex'));
    expect(decoded.get('filter_by_prefix')).toBe('presence-a b&c');
    expect(decoded.get('info')).toBe('user_count,subscription_count');
    expect(query).toContain('filter_by_prefix=presence-a%20b%26c');
    expect(query.indexOf('filter_by_prefix')).toBeLessThan(query.indexOf('info='));
    expect(query.endsWith('&auth_signature=' + decoded.get('auth_signature'))).toBe(true);
  });

  it('floors a fractional timestamp to whole seconds', () => {
    const query = signRequestQuery({ key, secret, method: 'GET', path: '/apps/3/channels', timestamp: 1000.9 });
    expect(new URLSearchParams(query).get('auth_timestamp')).toBe('1000');
  });

  it('URL-encodes an app key with reserved characters but signs it raw', () => {
    const odd = 'k/e y';
    const query = signRequestQuery({ key: odd, secret, method: 'GET', path: '/apps/3/channels', timestamp: 5 });
    expect(query.startsWith('auth_key=k%2Fe%20y&')).toBe(true);
    const toSign = 'GET\n/apps/3/channels\nauth_key=k/e y&auth_timestamp=5&auth_version=1.0';
    expect(new URLSearchParams(query).get('auth_signature')).toBe(hmacSha256Hex(secret, toSign));
  });

  it.each(['auth_key', 'AUTH_TIMESTAMP', 'auth_version', 'Auth_Signature', 'body_md5', 'BODY_MD5', 'auth_other'])(
    'rejects the protocol field %s in params (rule query-param-reserved)',
    (name) => {
      let caught: unknown;
      try {
        signRequestQuery({
          key,
          secret,
          method: 'GET',
          path: '/apps/3/channels',
          params: { [name]: 'x' },
          timestamp: 1,
        });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PusherValidationError);
      expect((caught as PusherValidationError).rule).toBe('query-param-reserved');
    },
  );

  it('rejects two params that differ only in case (rule query-param-duplicate)', () => {
    expect(() =>
      signRequestQuery({ key, secret, method: 'GET', path: '/p', params: { info: 'a', INFO: 'b' }, timestamp: 1 }),
    ).toThrow(expect.objectContaining({ rule: 'query-param-duplicate' }) as unknown as Error);
  });

  it('never mutates params', () => {
    const params = Object.freeze({ Info: 'user_count' });
    signRequestQuery({ key, secret, method: 'GET', path: '/p', params, timestamp: 1 });
    expect(params).toEqual({ Info: 'user_count' });
  });

  it('never puts the secret in the query', () => {
    const query = signRequestQuery({ key, secret, method: 'POST', path: '/apps/3/events', body, timestamp: 1 });
    expect(query).not.toContain(secret);
  });
});

describe('hashes and comparison', () => {
  it('md5Hex and hmacSha256Hex give lower-case hex', () => {
    expect(md5Hex(body)).toBe('ec365a775a4cd0599faeb73354201b6f');
    expect(md5Hex('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(
      hmacSha256Hex('tofu', '{"time_ms":1403175510755,"events":[{"channel":"test_channel","name":"channel_vacated"}]}'),
    ).toBe('c17257e92037cd7de407ebc1ed174ceb7b2e518db127f44411b9ffc4f5b28cc5');
  });

  it('constantTimeEqualDigest compares values, not letter case, and refuses other lengths and non-hex', () => {
    const digest = hmacSha256('s', 'x');
    const a = digest.toString('hex');
    expect(constantTimeEqualDigest(digest, a)).toBe(true);
    expect(constantTimeEqualDigest(digest, a.toUpperCase())).toBe(true);
    expect(constantTimeEqualDigest(digest, a.slice(0, -1) + (a.endsWith('0') ? '1' : '0'))).toBe(false);
    expect(constantTimeEqualDigest(digest, a.slice(0, -1))).toBe(false);
    expect(constantTimeEqualDigest(digest, a.slice(0, -2))).toBe(false);
    expect(constantTimeEqualDigest(digest, a + '00')).toBe(false);
    expect(constantTimeEqualDigest(digest, '')).toBe(false);
    // A character whose low byte equals a hex digit must not pass for it.
    expect(constantTimeEqualDigest(Buffer.from('aaaa', 'hex'), '\u0161'.repeat(4))).toBe(false);
    expect(constantTimeEqualDigest(digest, a.slice(0, -2) + 'zz')).toBe(false);
  });

  it('hmacSha256 (the path for long messages) equals node:crypto HMAC for any secret and message', () => {
    // Secrets longer than the 64-byte block are hashed first; unicode widens characters into several bytes.
    const secrets = fc.oneof(fc.string({ maxLength: 100 }), fc.string({ unit: 'grapheme', maxLength: 80 }));
    const messages = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.uint8Array({ maxLength: 300 }));
    fc.assert(
      fc.property(secrets, messages, (secretValue, message) => {
        const expected = createHmac('sha256', secretValue).update(message).digest('hex');
        expect(hmacSha256Hex(secretValue, message)).toBe(expected);
        expect(hmacSha256(secretValue, message).toString('hex')).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('outboundSignatureHex (SHA-256 midstates for short ASCII) equals node:crypto HMAC for any secret and message', () => {
    const secrets = fc.oneof(
      fc.string({ maxLength: 100 }),
      fc.string({ unit: 'grapheme', maxLength: 80 }),
      fc.constant(''),
    );
    // Every length around the block and padding boundaries, ASCII (the midstate path) and beyond (the fallback).
    const asciiMessages = fc.integer({ min: 0, max: MIDSTATE_MAX_MESSAGE + 20 }).chain((length) =>
      fc.string({
        unit: fc.integer({ min: 0, max: 0x7f }).map((code) => String.fromCharCode(code)),
        minLength: length,
        maxLength: length,
      }),
    );
    const messages = fc.oneof(
      asciiMessages,
      fc.string({ unit: 'grapheme', maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 100 }),
    );
    fc.assert(
      fc.property(secrets, messages, (secretValue, message) => {
        expect(outboundSignatureHex(secretValue, message)).toBe(
          createHmac('sha256', secretValue).update(message).digest('hex'),
        );
      }),
      { numRuns: 3000 },
    );
    for (let length = 0; length <= MIDSTATE_MAX_MESSAGE + 1; length++) {
      const message = 'a1:'.repeat(60).slice(0, length);
      expect(outboundSignatureHex(secret, message)).toBe(createHmac('sha256', secret).update(message).digest('hex'));
    }
  });

  it('verifySignatureHex accepts exactly the HMAC of the body (string or bytes, any length, any hex case)', () => {
    const secrets = fc.oneof(fc.string({ maxLength: 100 }), fc.string({ unit: 'grapheme', maxLength: 80 }));
    const bodies = fc.oneof(
      fc.integer({ min: 0, max: MIDSTATE_MAX_VERIFIED_BODY + 40 }).chain((length) =>
        fc.string({
          unit: fc.integer({ min: 0, max: 0x7f }).map((code) => String.fromCharCode(code)),
          minLength: length,
          maxLength: length,
        }),
      ),
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.uint8Array({ maxLength: MIDSTATE_MAX_VERIFIED_BODY + 40 }).map((bytes) => Buffer.from(bytes)),
    );
    fc.assert(
      fc.property(secrets, bodies, fc.nat(63), fc.boolean(), (secretValue, body, position, upper) => {
        const expected = createHmac('sha256', secretValue).update(body).digest('hex');
        expect(verifySignatureHex(secretValue, body, upper ? expected.toUpperCase() : expected)).toBe(true);
        const flipped =
          expected.slice(0, position) + (expected[position] === '0' ? '1' : '0') + expected.slice(position + 1);
        expect(verifySignatureHex(secretValue, body, flipped)).toBe(false);
        expect(verifySignatureHex(secretValue + 'x', body, expected)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
