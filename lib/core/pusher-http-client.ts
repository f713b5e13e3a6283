import { PusherConfigurationError, PusherRequestError } from './pusher.errors.js';
import { describeOptionValue, redact } from './redaction.js';
import type { PusherLogger, RetryOptions } from './pusher.options.js';
import {
  fitsBeforeDeadline,
  isRetryableFailure,
  isRetryableStatus,
  resolveRetryPolicy,
  retryDelay,
  type RetryPolicy,
} from './retry.js';
import { signRequestQuery } from './signing.js';
import {
  HttpTransportError,
  TimeoutReason,
  type HttpTransport,
  type HttpTransportRequest,
  type HttpTransportResponse,
} from './transport/http-transport.js';
import { toHttpTransportError } from './transport/transport-errors.js';
import { FetchTransport } from './transport/fetch.transport.js';
import { undiciUnavailableReason } from './transport/runtime.js';
import { UndiciTransport } from './transport/undici.transport.js';

/** Everything {@link PusherHttpClient} needs; the `Pusher` class builds it from `PusherOptions`. */
export interface PusherHttpClientConfig {
  appId: string;
  key: string;
  secret: string;
  /** e.g. `https://api-eu.pusher.com`, no trailing slash. */
  origin: string;
  /** Bounds the whole call (every attempt and the waits between them), in ms. */
  timeout: number;
  retry: RetryOptions | false | undefined;
  transport: HttpTransport;
  logger?: PusherLogger;
  /** Value of `X-Pusher-Library`, e.g. `nest-pusher 0.1.0`. */
  libraryName: string;
  /** ms clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/** The server's words are quoted up to this many characters in a message; `body` keeps up to MAX_ERROR_BODY. */
const MAX_QUOTED = 300;
const MAX_ERROR_BODY = 2048;
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Signs and sends HTTP API calls: one deadline per call (retries included), retries per the retry policy, typed
 * errors with the server's own words and what to do, one debug log line per call. Never logs or reports the secret,
 * a signature or a signed query.
 */
export class PusherHttpClient {
  private readonly key: string;
  private readonly secret: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly timeout: number;
  private readonly policy: RetryPolicy;
  private readonly transport: HttpTransport;
  private readonly logger: PusherLogger | undefined;
  private readonly now: () => number;
  private readonly getHeaders: Record<string, string>;
  private readonly postHeaders: Record<string, string>;
  private running = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  /** @throws PusherConfigurationError on an unusable `timeout` or `retry` option. */
  constructor(config: PusherHttpClientConfig) {
    this.key = config.key;
    this.secret = config.secret;
    this.origin = config.origin;
    this.basePath = '/apps/' + config.appId;
    const timeout = config.timeout;
    if (typeof timeout !== 'number' || !(timeout > 0)) {
      throw new PusherConfigurationError(`timeout must be a positive number of milliseconds; got ${describeOptionValue(timeout, [config.secret])}.`, 'timeout');
    }
    // setTimeout fires at once beyond 2^31-1 ms; nobody waits 24 days for an API call anyway.
    this.timeout = Math.min(timeout, MAX_TIMER_MS);
    this.policy = resolveRetryPolicy(config.retry);
    this.transport = config.transport;
    this.logger = config.logger;
    this.now = config.now ?? Date.now;
    // Shared by every call: transports must not mutate request headers.
    this.getHeaders = Object.freeze({ 'X-Pusher-Library': config.libraryName }) as Record<string, string>;
    this.postHeaders = Object.freeze({
      'Content-Type': 'application/json',
      'X-Pusher-Library': config.libraryName,
    }) as Record<string, string>;
  }

  /** Calls running now (retries included). */
  get inFlight(): number {
    return this.running;
  }

  /**
   * Sends a signed request. `path` is relative to `/apps/{appId}` and starts with '/', e.g. '/events' (already
   * path-encoded). `body` is the serialized JSON. Resolves with the parsed JSON (`{}` for an empty body).
   * Rejects PusherRequestError (non-2xx, no answer, invalid JSON, closed client) or PusherValidationError (params
   * that collide with protocol fields).
   */
  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    options?: { params?: Record<string, string>; body?: string },
  ): Promise<T> {
    const fullPath = this.basePath + path;
    if (this.closed) {
      throw new PusherRequestError(
        `Pusher API ${method} ${fullPath} not sent: the client is closed (close() was called).`,
        method,
        fullPath,
        0,
        '',
        'ECLOSED',
      );
    }
    this.running++;
    const params = options?.params;
    const body = options?.body;
    const bound = new CallBound(Date.now() + this.timeout, this.timeout);
    const start = this.now();
    try {
      const deadline = start + this.timeout;
      const headers = method === 'POST' ? this.postHeaders : this.getHeaders;
      let attemptStart = start;
      for (let attempt = 1; ; attempt++) {
        const query = signRequestQuery({
          key: this.key,
          secret: this.secret,
          method,
          path: fullPath,
          params,
          body,
          timestamp: Math.floor(attemptStart / 1000),
        });
        let response: HttpTransportResponse;
        try {
          const answer = this.transport.request(new AttemptRequest(method, this.origin, fullPath + '?' + query, headers, body, bound));
          response = await (this.transport.enforcesDeadline === true ? answer : untilDeadline(answer, bound));
        } catch (error) {
          // Past our deadline, whatever the transport made of it is a timeout.
          const expired = bound.expired();
          const failure = expired
            ? new HttpTransportError(`no complete answer within ${this.timeout} ms`, 'ETIMEDOUT', errorWasSent(error))
            : toHttpTransportError(error, { closed: false, viaProxy: false, responded: false });
          const now = this.now();
          if (attempt < this.policy.attempts && !expired && isRetryableFailure(this.policy, failure)) {
            const delay = retryDelay(this.policy, attempt, undefined, now);
            if (delay !== undefined && fitsBeforeDeadline(now, delay, now - attemptStart, deadline)) {
              this.warn(`${method} ${fullPath} failed (${failure.code}); retry ${attempt} of ${this.policy.attempts - 1} in ${delay}ms`);
              await sleep(delay);
              attemptStart = this.now();
              continue;
            }
          }
          this.debug(`${method} ${fullPath} ${failure.code} ${now - start}ms`);
          throw this.failureError(method, fullPath, failure, attempt, query);
        }

        let status = response.status;
        if (status >= 200 && status < 300) {
          const text = response.body;
          let parsed: unknown;
          if (text === '' || text === undefined) parsed = {};
          else {
            try {
              parsed = JSON.parse(text);
            } catch {
              this.debug(`${method} ${fullPath} ${status} EINVALIDRESPONSE ${this.now() - start}ms`);
              throw new PusherRequestError(
                `Pusher API ${method} ${fullPath} answered ${status} with a body that is not JSON (${quote(String(text), query, this.secret)}): ` +
                  'check that origin points at a Pusher Channels API (host, port, useTLS, proxy).',
                method,
                fullPath,
                status,
                redactFor(String(text).slice(0, MAX_ERROR_BODY), query, this.secret),
                'EINVALIDRESPONSE',
              );
            }
          }
          const embedded = embeddedErrorStatus(parsed);
          if (embedded === undefined) {
            if (this.logger?.debug !== undefined) this.debug(`${method} ${fullPath} ${status} ${this.now() - start}ms`);
            return parsed as T;
          }
          // soketi answers some failures (a bad signature among them) with 200 and {"error", "code"}: an error all the same.
          status = embedded;
          response = { ...response, status };
        }

        const now = this.now();
        if (attempt < this.policy.attempts && isRetryableStatus(this.policy, status)) {
          const delay = retryDelay(this.policy, attempt, response.headers['retry-after'], now);
          if (delay !== undefined && fitsBeforeDeadline(now, delay, now - attemptStart, deadline)) {
            this.warn(`${method} ${fullPath} ${status}; retry ${attempt} of ${this.policy.attempts - 1} in ${delay}ms`);
            await sleep(delay);
            attemptStart = this.now();
            continue;
          }
        }
        this.debug(`${method} ${fullPath} ${status} ${now - start}ms`);
        throw this.statusError(method, fullPath, response, attempt, query);
      }
    } finally {
      bound.dispose();
      if (--this.running === 0 && this.drained !== undefined) this.drained();
    }
  }

  /**
   * Stops new calls (they reject with code ECLOSED), waits for running calls to settle (each bounded by `timeout`),
   * then closes the transport. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closed = true;
      this.closing = this.closeWhenDrained();
    }
    return this.closing;
  }

  private async closeWhenDrained(): Promise<void> {
    if (this.running > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
      });
    }
    try {
      await this.transport.close?.();
    } catch (error) {
      this.logger?.error?.(`closing the HTTP transport failed: ${error instanceof Error ? error.name : typeof error}`);
    }
  }

  private statusError(
    method: string,
    path: string,
    response: HttpTransportResponse,
    attempts: number,
    query: string,
  ): PusherRequestError {
    const status = response.status;
    const text = typeof response.body === 'string' ? response.body : '';
    const words = serverWords(text);
    const said = words === '' ? 'an empty body' : `"${quote(words, query, this.secret)}"`;
    const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
    let advice: string;
    switch (status) {
      case 400:
        advice = 'the server refused the request as malformed: fix the call as the server says.';
        break;
      case 401:
        advice = "check the app key/secret and that this machine's clock is within 600 s of the server's.";
        break;
      case 403:
        advice = 'the app is disabled or over its quota (messages or connections): check it in the Pusher dashboard.';
        break;
      case 404:
        advice = 'unknown app id or path: check appId and the host/cluster (the app lives on one cluster).';
        break;
      case 413:
        advice =
          'the payload is too large: keep each event within the server limit (maxPayloadBytes, 10240 bytes on shared clusters) or send fewer events per batch.';
        break;
      case 429:
        advice = 'rate limited: send fewer requests (use batching) or raise the retry budget.';
        break;
      default:
        advice =
          status >= 500
            ? status === 503
              ? 'the service is unavailable; it was retried as far as the timeout allowed, try again later.'
              : 'server error; such answers are retried only with retry.retryServerErrors (the event may already have been delivered).'
            : 'unexpected status from the HTTP API.';
    }
    return new PusherRequestError(
      `Pusher API ${method} ${path} answered ${status}${tries} with ${said}: ${advice}`,
      method,
      path,
      status,
      redactFor(text.slice(0, MAX_ERROR_BODY), query, this.secret),
    );
  }

  private failureError(
    method: string,
    path: string,
    failure: HttpTransportError,
    attempts: number,
    query: string,
  ): PusherRequestError {
    const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
    // The transport's words are not ours: they pass through redactFor() like a server's body.
    const said = redactFor(failure.message, query, this.secret);
    let what: string;
    switch (failure.code) {
      case 'ETIMEDOUT':
        what = said.startsWith('no complete answer within')
          ? `no complete answer within ${this.timeout} ms: the API host is unreachable or slow; check host/cluster and the network, or raise timeout.`
          : `${said}: check host/cluster and the network.`;
        break;
      case 'ECONNREFUSED':
        what = `connection refused by ${this.origin}: check host, port and useTLS.`;
        break;
      case 'ECONNRESET':
        what = failure.requestSent
          ? `${said}; the server may have processed the request.`
          : `${said}; the request was not sent.`;
        break;
      case 'EPROXY':
        what = `${said}: check the proxy option and that the proxy allows ${this.origin}.`;
        break;
      case 'ECLOSED':
        what = 'the HTTP transport is closed: create a new client.';
        break;
      default:
        what = `${said}: check host/cluster, useTLS and the network.`;
    }
    return new PusherRequestError(`Pusher API ${method} ${path} failed${tries}: ${what}`, method, path, 0, '', failure.code);
  }

  private debug(line: string): void {
    const logger = this.logger;
    if (logger?.debug === undefined) return;
    try {
      logger.debug(line);
    } catch {
      // A failing logger must not fail the call.
    }
  }

  private warn(line: string): void {
    const logger = this.logger;
    if (logger?.warn === undefined) return;
    try {
      logger.warn(line);
    } catch {
      // A failing logger must not fail the call.
    }
  }
}

/**
 * The default transport: {@link UndiciTransport} (keep-alive pool, optional proxy) where undici works, else
 * {@link FetchTransport} over the runtime's own fetch (Cloudflare Workers, Bun), which pools connections itself.
 * @throws PusherConfigurationError for `proxy` where undici does not work (the runtime's fetch has no proxy option).
 */
export function createDefaultTransport(options: { proxy?: string; maxConnections?: number }): HttpTransport {
  const unavailable = undiciUnavailableReason();
  if (unavailable === undefined) return new UndiciTransport(options);
  if (options.proxy !== undefined) {
    throw new PusherConfigurationError(
      `proxy needs the undici transport, and ${unavailable}: pass { transport: new FetchTransport({ fetch }) } with a fetch that goes through your proxy.`,
      'proxy',
    );
  }
  return new FetchTransport();
}

function abortOnDeadline(controller: AbortController, timeoutMs: number): void {
  controller.abort(new TimeoutReason(timeoutMs));
}

/**
 * `answer`, or a rejection once the call's deadline passes, whichever comes first: for transports that do not say
 * they enforce the deadline themselves. A later settlement of `answer` is observed (never unhandled) and ignored.
 */
function untilDeadline<T>(answer: Promise<T>, bound: CallBound): Promise<T> {
  const signal = bound.signal;
  return new Promise<T>((resolve, reject) => {
    const onDeadline = (): void => reject(new HttpTransportError('no complete answer before the deadline', 'ETIMEDOUT', true));
    if (signal.aborted) onDeadline();
    else signal.addEventListener('abort', onDeadline, { once: true });
    // Promise.resolve: a hand-written transport may hand back any thenable.
    Promise.resolve(answer).then(
      (value) => {
        signal.removeEventListener('abort', onDeadline);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onDeadline);
        reject(error);
      },
    );
  });
}

/** Whether a transport's failure says the request may have reached the server (unknown failures: assume so). */
function errorWasSent(error: unknown): boolean {
  return error instanceof HttpTransportError ? error.requestSent : true;
}

/**
 * One attempt as the transport sees it. A class rather than an object literal with a `signal` getter: the literal
 * built a getter closure and an accessor pair on every call.
 */
class AttemptRequest implements HttpTransportRequest {
  readonly deadline: number;

  constructor(
    readonly method: 'GET' | 'POST',
    readonly origin: string,
    readonly path: string,
    readonly headers: Record<string, string>,
    readonly body: string | undefined,
    private readonly bound: CallBound,
  ) {
    this.deadline = bound.deadline;
  }

  /** Made on first read only: the default transport enforces the deadline without it. */
  get signal(): AbortSignal {
    return this.bound.signal;
  }
}

/**
 * One call's time bound, retries included. Its AbortSignal, and the timer that aborts it, are made only when a
 * transport reads `signal`: the default transport enforces `deadline` with one shared timer instead.
 */
class CallBound {
  private controller: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    /** In `Date.now()` milliseconds. */
    readonly deadline: number,
    private readonly timeoutMs: number,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = new AbortController();
      this.controller = controller;
      const remaining = this.deadline - Date.now();
      if (remaining <= 0) controller.abort(new TimeoutReason(this.timeoutMs));
      else this.timer = setTimeout(abortOnDeadline, remaining, controller, this.timeoutMs);
    }
    return this.controller.signal;
  }

  expired(): boolean {
    return this.controller?.signal.aborted === true || Date.now() >= this.deadline;
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The status an error body answered with a 2xx carries (soketi's `{"error": "...", "code": 401}`), if any. */
function embeddedErrorStatus(parsed: unknown): number | undefined {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const { error, code } = parsed as { error?: unknown; code?: unknown };
  if (typeof error !== 'string' || typeof code !== 'number' || !Number.isInteger(code) || code < 400 || code > 599) return undefined;
  return code;
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

function quote(text: string, query: string, secret: string): string {
  const clean = redactFor(text, query, secret).replace(/\s+/g, ' ').trim();
  return clean.length > MAX_QUOTED ? clean.slice(0, MAX_QUOTED) + '…' : clean;
}

/**
 * What must never reach a message, property or log, for one request: the secret and the signature we sent (Pusher's
 * 401 body echoes it); {@link redact} adds any other signature-looking value.
 */
function redactFor(text: string, query: string, secret: string): string {
  const at = query.lastIndexOf('auth_signature=');
  if (at === -1) return redact(text, [secret]);
  const end = query.indexOf('&', at);
  return redact(text, [secret, query.slice(at + 'auth_signature='.length, end === -1 ? undefined : end)]);
}
