import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { PusherConfigurationError } from '../pusher.errors.js';
import { describeOptionValue } from '../redaction.js';
import {
  HttpTransportError,
  type HttpTransport,
  type HttpTransportRequest,
  type HttpTransportResponse,
} from './http-transport.js';
import { MAX_RESPONSE_BYTES, toHttpTransportError } from './transport-errors.js';

/** Options of {@link UndiciTransport}. */
export interface UndiciTransportOptions {
  /** HTTP proxy, e.g. `http://127.0.0.1:3128` (credentials as `http://user:pass@host:port`); https targets tunnel via CONNECT. */
  proxy?: string;
  /** Pooled keep-alive connections per origin. Default 128. */
  maxConnections?: number;
  /** How long an idle pooled connection stays open, in ms (a server's `Keep-Alive` hint may shorten it). Default 4000. */
  keepAliveTimeoutMs?: number;
}

/**
 * How often running requests are checked against their deadline. One shared timer per transport replaces an
 * AbortController and a timer per call (a third of the client's CPU per trigger); a deadline is enforced at most
 * this late.
 */
const DEADLINE_SWEEP_MS = 25;

/**
 * The default transport: an undici keep-alive connection pool (one request per connection at a time), or a
 * `ProxyAgent` when `proxy` is given. The request's `deadline` (or, without one, its `signal`) bounds headers and
 * body alike; bodies over 1 MiB are refused (`ENETWORK`).
 * @example new UndiciTransport({ proxy: 'http://127.0.0.1:3128', maxConnections: 64 })
 */
export class UndiciTransport implements HttpTransport {
  /** It rejects by the request's deadline (or signal) itself. */
  readonly enforcesDeadline = true;
  private readonly dispatcher: Dispatcher;
  /** Shared with each request's collector, which reads `closed` and `viaProxy` and leaves `running` when done. */
  private readonly pool: PoolState;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private closing: Promise<void> | undefined;

  /** @throws PusherConfigurationError on an unusable `proxy`, `maxConnections` or `keepAliveTimeoutMs`. */
  constructor(options: UndiciTransportOptions = {}) {
    const connections = options.maxConnections ?? 128;
    if (!Number.isInteger(connections) || connections < 1) {
      throw new PusherConfigurationError(
        `maxConnections must be an integer of at least 1; got ${describeOptionValue(connections)}.`,
        'maxConnections',
      );
    }
    const keepAliveTimeout = options.keepAliveTimeoutMs;
    if (keepAliveTimeout !== undefined && (!Number.isFinite(keepAliveTimeout) || keepAliveTimeout <= 0)) {
      throw new PusherConfigurationError(
        `keepAliveTimeoutMs must be a positive number of milliseconds; got ${describeOptionValue(keepAliveTimeout)}.`,
        'keepAliveTimeoutMs',
      );
    }
    const pool: Agent.Options = { connections, pipelining: 1, maxResponseSize: MAX_RESPONSE_BYTES };
    if (keepAliveTimeout !== undefined) pool.keepAliveTimeout = keepAliveTimeout;

    const proxy = options.proxy;
    if (proxy !== undefined) {
      let url: URL;
      try {
        url = new URL(proxy);
      } catch {
        // The proxy URL may carry credentials: never echo it.
        throw new PusherConfigurationError('proxy must be an absolute http:// or https:// URL such as http://127.0.0.1:3128.', 'proxy');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new PusherConfigurationError(`proxy must use http: or https:, not ${url.protocol}`, 'proxy');
      }
      this.dispatcher = new ProxyAgent({ ...pool, uri: proxy });
    } else {
      this.dispatcher = new Agent(pool);
    }
    this.pool = { closed: false, viaProxy: proxy !== undefined, running: new Set() };
  }

  /** Sends one request and reads the whole body within its deadline (or signal). Rejects {@link HttpTransportError}. */
  request(request: HttpTransportRequest): Promise<HttpTransportResponse> {
    if (this.pool.closed) return Promise.reject(new HttpTransportError('the transport is closed', 'ECLOSED', false));
    return new Promise<HttpTransportResponse>((resolve, reject) => {
      const collector = new ResponseCollector(this.pool, resolve, reject);
      const deadline = request.deadline;
      if (deadline !== undefined) {
        collector.deadline = deadline;
        this.track(collector);
      } else {
        collector.follow(request.signal);
      }
      if (collector.settled) return;
      try {
        this.dispatcher.dispatch(
          {
            origin: request.origin,
            path: request.path,
            method: request.method,
            // ProxyAgent adds a `host` header to the object it gets: hand it a copy, never the caller's.
            headers: this.pool.viaProxy ? { ...request.headers } : request.headers,
            body: request.body ?? null,
          },
          collector,
        );
      } catch (error) {
        collector.onResponseError(undefined, error as Error);
      }
    });
  }

  /** Stops taking requests, lets running ones finish (each bounded by its deadline), then closes the pool. Idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.pool.closed = true;
      this.closing = this.dispatcher.close().then(
        () => undefined,
        () => undefined,
      );
    }
    return this.closing;
  }

  private track(collector: ResponseCollector): void {
    this.pool.running.add(collector);
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(() => this.sweep(), DEADLINE_SWEEP_MS);
      // A pending deadline must not keep the process alive on its own; the request's socket does that.
      this.sweeper.unref();
    }
  }

  private sweep(): void {
    if (this.pool.running.size === 0) {
      // Stopped only once idle for a whole period, so that back-to-back calls do not start and stop it each time.
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      return;
    }
    const now = Date.now();
    for (const collector of this.pool.running) {
      if (collector.deadline <= now) collector.expire();
    }
  }
}

/** What an {@link UndiciTransport} shares with the collectors of its requests. */
interface PoolState {
  closed: boolean;
  readonly viaProxy: boolean;
  /** Requests with a deadline, checked by the sweep. */
  readonly running: Set<ResponseCollector>;
}

/** Collects one response for {@link UndiciTransport} (undici's dispatch handler API: no stream per response). */
class ResponseCollector implements Dispatcher.DispatchHandler {
  deadline = Number.POSITIVE_INFINITY;
  settled = false;
  private controller: Dispatcher.DispatchController | undefined;
  private abortReason: Error | undefined;
  private responded = false;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private chunks: Buffer[] = [];
  private signal: AbortSignal | undefined;
  private onAbort: (() => void) | undefined;

  constructor(
    private readonly pool: PoolState,
    private readonly resolve: (response: HttpTransportResponse) => void,
    private readonly reject: (error: HttpTransportError) => void,
  ) {}

  /** Uses the request's signal as the bound (no deadline was given). */
  follow(signal: AbortSignal): void {
    this.signal = signal;
    if (signal.aborted) {
      this.fail(toHttpTransportError(signal.reason, this.context()));
      return;
    }
    this.onAbort = () => this.abort(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The deadline has passed: reject now, and stop the request (at once, or as soon as it leaves the pool's queue). */
  expire(): void {
    // Still queued in the pool (no controller yet) means the server cannot have seen it.
    this.abort(new HttpTransportError('no complete answer before the deadline', 'ETIMEDOUT', this.controller !== undefined));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason !== undefined) controller.abort(this.abortReason);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.responded = true;
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    const headers: Record<string, string | undefined> = {};
    const received = this.headers;
    for (const name in received) {
      const value = received[name];
      headers[name] = typeof value === 'string' || value === undefined ? value : value.join(', ');
    }
    const chunks = this.chunks;
    const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8');
    this.finish();
    this.resolve({ status: this.status, headers, body });
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.settled) return;
    this.fail(toHttpTransportError(error, this.context()));
  }

  private abort(reason: Error): void {
    if (this.abortReason !== undefined || this.settled) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
    // A request still queued in the pool has no controller yet: answer the caller now all the same.
    this.fail(toHttpTransportError(reason, this.context()));
  }

  private context(): Parameters<typeof toHttpTransportError>[1] {
    return {
      signal: this.signal,
      abortReason: this.abortReason,
      closed: this.pool.closed,
      viaProxy: this.pool.viaProxy,
      responded: this.responded,
      // undici starts a request (onRequestStart) once it has a connected socket, just before writing it.
      requestStarted: this.controller !== undefined,
    };
  }

  private fail(error: HttpTransportError): void {
    if (this.settled) return;
    this.finish();
    this.reject(error);
  }

  private finish(): void {
    this.settled = true;
    this.chunks = [];
    this.pool.running.delete(this);
    // A signal may outlive the request (one shared by many calls): leave no listener holding this collector.
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
  }
}
