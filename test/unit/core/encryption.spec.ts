import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from '@jest/globals';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { ChannelEncryption, deriveChannelKey, parseMasterKey } from '../../../lib/core/encryption.js';
import { PusherConfigurationError, PusherValidationError } from '../../../lib/core/pusher.errors.js';

// tweetnacl is the official client's own dependency: an independent secretbox implementation to check ours against.
const requireFromPusher = createRequire(createRequire(import.meta.url).resolve('pusher'));
const nacl = requireFromPusher('tweetnacl') as {
  secretbox: ((m: Uint8Array, n: Uint8Array, k: Uint8Array) => Uint8Array) & {
    open(c: Uint8Array, n: Uint8Array, k: Uint8Array): Uint8Array | null;
  };
};

const masterKeyBase64 = Buffer.alloc(32, 7).toString('base64');

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('parseMasterKey', () => {
  it('decodes base64 of exactly 32 bytes', () => {
    expect(Buffer.from(parseMasterKey(masterKeyBase64))).toEqual(Buffer.alloc(32, 7));
  });

  it.each([
    ['not base64', 'this is not base64!'],
    ['base64 of 31 bytes', Buffer.alloc(31, 1).toString('base64')],
    ['base64 of 33 bytes', Buffer.alloc(33, 1).toString('base64')],
    ['empty', ''],
    ['base64url alphabet', Buffer.alloc(32, 0xfb).toString('base64url')],
  ])('rejects %s with a PusherConfigurationError naming the option and how to make a key', (_label, value) => {
    const error = catchError(() => parseMasterKey(value)) as PusherConfigurationError;
    expect(error).toBeInstanceOf(PusherConfigurationError);
    expect(error.option).toBe('encryptionMasterKeyBase64');
    expect(error.message).toContain('openssl rand -base64 32');
    if (value.length > 4) expect(error.message).not.toContain(value);
  });

  it('rejects a non-string', () => {
    expect(catchError(() => parseMasterKey(42))).toBeInstanceOf(PusherConfigurationError);
  });
});

describe('ChannelEncryption', () => {
  const masterKey = parseMasterKey(masterKeyBase64);
  const channel = 'private-encrypted-room';

  it('derives SHA-256(channel name ‖ master key) and exposes it as base64 shared_secret', () => {
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from(channel), Buffer.alloc(32, 7)]))
      .digest();
    expect(Buffer.from(deriveChannelKey(channel, masterKey))).toEqual(expected);
    expect(new ChannelEncryption(masterKey).sharedSecret(channel)).toBe(expected.toString('base64'));
  });

  it('encrypts to {"nonce","ciphertext"} that tweetnacl opens to the plaintext', () => {
    const encryption = new ChannelEncryption(masterKey);
    const plaintext = JSON.stringify({ message: 'héllo ✓' });
    const payload = JSON.parse(encryption.encrypt(channel, plaintext)) as { nonce: string; ciphertext: string };
    expect(Object.keys(payload).sort()).toEqual(['ciphertext', 'nonce']);
    const nonce = Buffer.from(payload.nonce, 'base64');
    expect(nonce).toHaveLength(24);
    const opened = nacl.secretbox.open(
      new Uint8Array(Buffer.from(payload.ciphertext, 'base64')),
      new Uint8Array(nonce),
      new Uint8Array(deriveChannelKey(channel, masterKey)),
    );
    expect(opened).not.toBeNull();
    expect(Buffer.from(opened!).toString('utf8')).toBe(plaintext);
  });

  it('decrypts what tweetnacl sealed, and round-trips its own output', () => {
    const encryption = new ChannelEncryption(masterKey);
    const nonce = new Uint8Array(randomBytes(24));
    const sealed = nacl.secretbox(
      new Uint8Array(Buffer.from('"client data"')),
      nonce,
      new Uint8Array(deriveChannelKey(channel, masterKey)),
    );
    const payload = JSON.stringify({
      nonce: Buffer.from(nonce).toString('base64'),
      ciphertext: Buffer.from(sealed).toString('base64'),
    });
    expect(encryption.decrypt(channel, payload)).toBe('"client data"');
    expect(encryption.decrypt(channel, encryption.encrypt(channel, 'round trip'))).toBe('round trip');
  });

  it('uses a fresh nonce each time', () => {
    const encryption = new ChannelEncryption(masterKey);
    const a = JSON.parse(encryption.encrypt(channel, 'x')) as { nonce: string };
    const b = JSON.parse(encryption.encrypt(channel, 'x')) as { nonce: string };
    expect(a.nonce).not.toBe(b.nonce);
  });

  it('agrees with noble used directly', () => {
    const encryption = new ChannelEncryption(masterKey);
    const payload = JSON.parse(encryption.encrypt(channel, 'noble')) as { nonce: string; ciphertext: string };
    const opened = xsalsa20poly1305(
      deriveChannelKey(channel, masterKey),
      new Uint8Array(Buffer.from(payload.nonce, 'base64')),
    ).decrypt(new Uint8Array(Buffer.from(payload.ciphertext, 'base64')));
    expect(Buffer.from(opened).toString()).toBe('noble');
  });

  it.each([
    ['not JSON', 'nope'],
    ['missing fields', '{"nonce":"AAAA"}'],
    [
      'a short nonce',
      JSON.stringify({ nonce: Buffer.alloc(8).toString('base64'), ciphertext: Buffer.alloc(32).toString('base64') }),
    ],
  ])('refuses %s with rule encrypted-payload', (_label, payload) => {
    const error = catchError(() => new ChannelEncryption(masterKey).decrypt(channel, payload)) as PusherValidationError;
    expect(error).toBeInstanceOf(PusherValidationError);
    expect(error.rule).toBe('encrypted-payload');
  });

  it('refuses ciphertext sealed for another channel (authentication fails)', () => {
    const encryption = new ChannelEncryption(masterKey);
    const other = encryption.encrypt('private-encrypted-other', 'secret');
    const error = catchError(() => encryption.decrypt(channel, other)) as PusherValidationError;
    expect(error.rule).toBe('encrypted-payload');
  });

  it('keeps the per-channel key cache bounded, evicting the least recently used', () => {
    const encryption = new ChannelEncryption(masterKey, 3);
    const first = encryption.channelKey('private-encrypted-1');
    encryption.channelKey('private-encrypted-2');
    encryption.channelKey('private-encrypted-1'); // now most recent
    encryption.channelKey('private-encrypted-3');
    encryption.channelKey('private-encrypted-4'); // evicts 2
    expect(encryption.cachedKeys).toBe(3);
    expect(encryption.channelKey('private-encrypted-1')).toBe(first);
    for (let i = 0; i < 50; i++) encryption.channelKey(`private-encrypted-x${i}`);
    expect(encryption.cachedKeys).toBe(3);
  });
});
