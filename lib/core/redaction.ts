/**
 * What of a text or a caller's value may reach an error message, an error property or a log line. The one owner of
 * that rule: the HTTP client, the transports and the configuration checks all go through here.
 */

const REDACTED = '[redacted]';
/** Any HMAC-SHA256 in hex: a signature we sent, or one a server echoed. */
const HEX_DIGEST = /\b[0-9a-f]{64}\b/gi;
const SIGNATURE_PARAM = /auth_signature=[^&\s"']*/gi;
/** `scheme://userinfo@`: the credentials part of a URL such as `PUSHER_URL`. */
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/?#\s@]*(?:@[^/?#\s@]*)*@/gi;
const QUERY = /\?\S*/g;

/**
 * `text` with every known secret (the app secret, the signature of the request at hand), every
 * `auth_signature=` value, every 64-hex-digit string and every URL's userinfo masked.
 * @example redact('401 Invalid signature ab12…', [secret, sentSignature])
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== '' && out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(SIGNATURE_PARAM, '[signature redacted]')
    .replace(HEX_DIGEST, REDACTED);
}

/**
 * A low-level message (a socket or fetch error) shortened to 300 characters, with any query string removed (it
 * would carry the signature) and then {@link redact}ed.
 */
export function scrub(text: string, secrets: readonly string[] = []): string {
  return redact(text.replace(QUERY, '?[query removed]'), secrets).slice(0, 300);
}

/**
 * Shows a configuration value in a message without ever showing what could be a credential: numbers, booleans,
 * null and undefined as they are, objects and arrays by kind only (they may hold anything). A string only when
 * `showStrings` is set (the option takes a string), it is short, holds none of `secrets` and none of `:`, `@`, `/`
 * (the marks of `KEY:SECRET` and of a URL with userinfo, such as a `PUSHER_URL` pasted into the wrong option);
 * otherwise only its length.
 * @example describeOptionValue('https://key:secret@host/apps/1', [], true) // 'a string of 30 characters (not shown: ...)'
 */
export function describeOptionValue(value: unknown, secrets: readonly string[] = [], showStrings = false): string {
  if (typeof value === 'string') {
    const safe =
      showStrings &&
      value.length <= 60 &&
      !/[:@/\\\s]/.test(value) &&
      !secrets.some((secret) => secret !== '' && value.includes(secret));
    return safe
      ? JSON.stringify(value)
      : `a string of ${value.length} characters (not shown: it may hold a credential)`;
  }
  if (value === null || value === undefined || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The server's or the transport's words are quoted up to this many characters in a message. */
const MAX_QUOTED = 300;

/**
 * {@link redact} for the text of one API call's answer or failure: masks the secret and the signature that call sent
 * (Pusher's 401 body echoes it), besides every other signature-looking value.
 */
export function redactForRequest(text: string, secret: string, signedQuery: string): string {
  const at = signedQuery.lastIndexOf('auth_signature=');
  if (at === -1) return redact(text, [secret]);
  const end = signedQuery.indexOf('&', at);
  return redact(text, [secret, signedQuery.slice(at + 'auth_signature='.length, end === -1 ? undefined : end)]);
}

/** {@link redactForRequest}, on one line and shortened to 300 characters: for quoting inside a message. */
export function quoteForRequest(text: string, secret: string, signedQuery: string): string {
  const clean = redactForRequest(text, secret, signedQuery).replace(/\s+/g, ' ').trim();
  return clean.length > MAX_QUOTED ? clean.slice(0, MAX_QUOTED) + '…' : clean;
}

/**
 * Every secret of a caller's options as given, before anything is checked: `secret` and each
 * `additionalKeys[].secret` (non-empty strings). Any option may hold one by mistake, so every message about options
 * is masked against all of them ({@link redact}, {@link describeOptionValue}).
 */
export function optionSecrets(options: unknown): string[] {
  if (options === null || typeof options !== 'object') return [];
  const { secret, additionalKeys } = options as { secret?: unknown; additionalKeys?: unknown };
  const secrets = [secret];
  if (Array.isArray(additionalKeys)) {
    for (const pair of additionalKeys)
      secrets.push(pair !== null && typeof pair === 'object' ? (pair as { secret?: unknown }).secret : undefined);
  }
  return secrets.filter((value): value is string => typeof value === 'string' && value.trim() !== '');
}
