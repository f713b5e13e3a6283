import { PusherConfigurationError } from './pusher.errors.js';
import type { PusherLogger } from './pusher.options.js';
import { AttemptFailure, closedClientError, requestErrorFor } from './request-errors.js';
import { isRetryableFailure, isRetryableStatus, nextRetryDelay, type RetryPolicy } from './retry.js';
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
import { CHECKED_OPTIONS, UndiciTransport } from './transport/undici.transport.js';

/**
 * Everything {@link PusherHttpClient} needs, already checked: the `Pusher` class builds it from the options that
 * `resolvePusherConfig` checked, and the client takes it as it is.
 */
export interface PusherHttpClientConfig {
  appId: string;
  key: string;
  secret: string;
  /** e.g. `https://api-eu.pusher.com`, no trailing slash. */
  origin: string;
  /** Bounds the whole call (every attempt and the waits between them), in ms; positive. */
  timeout: number;
  /** From `resolveRetryPolicy`. */
  retry: RetryPolicy;
  transport: HttpTransport;
  logger?: PusherLogger;
  /** Value of `X-Pusher-Library`, e.g. `nest-pusher 0.1.0`. */
  libraryName: string;
  /** The client's clock in ms (signature timestamps, retry timing, log lines), for tests. Default `Date.now`. */
  now?: () => number;
}

/** setTimeout fires at once beyond 2^31-1 ms; nobody waits 24 days for an API call anyway. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Signs and sends HTTP API calls: one deadline per call (retries included), retries per the retry policy, typed
 * errors with the server's own words and what to do, one debug log line per call. Never logs or reports the secret,
 * a signature or a signed query.
 *
 * A call is small steps: {@link PusherHttpClient.attempt} sends one signed request, `settle` turns its answer into a
 * result or an {@link AttemptFailure}, {@link nextRetryDelay} decides whether to try again, and
 * {@link requestErrorFor} maps the last failure to the error.
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

  constructor(config: PusherHttpClientConfig) {
    this.key = config.key;
    this.secret = config.secret;
    this.origin = config.origin;
    this.basePath = '/apps/' + config.appId;
    this.timeout = Math.min(config.timeout, MAX_TIMER_MS);
    this.policy = config.retry;
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
    if (this.closed) throw closedClientError(method, fullPath);
    this.running++;
    const params = options?.params;
    const body = options?.body;
    // The transport contract's deadline is in Date.now() ms; everything else is timed with this.now.
    const bound = new CallBound(Date.now() + this.timeout, this.timeout);
    const start = this.now();
    try {
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
        let response: HttpTransportResponse | undefined;
        let outcome: unknown;
        try {
          response = await this.attempt(method, fullPath + '?' + query, body, bound);
          outcome = settle(response);
        } catch (error) {
          outcome = this.noAnswer(error, bound);
        }
        if (!(outcome instanceof AttemptFailure)) {
          if (this.logger?.debug !== undefined)
            this.debug(`${method} ${fullPath} ${response!.status} ${this.now() - start}ms`);
          return outcome as T;
        }
        const now = this.now();
        const delay = nextRetryDelay(this.policy, attempt, this.isRetryable(outcome), outcome.retryAfter, {
          now,
          attemptMs: now - attemptStart,
          deadline: start + this.timeout,
        });
        if (delay !== undefined) {
          const what = outcome.kind === 'no-answer' ? ` failed (${outcome.outcome});` : ` ${outcome.outcome};`;
          this.warn(`${method} ${fullPath}${what} retry ${attempt} of ${this.policy.attempts - 1} in ${delay}ms`);
          await sleep(delay);
          attemptStart = this.now();
          continue;
        }
        this.debug(`${method} ${fullPath} ${outcome.outcome} ${now - start}ms`);
        throw requestErrorFor(
          {
            method,
            path: fullPath,
            attempts: attempt,
            signedQuery: query,
            secret: this.secret,
            origin: this.origin,
            timeout: this.timeout,
          },
          outcome,
        );
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

  /** One attempt: the transport's answer to one signed request, within the call's deadline. */
  private attempt(
    method: 'GET' | 'POST',
    pathAndQuery: string,
    body: string | undefined,
    bound: CallBound,
  ): Promise<HttpTransportResponse> {
    const headers = method === 'POST' ? this.postHeaders : this.getHeaders;
    const answer = this.transport.request(new AttemptRequest(method, this.origin, pathAndQuery, headers, body, bound));
    return this.transport.enforcesDeadline === true ? answer : untilDeadline(answer, bound);
  }

  /** A failed attempt without an answer; past the call's deadline, whatever the transport made of it is a timeout. */
  private noAnswer(error: unknown, bound: CallBound): AttemptFailure {
    if (bound.expired()) {
      const timeout = new HttpTransportError(
        `no complete answer within ${this.timeout} ms`,
        'ETIMEDOUT',
        errorWasSent(error),
      );
      return AttemptFailure.noAnswer(timeout, true);
    }
    return AttemptFailure.noAnswer(
      toHttpTransportError(error, { closed: false, viaProxy: false, responded: false }),
      false,
    );
  }

  /** Whether the policy allows trying again after this failure (the attempts left and the deadline aside). */
  private isRetryable(failure: AttemptFailure): boolean {
    switch (failure.kind) {
      case 'status':
        return isRetryableStatus(this.policy, failure.status);
      case 'no-answer':
        return !failure.expired && isRetryableFailure(this.policy, failure.transportError!);
      case 'invalid-response':
        return false;
    }
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
  // Checked by resolvePusherConfig (or written by a test): the transport need not check them again.
  if (unavailable === undefined) return new UndiciTransport({ ...options, [CHECKED_OPTIONS]: true });
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
    const onDeadline = (): void =>
      reject(new HttpTransportError('no complete answer before the deadline', 'ETIMEDOUT', true));
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

/**
 * An answer as the caller's result (the parsed JSON; `{}` for an empty body), or why it is none: a non-2xx status,
 * soketi's error in a 200 (`{"error", "code"}`), or a 2xx body that is not JSON.
 */
function settle(response: HttpTransportResponse): unknown {
  const status = response.status;
  if (status < 200 || status >= 300) return AttemptFailure.status(response, status);
  const text = response.body;
  if (text === '' || text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return AttemptFailure.invalidResponse(response);
  }
  const embedded = embeddedErrorStatus(parsed);
  return embedded === undefined ? parsed : AttemptFailure.status(response, embedded);
}

/** The status an error body answered with a 2xx carries (soketi's `{"error": "...", "code": 401}`), if any. */
function embeddedErrorStatus(parsed: unknown): number | undefined {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const { error, code } = parsed as { error?: unknown; code?: unknown };
  if (typeof error !== 'string' || typeof code !== 'number' || !Number.isInteger(code) || code < 400 || code > 599)
    return undefined;
  return code;
}
