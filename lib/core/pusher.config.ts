import { parseMasterKey } from './encryption.js';
import { checkNonNegativeNumber, checkPositiveNumber, checkProxyUrl } from './option-checks.js';
import { PusherConfigurationError } from './pusher.errors.js';
import { describeOptionValue, optionSecrets, redact } from './redaction.js';
import type { PusherLogger, PusherOptions } from './pusher.options.js';
import { resolveRetryPolicy, type RetryPolicy } from './retry.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_MAX_PRESENCE_DATA_BYTES, MAX_BATCH_SIZE } from './rules.js';
import type { HttpTransport } from './transport/http-transport.js';
import { DEFAULT_WEBHOOK_CLOCK_SKEW_MS, DEFAULT_WEBHOOK_MAX_AGE_MS } from './webhook.js';

export const DEFAULT_HOST = 'api.pusherapp.com';
export const DEFAULT_TIMEOUT_MS = 10000;
/**
 * Pooled keep-alive connections per API host. 64 connections carry 64 calls in flight at once; more sockets than the
 * load needs cost CPU and memory (undici reuses a freed socket only after a setImmediate, so it opens new ones
 * meanwhile), and a server far away still gets about 64 / RTT calls per second (about 2,000/s at 30 ms).
 */
export const DEFAULT_MAX_CONNECTIONS = 64;

/** {@link PusherOptions} checked and with every default applied. Holds the secret: keep it private. */
export interface ResolvedPusherConfig {
  appId: string;
  key: string;
  secret: string;
  host: string;
  port: number | undefined;
  useTLS: boolean;
  /** `http(s)://host[:port]`, no trailing slash. */
  origin: string;
  timeout: number;
  maxPayloadBytes: number;
  /** Decoded 32-byte master key, when configured. */
  encryptionMasterKey: Uint8Array | undefined;
  proxy: string | undefined;
  maxConnections: number;
  transport: HttpTransport | undefined;
  retry: RetryPolicy;
  /** `false` when batching is off. */
  batching: { maxBatchSize: number } | false;
  logger: PusherLogger | undefined;
  /** `undefined` when the window is off. */
  webhookMaxAgeMs: number | undefined;
  webhookClockSkewMs: number;
  additionalKeys: Array<{ key: string; secret: string }>;
  maxPresenceDataBytes: number;
}

/**
 * The secrets as given (`secret`, every `additionalKeys[].secret`), read before anything is checked: any option may hold it by mistake (a `PUSHER_URL` in `host`,
 * `"key:secret"` in `key`, the secret in `timeout`), so every message is masked against it.
 */
let knownSecrets: readonly string[] = [];

function configError(option: string, message: string): never {
  throw new PusherConfigurationError(redact(message, knownSecrets), option);
}

/** A value in a message: strings only for string options, and never one that could hold a credential. */
function shown(value: unknown, isStringOption = false): string {
  return describeOptionValue(value, knownSecrets, isStringOption);
}

function requireString(options: PusherOptions, option: 'appId' | 'key' | 'secret'): string {
  const value: unknown = options[option];
  // appId is numeric at Pusher and some callers hold it as a number.
  if (option === 'appId' && typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)
    return String(value);
  if (typeof value !== 'string' || value.trim().length === 0) {
    configError(
      option,
      `Pusher option "${option}" is ${value === undefined ? 'missing' : 'empty or not a string'}; copy it from your app's "App Keys" page (or PUSHER_URL).`,
    );
  }
  return value;
}

/**
 * Checks {@link PusherOptions} and applies defaults: host `api.pusherapp.com` (or `api-{cluster}.pusher.com`; an
 * explicit `host` wins), TLS on, timeout 10000 ms, maxPayloadBytes 10240.
 * @throws PusherConfigurationError naming the option at fault (never echoing the secret or the master key).
 */
export function resolvePusherConfig(options: PusherOptions): ResolvedPusherConfig {
  if (options === null || typeof options !== 'object') {
    throw new PusherConfigurationError('Pusher options must be an object { appId, key, secret, ... }.', 'options');
  }
  knownSecrets = optionSecrets(options);
  try {
    return resolveChecked(options);
  } finally {
    knownSecrets = [];
  }
}

function resolveChecked(options: PusherOptions): ResolvedPusherConfig {
  const appId = requireString(options, 'appId');
  if (!/^[A-Za-z0-9._~-]+$/.test(appId)) {
    configError(
      'appId',
      `Pusher option "appId" ${shown(appId, true)} may only contain letters, digits and . _ ~ - (it is a URL path segment).`,
    );
  }
  const key = requireString(options, 'key');
  if (key.includes(':')) {
    // Most likely "key:secret" pasted whole: never shown.
    configError(
      'key',
      `Pusher option "key" (${shown(key, true)}) contains ":", which separates the key from the signature in auth answers; pass the key alone (the part before ":") and the secret as "secret".`,
    );
  }
  const secret = requireString(options, 'secret');

  if (
    options.cluster !== undefined &&
    (typeof options.cluster !== 'string' || !/^[a-z0-9-]+$/i.test(options.cluster))
  ) {
    configError(
      'cluster',
      `Pusher option "cluster" must be a cluster name such as "eu" or "us2", got ${shown(options.cluster, true)}.`,
    );
  }
  let host: string;
  if (options.host !== undefined) {
    const given: unknown = options.host;
    if (typeof given !== 'string' || given.length === 0) {
      configError('host', `Pusher option "host" must be a non-empty host name, got ${shown(given, true)}.`);
    }
    if (given.includes('://') || /[/?#@\s]/.test(given)) {
      configError(
        'host',
        `Pusher option "host" (${shown(given, true)}) must be a bare host name (e.g. "api-eu.pusher.com"): no scheme, path or credentials; use useTLS and port for the rest.`,
      );
    }
    if (!given.startsWith('[') && given.includes(':')) {
      configError(
        'host',
        `Pusher option "host" (${shown(given, true)}) contains a port; pass it as the "port" option instead.`,
      );
    }
    host = given;
  } else if (options.cluster !== undefined) {
    host = `api-${options.cluster}.pusher.com`;
  } else {
    host = DEFAULT_HOST;
  }

  if (options.useTLS !== undefined && typeof options.useTLS !== 'boolean') {
    configError('useTLS', `Pusher option "useTLS" must be true or false, got ${shown(options.useTLS)}.`);
  }
  const useTLS = options.useTLS ?? true;
  let port: number | undefined;
  if (options.port !== undefined) {
    const given: unknown = options.port;
    if (typeof given !== 'number' || !Number.isInteger(given) || given < 1 || given > 65535) {
      configError('port', `Pusher option "port" must be an integer from 1 to 65535, got ${shown(given)}.`);
    }
    port = given;
  }
  const defaultPort = useTLS ? 443 : 80;
  const origin = `${useTLS ? 'https' : 'http'}://${host}${port !== undefined && port !== defaultPort ? ':' + port : ''}`;

  const timeout = checkPositiveNumber('timeout', options.timeout, false) ?? DEFAULT_TIMEOUT_MS;
  const maxPayloadBytes =
    checkPositiveNumber('maxPayloadBytes', options.maxPayloadBytes, true) ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const maxConnections = checkPositiveNumber('maxConnections', options.maxConnections, true) ?? DEFAULT_MAX_CONNECTIONS;
  const webhookMaxAgeMs =
    options.webhookMaxAgeMs === false
      ? undefined
      : (checkPositiveNumber('webhookMaxAgeMs', options.webhookMaxAgeMs, false) ?? DEFAULT_WEBHOOK_MAX_AGE_MS);
  const webhookClockSkewMs =
    checkNonNegativeNumber('webhookClockSkewMs', options.webhookClockSkewMs) ?? DEFAULT_WEBHOOK_CLOCK_SKEW_MS;
  const maxPresenceDataBytes =
    checkPositiveNumber('maxPresenceDataBytes', options.maxPresenceDataBytes, true) ?? DEFAULT_MAX_PRESENCE_DATA_BYTES;
  const additionalKeys = resolveAdditionalKeys(options.additionalKeys);

  const proxy = checkProxyUrl(options.proxy);

  if (options.transport !== undefined) {
    const transport: unknown = options.transport;
    if (
      transport === null ||
      typeof transport !== 'object' ||
      typeof (transport as HttpTransport).request !== 'function'
    ) {
      configError(
        'transport',
        'Pusher option "transport" must implement HttpTransport (a request(request) method returning a promise).',
      );
    }
  }

  const retry = resolveRetryPolicy(options.retry);

  let batching: { maxBatchSize: number } | false = false;
  const givenBatching: unknown = options.batching;
  if (givenBatching === true) batching = { maxBatchSize: MAX_BATCH_SIZE };
  else if (givenBatching !== undefined && givenBatching !== false) {
    if (givenBatching === null || typeof givenBatching !== 'object') {
      configError(
        'batching',
        `Pusher option "batching" must be true, false or { maxBatchSize }, got ${shown(givenBatching)}.`,
      );
    }
    const size: unknown = (givenBatching as { maxBatchSize?: unknown }).maxBatchSize ?? MAX_BATCH_SIZE;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MAX_BATCH_SIZE) {
      configError(
        'batching.maxBatchSize',
        `Pusher option "batching.maxBatchSize" must be an integer from 1 to ${MAX_BATCH_SIZE} (Pusher's batch limit), got ${shown(size)}.`,
      );
    }
    batching = { maxBatchSize: size };
  }

  if (options.logger !== undefined && (options.logger === null || typeof options.logger !== 'object')) {
    configError(
      'logger',
      'Pusher option "logger" must be an object with debug/warn/error methods (Nest\'s Logger or console).',
    );
  }

  return {
    appId,
    key,
    secret,
    host,
    port,
    useTLS,
    origin,
    timeout,
    maxPayloadBytes,
    encryptionMasterKey:
      options.encryptionMasterKeyBase64 === undefined ? undefined : parseMasterKey(options.encryptionMasterKeyBase64),
    proxy,
    maxConnections,
    transport: options.transport,
    retry,
    batching,
    logger: options.logger,
    webhookMaxAgeMs,
    webhookClockSkewMs,
    additionalKeys,
    maxPresenceDataBytes,
  };
}

function resolveAdditionalKeys(given: unknown): Array<{ key: string; secret: string }> {
  if (given === undefined) return [];
  if (!Array.isArray(given)) {
    configError('additionalKeys', 'Pusher option "additionalKeys" must be an array of { key, secret } pairs.');
  }
  return given.map((pair: unknown, index) => {
    const { key, secret } = (pair ?? {}) as { key?: unknown; secret?: unknown };
    if (typeof key !== 'string' || key.trim().length === 0 || key.includes(':')) {
      configError(
        `additionalKeys[${index}].key`,
        `Pusher option "additionalKeys[${index}].key" must be a non-empty app key without ":".`,
      );
    }
    if (typeof secret !== 'string' || secret.trim().length === 0) {
      // Never echo the value: it may be a secret in the wrong place.
      configError(
        `additionalKeys[${index}].secret`,
        `Pusher option "additionalKeys[${index}].secret" is missing or not a non-empty string.`,
      );
    }
    return { key, secret };
  });
}

/** The options a `PUSHER_URL` carries. */
export type PusherUrlOptions = Pick<PusherOptions, 'appId' | 'key' | 'secret' | 'host' | 'useTLS'> & { port?: number };

/**
 * Parses `http(s)://KEY:SECRET@HOST[:PORT]/apps/APP_ID` (Heroku's `PUSHER_URL`); `https` means TLS.
 * @throws PusherConfigurationError (option `url`); the message shows the URL with the secret masked.
 */
export function parsePusherUrl(url: string): PusherUrlOptions {
  const shape = 'Expected http(s)://KEY:SECRET@HOST[:PORT]/apps/APP_ID.';
  if (typeof url !== 'string' || url.trim().length === 0) {
    configError(
      'url',
      `The Pusher URL is ${url === undefined ? 'missing' : 'empty or not a string'} (is PUSHER_URL set?). ${shape}`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    configError('url', `The Pusher URL is not a valid URL. ${shape}`);
  }
  // Never the userinfo (KEY:SECRET, or something malformed such as key@SECRET@host where the secret is no password),
  // and the path only when it has the expected shape; whatever is left is masked against the password.
  const appPath = /^\/apps\/[A-Za-z0-9._~-]*\/?$/.test(parsed.pathname) ? parsed.pathname : '/…';
  const where = redact(
    `${parsed.protocol}//${parsed.username || parsed.password ? '***@' : ''}${parsed.host}${appPath}`,
    [decodeSafe(parsed.password), parsed.password],
  );
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    configError('url', `The Pusher URL ${where} must start with http:// or https://. ${shape}`);
  }
  if (!parsed.username || !parsed.password) {
    configError(
      'url',
      `The Pusher URL ${where} has no KEY:SECRET credentials (exactly one ":" between them, no "@" inside; percent-encode such characters). ${shape}`,
    );
  }
  const match = /^\/apps\/([^/]+)\/?$/.exec(parsed.pathname);
  if (match === null) {
    configError('url', `The Pusher URL ${where} has no /apps/APP_ID path. ${shape}`);
  }
  if (parsed.search || parsed.hash) {
    configError('url', `The Pusher URL ${where} must have no query string or fragment. ${shape}`);
  }
  const result: PusherUrlOptions = {
    appId: decodeSafe(match[1]!),
    key: decodeSafe(parsed.username),
    secret: decodeSafe(parsed.password),
    host: parsed.hostname,
    useTLS: parsed.protocol === 'https:',
  };
  if (parsed.port !== '') result.port = Number(parsed.port);
  return result;
}

function decodeSafe(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component;
  }
}
