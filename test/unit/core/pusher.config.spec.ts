import { describe, expect, it } from '@jest/globals';
import { parsePusherUrl, resolvePusherConfig } from '../../../lib/core/pusher.config.js';
import { PusherConfigurationError } from '../../../lib/core/pusher.errors.js';
import { inspect } from 'node:util';
import { Pusher } from '../../../lib/core/pusher.js';
import type { PusherOptions, RetryOptions } from '../../../lib/core/pusher.options.js';

const base: PusherOptions = { appId: '3', key: 'app-key', secret: 'very-secret-value' };

function configErrorOf(run: () => unknown): PusherConfigurationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PusherConfigurationError);
    return error as PusherConfigurationError;
  }
  throw new Error('expected a PusherConfigurationError');
}

describe('resolvePusherConfig', () => {
  it('applies the defaults: api.pusherapp.com over TLS, timeout 10000, maxPayloadBytes 10240, no batching', () => {
    const config = resolvePusherConfig(base);
    expect(config).toMatchObject({
      appId: '3',
      key: 'app-key',
      host: 'api.pusherapp.com',
      useTLS: true,
      origin: 'https://api.pusherapp.com',
      timeout: 10000,
      maxPayloadBytes: 10240,
      batching: false,
      encryptionMasterKey: undefined,
    });
  });

  it('maps a cluster to api-{cluster}.pusher.com, and an explicit host wins', () => {
    expect(resolvePusherConfig({ ...base, cluster: 'eu' }).origin).toBe('https://api-eu.pusher.com');
    expect(resolvePusherConfig({ ...base, cluster: 'eu', host: 'example.test' }).origin).toBe('https://example.test');
  });

  it('builds the origin from useTLS and a non-default port', () => {
    expect(resolvePusherConfig({ ...base, host: '127.0.0.1', port: 6001, useTLS: false }).origin).toBe(
      'http://127.0.0.1:6001',
    );
    expect(resolvePusherConfig({ ...base, host: 'h.test', port: 443 }).origin).toBe('https://h.test');
    expect(resolvePusherConfig({ ...base, host: 'h.test', port: 80, useTLS: false }).origin).toBe('http://h.test');
    expect(resolvePusherConfig({ ...base, host: '[::1]', port: 6001, useTLS: false }).origin).toBe('http://[::1]:6001');
  });

  it('accepts a numeric appId and resolves batching', () => {
    expect(resolvePusherConfig({ ...base, appId: 42 as unknown as string }).appId).toBe('42');
    expect(resolvePusherConfig({ ...base, batching: true }).batching).toEqual({ maxBatchSize: 10 });
    expect(resolvePusherConfig({ ...base, batching: { maxBatchSize: 4 } }).batching).toEqual({ maxBatchSize: 4 });
    expect(resolvePusherConfig({ ...base, batching: {} }).batching).toEqual({ maxBatchSize: 10 });
  });

  it('decodes the encryption master key', () => {
    const config = resolvePusherConfig({ ...base, encryptionMasterKeyBase64: Buffer.alloc(32, 1).toString('base64') });
    expect(config.encryptionMasterKey).toHaveLength(32);
  });

  it.each<[string, Partial<Record<keyof PusherOptions, unknown>>, string]>([
    ['a missing appId', { appId: undefined }, 'appId'],
    ['an appId with a slash', { appId: '3/../4' }, 'appId'],
    ['a missing key', { key: undefined }, 'key'],
    ['an empty key', { key: '  ' }, 'key'],
    ['a missing secret', { secret: undefined }, 'secret'],
    ['a host with a scheme', { host: 'https://api.pusherapp.com' }, 'host'],
    ['a host with a path', { host: 'api.pusherapp.com/apps' }, 'host'],
    ['a host with a port', { host: 'localhost:6001' }, 'host'],
    ['a bad cluster', { cluster: 'eu/1' }, 'cluster'],
    ['port 0', { port: 0 }, 'port'],
    ['port 70000', { port: 70000 }, 'port'],
    ['a string port', { port: '6001' }, 'port'],
    ['timeout 0', { timeout: 0 }, 'timeout'],
    ['a negative timeout', { timeout: -5 }, 'timeout'],
    ['maxPayloadBytes 0', { maxPayloadBytes: 0 }, 'maxPayloadBytes'],
    ['a fractional maxPayloadBytes', { maxPayloadBytes: 10.5 }, 'maxPayloadBytes'],
    ['maxConnections 0', { maxConnections: 0 }, 'maxConnections'],
    ['useTLS as a string', { useTLS: 'yes' }, 'useTLS'],
    ['a proxy that is not a URL', { proxy: 'nope' }, 'proxy'],
    ['a socks proxy', { proxy: 'socks5://127.0.0.1:1080' }, 'proxy'],
    ['batching of 11', { batching: { maxBatchSize: 11 } }, 'batching.maxBatchSize'],
    ['batching of 0', { batching: { maxBatchSize: 0 } }, 'batching.maxBatchSize'],
    ['a transport without request()', { transport: {} }, 'transport'],
    ['a bad master key', { encryptionMasterKeyBase64: 'short' }, 'encryptionMasterKeyBase64'],
    ['webhookMaxAgeMs 0', { webhookMaxAgeMs: 0 }, 'webhookMaxAgeMs'],
    ['webhookMaxAgeMs true', { webhookMaxAgeMs: true }, 'webhookMaxAgeMs'],
    ['a negative webhookClockSkewMs', { webhookClockSkewMs: -1 }, 'webhookClockSkewMs'],
    ['additionalKeys that is not an array', { additionalKeys: { key: 'k', secret: 's' } }, 'additionalKeys'],
    ['an additional key with ":"', { additionalKeys: [{ key: 'a:b', secret: 's' }] }, 'additionalKeys[0].key'],
    ['an additional key without a secret', { additionalKeys: [{ key: 'k2', secret: '' }] }, 'additionalKeys[0].secret'],
    ['maxPresenceDataBytes 0', { maxPresenceDataBytes: 0 }, 'maxPresenceDataBytes'],
  ])('refuses %s, naming the option', (_label, change, option) => {
    const error = configErrorOf(() => resolvePusherConfig({ ...base, ...change } as PusherOptions));
    expect(error.option).toBe(option);
    expect(error.message).not.toContain('very-secret-value');
  });

  it('checks every option once, retry numbers included, with the wording the transports share', () => {
    // The HTTP client and the retry loop take the resolved config as it is: this is the only check of these numbers.
    expect(configErrorOf(() => resolvePusherConfig({ ...base, retry: { attempts: 0 } }))).toMatchObject({
      option: 'retry',
      message: 'Pusher option "retry.attempts" must be an integer of at least 1 (1 disables retries), got 0.',
    });
    expect(
      configErrorOf(() => resolvePusherConfig({ ...base, retry: { minDelayMs: 50, maxDelayMs: 10 } })).option,
    ).toBe('retry');
    expect(resolvePusherConfig({ ...base, retry: false }).retry.attempts).toBe(1);
    expect(resolvePusherConfig(base).retry).toMatchObject({ attempts: 3, minDelayMs: 100, maxDelayMs: 2000 });
    for (const timeout of [0, -1, Number.NaN]) {
      expect(configErrorOf(() => resolvePusherConfig({ ...base, timeout })).message).toBe(
        `Pusher option "timeout" must be a positive number, got ${String(timeout)}.`,
      );
    }
    // The same checker and words as new UndiciTransport({ maxConnections: 0 }) (see transport.spec.ts).
    expect(configErrorOf(() => resolvePusherConfig({ ...base, maxConnections: 0 })).message).toBe(
      'Pusher option "maxConnections" must be a positive integer, got 0.',
    );
  });

  it('turns the webhook freshness window on by default (5 min + 1 min skew); false switches it off', () => {
    expect(resolvePusherConfig(base as PusherOptions)).toMatchObject({
      webhookMaxAgeMs: 300_000,
      webhookClockSkewMs: 60_000,
      maxPresenceDataBytes: 1024,
      additionalKeys: [],
    });
    expect(resolvePusherConfig({ ...base, webhookMaxAgeMs: false } as PusherOptions).webhookMaxAgeMs).toBeUndefined();
  });

  it('refuses options that are not an object', () => {
    expect(configErrorOf(() => resolvePusherConfig(undefined as unknown as PusherOptions)).option).toBe('options');
  });

  it('does not mutate the options', () => {
    const options = Object.freeze({ ...base, cluster: 'eu', batching: Object.freeze({ maxBatchSize: 3 }) });
    resolvePusherConfig(options);
    expect(options).toEqual({ ...base, cluster: 'eu', batching: { maxBatchSize: 3 } });
  });
});

describe('parsePusherUrl', () => {
  it('parses http(s)://KEY:SECRET@HOST[:PORT]/apps/APP_ID', () => {
    expect(parsePusherUrl('https://key:secret@api-eu.pusher.com/apps/123')).toEqual({
      appId: '123',
      key: 'key',
      secret: 'secret',
      host: 'api-eu.pusher.com',
      useTLS: true,
    });
    expect(parsePusherUrl('http://k:s@127.0.0.1:6001/apps/app-id/')).toEqual({
      appId: 'app-id',
      key: 'k',
      secret: 's',
      host: '127.0.0.1',
      port: 6001,
      useTLS: false,
    });
  });

  it('decodes percent-encoded credentials', () => {
    expect(parsePusherUrl('https://k:s%2Fx%40y@h.test/apps/1').secret).toBe('s/x@y');
  });

  it.each([
    ['not a URL', 'not a url with sup3rs3cret'],
    ['another scheme', 'ftp://k:sup3rs3cret@h.test/apps/1'],
    ['no credentials', 'https://h.test/apps/1'],
    ['no secret', 'https://k@h.test/apps/1'],
    ['no /apps path', 'https://k:sup3rs3cret@h.test/1'],
    ['a query string', 'https://k:sup3rs3cret@h.test/apps/1?x=1'],
    ['an empty string', ''],
  ])('refuses %s without showing the secret', (_label, url) => {
    const error = configErrorOf(() => parsePusherUrl(url));
    expect(error.option).toBe('url');
    expect(error.message).not.toContain('sup3rs3cret');
  });
});

describe('configuration errors never carry the secret (issue 11)', () => {
  const SECRET = 'Sup3rS3cretValue-do-not-leak';
  const PUSHER_URL = `https://app-key:${SECRET}@api-eu.pusher.com/apps/3`;
  const good: PusherOptions = { appId: '3', key: 'app-key', secret: SECRET };

  /** Message, stack, every own property (enumerable or not), its JSON and its inspection. */
  function everythingIn(error: PusherConfigurationError): string {
    const properties = Object.getOwnPropertyNames(error).map(
      (name) => `${name}=${String((error as unknown as Record<string, unknown>)[name])}`,
    );
    return [
      error.message,
      error.stack ?? '',
      String(error),
      JSON.stringify(error),
      inspect(error, { showHidden: true, depth: 4 }),
      ...properties,
    ].join('\n');
  }

  it.each<[string, Partial<Record<keyof PusherOptions, unknown>>, string]>([
    ['host set to the PUSHER_URL', { host: PUSHER_URL }, 'host'],
    ['host set to KEY:SECRET@host', { host: `app-key:${SECRET}@api-eu.pusher.com` }, 'host'],
    ['host set to the secret', { host: `${SECRET}/x` }, 'host'],
    ['cluster set to the PUSHER_URL', { cluster: PUSHER_URL }, 'cluster'],
    ['cluster set to the secret with a space', { cluster: `${SECRET} ` }, 'cluster'],
    ['appId set to the PUSHER_URL', { appId: PUSHER_URL }, 'appId'],
    ['appId set to key:secret', { appId: `app-key:${SECRET}` }, 'appId'],
    ['key set to "key:secret"', { key: `app-key:${SECRET}` }, 'key'],
    ['timeout given the secret', { timeout: SECRET }, 'timeout'],
    ['port given the secret', { port: SECRET }, 'port'],
    ['useTLS given the secret', { useTLS: SECRET }, 'useTLS'],
    ['maxPayloadBytes given the secret', { maxPayloadBytes: SECRET }, 'maxPayloadBytes'],
    ['maxConnections given the secret', { maxConnections: SECRET }, 'maxConnections'],
    ['webhookMaxAgeMs given the secret', { webhookMaxAgeMs: SECRET }, 'webhookMaxAgeMs'],
    ['retry given the secret', { retry: SECRET }, 'retry'],
    ['batching given the secret', { batching: SECRET }, 'batching'],
    ['batching.maxBatchSize given the secret', { batching: { maxBatchSize: SECRET } }, 'batching.maxBatchSize'],
  ])('%s: names the option, never shows the secret', (_label, change, option) => {
    const error = configErrorOf(() => resolvePusherConfig({ ...good, ...change } as PusherOptions));
    expect(error.option).toBe(option);
    expect(error.message).toContain(`"${option.split('.')[0]}`);
    expect(everythingIn(error)).not.toContain(SECRET);
  });

  it.each<[string, Partial<Record<keyof RetryOptions, unknown>>]>([
    ['retry.attempts', { attempts: SECRET }],
    ['retry.minDelayMs', { minDelayMs: SECRET }],
    ['retry.maxDelayMs', { maxDelayMs: SECRET }],
  ])('new Pusher() with %s given the secret: never shows it', (_label, retry) => {
    const error = configErrorOf(() => new Pusher({ ...good, retry: retry as RetryOptions }));
    expect(error.option).toBe('retry');
    expect(everythingIn(error)).not.toContain(SECRET);
  });

  const ADDITIONAL_SECRET = 'next-Secret-0f7e3-do-not-leak';
  it.each<[string, unknown]>([
    ['webhookClockSkewMs', ADDITIONAL_SECRET],
    ['webhookMaxAgeMs', ADDITIONAL_SECRET],
    ['timeout', ADDITIONAL_SECRET],
    ['port', ADDITIONAL_SECRET],
    ['host', `https://next-key:${ADDITIONAL_SECRET}@api-eu.pusher.com`],
    ['host', `${ADDITIONAL_SECRET}/x`],
    ['cluster', `${ADDITIONAL_SECRET} `],
    ['appId', `next-key:${ADDITIONAL_SECRET}`],
  ])('%s given an additionalKeys secret: shows neither it nor the main secret', (option, value) => {
    const options = { ...good, additionalKeys: [{ key: 'next-key', secret: ADDITIONAL_SECRET }], [option]: value };
    for (const run of [
      () => resolvePusherConfig(options as PusherOptions),
      () => new Pusher(options as PusherOptions),
    ]) {
      const error = configErrorOf(run);
      expect(error.option).toBe(option);
      expect(everythingIn(error)).not.toContain(ADDITIONAL_SECRET);
      expect(everythingIn(error)).not.toContain(SECRET);
    }
  });

  it('masks a credential-bearing value even when it holds another secret than options.secret', () => {
    // The secret of another app (or environment) is a secret all the same: URL userinfo is never shown.
    const error = configErrorOf(() => resolvePusherConfig({ ...good, secret: 'other', host: PUSHER_URL }));
    expect(everythingIn(error)).not.toContain(SECRET);
  });

  it.each([
    ['KEY@SECRET@host (an @ where the colon belongs)', `https://app-key@${SECRET}@api-eu.pusher.com/apps/1`],
    ['an invalid port', `https://app-key:${SECRET}@api-eu.pusher.com:99999/apps/1`],
    ['SECRET only', `https://${SECRET}@api-eu.pusher.com/apps/1`],
    ['the secret in the path', `https://app-key:${SECRET}@api-eu.pusher.com/${SECRET}/1`],
    ['a scheme other than http(s)', `ftp://app-key:${SECRET}@api-eu.pusher.com/apps/1`],
    ['a fragment', `https://app-key:${SECRET}@api-eu.pusher.com/apps/1#${SECRET}`],
    ['a query string', `https://app-key:${SECRET}@api-eu.pusher.com/apps/1?secret=${SECRET}`],
    [
      'percent-encoded credentials and a bad path',
      `https://app-key:${encodeURIComponent(SECRET + '@/')}@api-eu.pusher.com/nope`,
    ],
  ])('fromUrl / parsePusherUrl with %s: never shows the secret', (_label, url) => {
    for (const run of [() => parsePusherUrl(url), () => Pusher.fromUrl(url)]) {
      const error = configErrorOf(run);
      expect(error.option).toBe('url');
      expect(everythingIn(error)).not.toContain(SECRET);
    }
  });
});
