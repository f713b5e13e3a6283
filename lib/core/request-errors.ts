import { PusherRequestError } from './pusher.errors.js';
import { quoteForRequest, redactForRequest } from './redaction.js';
import type { HttpTransportError, HttpTransportResponse } from './transport/http-transport.js';

/** `PusherRequestError.body` keeps up to this many characters of the server's answer. */
const MAX_ERROR_BODY = 2048;

/**
 * Why one attempt gave no result: an answer with an error status (`status`), a 2xx whose body is not JSON
 * (`invalid-response`) or no usable answer (`no-answer`). A class, so that the client tells it from a parsed answer
 * with one `instanceof`; made only when an attempt fails.
 */
export class AttemptFailure {
  private constructor(
    readonly kind: 'status' | 'invalid-response' | 'no-answer',
    /** The HTTP status (soketi's embedded one for an error in a 200); 0 when no answer came. */
    readonly status: number,
    /** The body as received (`status`, `invalid-response`). */
    readonly body: string,
    /** The server's `Retry-After`, if it sent one. */
    readonly retryAfter: string | undefined,
    /** What the transport reported (`no-answer`). */
    readonly transportError: HttpTransportError | undefined,
    /** The call's deadline had passed (`no-answer`): nothing more may be tried. */
    readonly expired: boolean,
  ) {}

  static status(response: HttpTransportResponse, status: number): AttemptFailure {
    const body = typeof response.body === 'string' ? response.body : '';
    return new AttemptFailure('status', status, body, response.headers['retry-after'], undefined, false);
  }

  static invalidResponse(response: HttpTransportResponse): AttemptFailure {
    return new AttemptFailure('invalid-response', response.status, String(response.body), undefined, undefined, false);
  }

  static noAnswer(error: HttpTransportError, expired: boolean): AttemptFailure {
    return new AttemptFailure('no-answer', 0, '', undefined, error, expired);
  }

  /** For the debug line: the status, or the code of what happened instead. */
  get outcome(): string {
    if (this.kind === 'status') return String(this.status);
    if (this.kind === 'invalid-response') return `${this.status} EINVALIDRESPONSE`;
    return this.transportError!.code;
  }
}

/** The call a failure belongs to, and what a message may say about it. */
export interface FailedCall {
  method: string;
  /** The API path without the signed query. */
  path: string;
  attempts: number;
  /** The signed query of the last attempt: its signature is masked wherever the server echoes it. */
  signedQuery: string;
  secret: string;
  origin: string;
  timeout: number;
}

/** What to do about each status, in the server's terms: the one table of status advice. */
const STATUS_ADVICE: Readonly<Record<number, string>> = {
  400: 'the server refused the request as malformed: fix the call as the server says.',
  401: "check the app key/secret and that this machine's clock is within 600 s of the server's.",
  403: 'the app is disabled or over its quota (messages or connections): check it in the Pusher dashboard.',
  404: 'unknown app id or path: check appId and the host/cluster (the app lives on one cluster).',
  413: 'the payload is too large: keep each event within the server limit (maxPayloadBytes, 10240 bytes on shared clusters) or send fewer events per batch.',
  429: 'rate limited: send fewer requests (use batching) or raise the retry budget.',
  503: 'the service is unavailable; it was retried as far as the timeout allowed, try again later.',
};

function statusAdvice(status: number): string {
  return (
    STATUS_ADVICE[status] ??
    (status >= 500
      ? 'server error; such answers are retried only with retry.retryServerErrors (the event may already have been delivered).'
      : 'unexpected status from the HTTP API.')
  );
}

/** What happened and what to do, per transport failure code: the one table of failure advice. `said` is redacted. */
function failureAdvice(call: FailedCall, failure: HttpTransportError, said: string): string {
  switch (failure.code) {
    case 'ETIMEDOUT':
      return said.startsWith('no complete answer within')
        ? `no complete answer within ${call.timeout} ms: the API host is unreachable or slow; check host/cluster and the network, or raise timeout.`
        : `${said}: check host/cluster and the network.`;
    case 'ECONNREFUSED':
      return `connection refused by ${call.origin}: check host, port and useTLS.`;
    case 'ECONNRESET':
      return failure.requestSent
        ? `${said}; the server may have processed the request.`
        : `${said}; the request was not sent.`;
    case 'EPROXY':
      return `${said}: check the proxy option and that the proxy allows ${call.origin}.`;
    case 'ECLOSED':
      return 'the HTTP transport is closed: create a new client.';
    default:
      return `${said}: check host/cluster, useTLS and the network.`;
  }
}

/** The typed error of a call that ended with `failure`: the server's own words (redacted) and what to do. */
export function requestErrorFor(call: FailedCall, failure: AttemptFailure): PusherRequestError {
  const { method, path, secret, signedQuery } = call;
  const tries = call.attempts > 1 ? ` after ${call.attempts} attempts` : '';
  if (failure.kind === 'no-answer') {
    const error = failure.transportError!;
    // The transport's words are not ours: they are redacted like a server's body.
    const what = failureAdvice(call, error, redactForRequest(error.message, secret, signedQuery));
    return new PusherRequestError({
      message: `Pusher API ${method} ${path} failed${tries}: ${what}`,
      method,
      path,
      status: 0,
      code: error.code,
    });
  }
  const body = redactForRequest(failure.body.slice(0, MAX_ERROR_BODY), secret, signedQuery);
  if (failure.kind === 'invalid-response') {
    return new PusherRequestError({
      message:
        `Pusher API ${method} ${path} answered ${failure.status} with a body that is not JSON (${quoteForRequest(failure.body, secret, signedQuery)}): ` +
        'check that origin points at a Pusher Channels API (host, port, useTLS, proxy).',
      method,
      path,
      status: failure.status,
      body,
      code: 'EINVALIDRESPONSE',
    });
  }
  const words = serverWords(failure.body);
  const said = words === '' ? 'an empty body' : `"${quoteForRequest(words, secret, signedQuery)}"`;
  return new PusherRequestError({
    message: `Pusher API ${method} ${path} answered ${failure.status}${tries} with ${said}: ${statusAdvice(failure.status)}`,
    method,
    path,
    status: failure.status,
    body,
  });
}

/** The error of a call made after `close()`. */
export function closedClientError(method: string, path: string): PusherRequestError {
  return new PusherRequestError({
    message: `Pusher API ${method} ${path} not sent: the client is closed (close() was called).`,
    method,
    path,
    status: 0,
    code: 'ECLOSED',
  });
}

/** Pusher answers errors in plain text, soketi in JSON `{"error", "code"}`: the server's own words either way. */
function serverWords(body: string): string {
  const trimmed = body.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as { error?: unknown; message?: unknown };
      if (typeof parsed.error === 'string') return parsed.error;
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      // Not JSON after all: quote it as text.
    }
  }
  return trimmed.replace(/\s+/g, ' ');
}
