import { createHash, randomBytes } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { PusherConfigurationError, PusherValidationError } from './pusher.errors.js';
import { describeValue } from './validation.js';

/** The length of `encryptionMasterKeyBase64` once decoded (XSalsa20-Poly1305 takes a 32-byte key). */
export const MASTER_KEY_BYTES = 32;
/** How to make a master key, as every message about a missing or bad one says it. */
export const MASTER_KEY_HOW_TO = `${MASTER_KEY_BYTES} random bytes as base64, e.g. openssl rand -base64 ${MASTER_KEY_BYTES}`;
const NONCE_BYTES = 24;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Enough for the channels of a busy app; a bound keeps memory flat when channel names are unbounded (per-user channels). */
const DEFAULT_KEY_CACHE_SIZE = 1000;

/**
 * Decodes `encryptionMasterKeyBase64`: strict base64 of exactly {@link MASTER_KEY_BYTES} bytes.
 * @throws PusherConfigurationError (option `encryptionMasterKeyBase64`); the message never contains the key.
 */
export function parseMasterKey(base64: unknown): Uint8Array {
  const howTo = `Generate one (${MASTER_KEY_HOW_TO}) and pass it as encryptionMasterKeyBase64.`;
  if (typeof base64 !== 'string') {
    throw new PusherConfigurationError(
      `encryptionMasterKeyBase64 must be a base64 string, got ${base64 === null ? 'null' : typeof base64}. ${howTo}`,
      'encryptionMasterKeyBase64',
    );
  }
  const trimmed = base64.trim();
  if (trimmed.length === 0 || !STRICT_BASE64.test(trimmed)) {
    throw new PusherConfigurationError(
      `encryptionMasterKeyBase64 is not valid base64 (${trimmed.length} characters). ${howTo}`,
      'encryptionMasterKeyBase64',
    );
  }
  const bytes = Buffer.from(trimmed, 'base64');
  if (bytes.length !== MASTER_KEY_BYTES) {
    throw new PusherConfigurationError(
      `encryptionMasterKeyBase64 decodes to ${bytes.length} bytes; it must be exactly ${MASTER_KEY_BYTES}. ${howTo}`,
      'encryptionMasterKeyBase64',
    );
  }
  return new Uint8Array(bytes);
}

/** The refusal to trigger on, or authorize, an encrypted channel when no master key is configured. */
export function masterKeyRequiredError(channel: string): PusherValidationError {
  return new PusherValidationError({
    message: `Channel ${describeValue(channel)} is end-to-end encrypted but no encryptionMasterKeyBase64 is configured; set one (${MASTER_KEY_HOW_TO}).`,
    rule: 'encryption-master-key-required',
    value: channel,
  });
}

/** Per-channel key: SHA-256(channel name bytes ‖ master key bytes). */
export function deriveChannelKey(channel: string, masterKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(channel, 'utf8').update(masterKey).digest());
}

/** The `{nonce, ciphertext}` JSON that travels as `data` on `private-encrypted-` channels. */
export interface EncryptedPayload {
  nonce: string;
  ciphertext: string;
}

/**
 * End-to-end encryption for `private-encrypted-` channels with one master key. Per-channel keys are cached in a
 * bounded least-recently-used map because the same channels repeat on every trigger and auth.
 */
export class ChannelEncryption {
  readonly #masterKey: Uint8Array;
  readonly #keys = new Map<string, Uint8Array>();
  readonly #maxCachedKeys: number;

  constructor(masterKey: Uint8Array, maxCachedKeys = DEFAULT_KEY_CACHE_SIZE) {
    if (masterKey.length !== MASTER_KEY_BYTES) {
      throw new PusherConfigurationError(
        `The encryption master key must be ${MASTER_KEY_BYTES} bytes, got ${masterKey.length}.`,
        'encryptionMasterKeyBase64',
      );
    }
    this.#masterKey = Uint8Array.from(masterKey);
    this.#maxCachedKeys = Math.max(1, maxCachedKeys);
  }

  /** The channel's 32-byte key (cached). */
  channelKey(channel: string): Uint8Array {
    const cached = this.#keys.get(channel);
    if (cached !== undefined) {
      // Re-insert so the map's insertion order tracks recency.
      this.#keys.delete(channel);
      this.#keys.set(channel, cached);
      return cached;
    }
    const key = deriveChannelKey(channel, this.#masterKey);
    if (this.#keys.size >= this.#maxCachedKeys) {
      const oldest = this.#keys.keys().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
    this.#keys.set(channel, key);
    return key;
  }

  /** Base64 channel key: the `shared_secret` of a channel's auth response. */
  sharedSecret(channel: string): string {
    return Buffer.from(this.channelKey(channel)).toString('base64');
  }

  /** Number of cached channel keys (for tests and diagnostics). */
  get cachedKeys(): number {
    return this.#keys.size;
  }

  /** Encrypts `plaintext` (the serialized event data) for `channel`; returns the JSON `{"nonce","ciphertext"}` string. */
  encrypt(channel: string, plaintext: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const sealed = xsalsa20poly1305(this.channelKey(channel), asBytes(nonce)).encrypt(
      asBytes(Buffer.from(plaintext, 'utf8')),
    );
    return JSON.stringify({
      nonce: nonce.toString('base64'),
      ciphertext: Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength).toString('base64'),
    });
  }

  /**
   * Decrypts a `{"nonce","ciphertext"}` JSON string sent on `channel` and returns the plaintext.
   * @throws PusherValidationError (`encrypted-payload`) when the payload is malformed or fails authentication.
   */
  decrypt(channel: string, payload: string): string {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      throw new PusherValidationError({
        message: `Encrypted data on ${JSON.stringify(channel)} is not JSON {"nonce","ciphertext"}.`,
        rule: 'encrypted-payload',
      });
    }
    const { nonce, ciphertext } = (parsed ?? {}) as Partial<Record<keyof EncryptedPayload, unknown>>;
    if (
      typeof nonce !== 'string' ||
      typeof ciphertext !== 'string' ||
      !STRICT_BASE64.test(nonce) ||
      !STRICT_BASE64.test(ciphertext)
    ) {
      throw new PusherValidationError({
        message: `Encrypted data on ${JSON.stringify(channel)} needs base64 "nonce" and "ciphertext" fields.`,
        rule: 'encrypted-payload',
      });
    }
    const nonceBytes = Buffer.from(nonce, 'base64');
    if (nonceBytes.length !== NONCE_BYTES) {
      throw new PusherValidationError({
        message: `Encrypted data on ${JSON.stringify(channel)} has a ${nonceBytes.length}-byte nonce; XSalsa20 needs ${NONCE_BYTES}.`,
        rule: 'encrypted-payload',
        value: nonceBytes.length,
        limit: NONCE_BYTES,
      });
    }
    let opened: Uint8Array;
    try {
      opened = xsalsa20poly1305(this.channelKey(channel), asBytes(nonceBytes)).decrypt(
        asBytes(Buffer.from(ciphertext, 'base64')),
      );
    } catch {
      throw new PusherValidationError({
        message: `Encrypted data on ${JSON.stringify(channel)} failed authentication: it was not sealed with this channel's key (check encryptionMasterKeyBase64).`,
        rule: 'encrypted-payload',
      });
    }
    return Buffer.from(opened.buffer, opened.byteOffset, opened.byteLength).toString('utf8');
  }
}

/** A plain Uint8Array view (no copy) of a Buffer: some realms (jest's vm) reject Buffer where a Uint8Array is checked. */
function asBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
