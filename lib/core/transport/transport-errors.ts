import { scrub } from '../redaction.js';
import { HttpTransportError, TimeoutReason } from './http-transport.js';

/** Largest response body a shipped transport reads; Pusher's answers are a few hundred bytes. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** What a transport knows when a request failed. */
export interface TransportFailureContext {
  /** The request's signal, when the transport read it. */
  signal?: AbortSignal | undefined;
  /** Why the transport aborted the request itself (e.g. a {@link TimeoutReason} at the deadline), if it did. */
  abortReason?: unknown;
  /** The transport was closed while the request ran. */
  closed: boolean;
  /** Requests go through a proxy: a connection failure is the proxy's. */
  viaProxy: boolean;
  /** Response headers had arrived (the failure happened while reading the body). */
  responded: boolean;
  /**
   * Whether the request had been handed to a connected socket: `false` when known not to, `undefined` when the
   * transport cannot tell (a socket `ETIMEDOUT` then counts as after sending, so it is never retried by default).
   */
  requestStarted?: boolean | undefined;
}

const NOT_SENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EADDRNOTAVAIL',
]);

const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/**
 * Turns whatever a request rejected with (undici errors, fetch's `TypeError: fetch failed` with a `cause`, an abort
 * reason) into an {@link HttpTransportError}. The message names the failure class and the low-level code, never the
 * request's URL or query (which carries the signature).
 */
export function toHttpTransportError(error: unknown, context: TransportFailureContext): HttpTransportError {
  if (error instanceof HttpTransportError) return error;
  const signal = context.signal;
  const aborted = context.abortReason !== undefined || signal?.aborted === true;
  if (aborted) {
    const reason: unknown = context.abortReason !== undefined ? context.abortReason : signal?.reason;
    if (reason instanceof TimeoutReason) {
      return new HttpTransportError(`no complete answer within ${reason.timeoutMs} ms`, 'ETIMEDOUT', true);
    }
    if (isNamed(reason, 'TimeoutError')) {
      return new HttpTransportError('no complete answer before the signal timed out', 'ETIMEDOUT', true);
    }
    return new HttpTransportError('the request was aborted by its signal', 'ENETWORK', true);
  }
  const code = errorCode(error);
  if (context.closed || code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED') {
    return new HttpTransportError('the transport was closed while the request ran', 'ECLOSED', true);
  }
  const via = context.viaProxy;
  if (code === 'ECONNREFUSED') {
    return via
      ? new HttpTransportError('the proxy refused the connection (ECONNREFUSED)', 'EPROXY', false)
      : new HttpTransportError('connection refused (ECONNREFUSED)', 'ECONNREFUSED', false);
  }
  if (code !== undefined && NOT_SENT_NETWORK_CODES.has(code)) {
    return via
      ? new HttpTransportError(`the proxy could not be reached (${code})`, 'EPROXY', false)
      : new HttpTransportError(`the host could not be reached (${code})`, 'ENETWORK', false);
  }
  // A socket ETIMEDOUT is "not sent" only when the request provably never reached a connected socket: after the
  // write it may have been processed, and retrying it could deliver an event twice.
  if (
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    (code === 'ETIMEDOUT' && !context.responded && context.requestStarted === false)
  ) {
    return via
      ? new HttpTransportError(`connecting to the proxy timed out (${code})`, 'EPROXY', false)
      : new HttpTransportError(`connecting timed out (${code})`, 'ETIMEDOUT', false);
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') {
    return new HttpTransportError(`the server stopped answering (${code})`, 'ETIMEDOUT', true);
  }
  if (code === 'UND_ERR_PRX_TLS' || (code === 'UND_ERR_ABORTED' && /^Proxy response/.test(messageOf(error)))) {
    // "Proxy response (403) !== 200 when HTTP Tunneling": only the status, nothing of the request.
    const status = /\((\d{3})\)/.exec(messageOf(error))?.[1];
    return new HttpTransportError(
      status === undefined
        ? `the proxy refused the tunnel (${code})`
        : `the proxy refused the tunnel with status ${status}`,
      'EPROXY',
      false,
    );
  }
  if (via && /Proxy Authentication Required/.test(messageOf(error))) {
    return new HttpTransportError('the proxy asked for authentication (407)', 'EPROXY', false);
  }
  if (code !== undefined && RESET_CODES.has(code)) {
    return new HttpTransportError(`the connection was closed before a complete answer (${code})`, 'ECONNRESET', true);
  }
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    return new HttpTransportError(`the response body exceeds ${MAX_RESPONSE_BYTES} bytes`, 'ENETWORK', true);
  }
  if (code !== undefined && code.startsWith('HPE_')) {
    return new HttpTransportError(`the server sent an invalid HTTP response (${code})`, 'ENETWORK', true);
  }
  if (code !== undefined && (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('ERR_SSL'))) {
    return new HttpTransportError(`TLS handshake failed (${code})`, 'ENETWORK', false);
  }
  // Unknown: say what it was, without anything that could carry the URL, and assume the server may have seen it.
  return new HttpTransportError(
    `network error (${code ?? nameOf(error)}): ${scrub(messageOf(error))}`,
    'ENETWORK',
    true,
  );
}

/** The low-level code of an error, looking through `cause` (fetch) and AggregateError (happy eyeballs). */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const inner = (current as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length > 0) {
      const first = errorCode(inner[0]);
      if (first !== undefined) return first;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  let current: unknown = error;
  // fetch's own message is just "fetch failed": prefer the innermost cause's words.
  for (let depth = 0; depth < 4; depth++) {
    const cause = current !== null && typeof current === 'object' ? (current as { cause?: unknown }).cause : undefined;
    if (cause === undefined || cause === null) break;
    current = cause;
  }
  if (current instanceof Error) return current.message;
  return typeof current === 'string' ? current : '';
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function isNamed(value: unknown, name: string): boolean {
  return value !== null && typeof value === 'object' && (value as { name?: unknown }).name === name;
}
