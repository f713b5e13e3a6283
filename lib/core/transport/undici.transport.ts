import type { Agent, Dispatcher } from 'undici';
import { DEFAULT_MAX_CONNECTIONS } from '../pusher.config.js';
import { checkPositiveNumber, checkProxyUrl } from '../option-checks.js';
import { PusherConfigurationError } from '../pusher.errors.js';
import {
  HttpTransportError,
  type HttpTransport,
  type HttpTransportRequest,
  type HttpTransportResponse,
} from './http-transport.js';
import { undiciUnavailableReason } from './runtime.js';
import { MAX_RESPONSE_BYTES, toHttpTransportError } from './transport-errors.js';

type UndiciModule = typeof import('undici');
let undiciModule: Promise<UndiciModule> | undefined;

/**
 * undici is imported on first use, not when this module loads: a Worker or Bun bundle of `nest-pusher/core` then
 * loads without evaluating it, and picks the fetch transport instead.
 */
function loadUndici(): Promise<UndiciModule> {
  undiciModule ??= import('undici');
  return undiciModule;
}

/** Options of {@link UndiciTransport}. */
export interface UndiciTransportOptions {
  /** HTTP proxy, e.g. `http://127.0.0.1:3128` (credentials as `http://user:pass@host:port`); https targets tunnel via CONNECT. */
  proxy?: string;
  /** Pooled keep-alive connections per origin. Default 64. */
  maxConnections?: number;
  /** How long an idle pooled connection stays open, in ms (a server's `Keep-Alive` hint may shorten it). Default 4000. */
  keepAliveTimeoutMs?: number;
}

/**
 * Marks options that `resolvePusherConfig` already checked (the default transport the client builds): not exported
 * from the package, so a caller's own `new UndiciTransport(options)` is always checked.
 */
export const CHECKED_OPTIONS: unique symbol = Symbol('options checked by resolvePusherConfig');

/** The checks of a caller's {@link UndiciTransportOptions}: the same checkers, and words, as `new Pusher()`'s. */
function checkUndiciTransportOptions(options: UndiciTransportOptions): void {
  checkPositiveNumber('maxConnections', options.maxConnections, true);
  checkPositiveNumber('keepAliveTimeoutMs', options.keepAliveTimeoutMs);
  checkProxyUrl(options.proxy);
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
  /** Made once undici has loaded (see {@link loadUndici}); until then requests wait for `opening`. */
  private dispatcher: Dispatcher | undefined;
  private readonly opening: Promise<void>;
  /** Shared with each request's collector, which reads `closed` and `viaProxy` and leaves `running` when done. */
  private readonly pool: PoolState;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private closing: Promise<void> | undefined;

  /**
   * @throws PusherConfigurationError on an unusable `proxy`, `maxConnections` or `keepAliveTimeoutMs`, or in a runtime
   * where undici cannot work (Cloudflare Workers, Bun: use {@link FetchTransport}, their default).
   */
  constructor(options: UndiciTransportOptions & { readonly [CHECKED_OPTIONS]?: true } = {}) {
    const unavailable = undiciUnavailableReason();
    if (unavailable !== undefined) {
      throw new PusherConfigurationError(
        `UndiciTransport cannot run here: ${unavailable}. Use FetchTransport, the default transport in this runtime.`,
        'transport',
      );
    }
    if (options[CHECKED_OPTIONS] !== true) checkUndiciTransportOptions(options);
    const connections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    const keepAliveTimeout = options.keepAliveTimeoutMs;
    const pool: Agent.Options = { connections, pipelining: 1, maxResponseSize: MAX_RESPONSE_BYTES };
    if (keepAliveTimeout !== undefined) pool.keepAliveTimeout = keepAliveTimeout;
    const proxy = options.proxy;
    this.pool = { closed: false, viaProxy: proxy !== undefined, running: new RunningRequests() };
    // Started now so that undici is usually loaded before the first request.
    this.opening = loadUndici().then((undici) => {
      this.dispatcher = proxy === undefined ? new undici.Agent(pool) : new undici.ProxyAgent({ ...pool, uri: proxy });
    });
    // A failed load is reported by the requests that wait for it; it must not also surface as unhandled.
    this.opening.catch(() => undefined);
  }

  /** Sends one request and reads the whole body within its deadline (or signal). Rejects {@link HttpTransportError}. */
  request(request: HttpTransportRequest): Promise<HttpTransportResponse> {
    const pool = this.pool;
    if (pool.closed) return Promise.reject(new HttpTransportError('the transport is closed', 'ECLOSED', false));
    const dispatcher = this.dispatcher;
    if (dispatcher === undefined) return this.requestWhenOpen(request);
    return new Promise<HttpTransportResponse>((resolve, reject) => {
      const collector = new ResponseCollector(pool, resolve, reject);
      const deadline = request.deadline;
      if (deadline !== undefined) {
        collector.deadline = deadline;
        pool.running.add(collector);
        if (this.sweeper === undefined) this.startSweeper();
      } else {
        collector.follow(request.signal);
      }
      if (collector.settled) return;
      try {
        dispatcher.dispatch(
          {
            origin: request.origin,
            path: request.path,
            method: request.method,
            // ProxyAgent adds a `host` header to the object it gets: hand it a copy, never the caller's.
            headers: pool.viaProxy ? { ...request.headers } : request.headers,
            body: request.body ?? null,
          },
          collector,
        );
      } catch (error) {
        collector.onError(error as Error);
      }
    });
  }

  /** Stops taking requests, lets running ones finish (each bounded by its deadline), then closes the pool. Idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.pool.closed = true;
      this.closing = this.opening
        .then(
          () => this.dispatcher?.close(),
          () => undefined,
        )
        .then(
          () => undefined,
          () => undefined,
        );
    }
    return this.closing;
  }

  /** The first requests, sent before undici had loaded. */
  private async requestWhenOpen(request: HttpTransportRequest): Promise<HttpTransportResponse> {
    try {
      await this.opening;
    } catch (error) {
      throw new HttpTransportError(
        `the undici pool could not be made (${error instanceof Error ? error.message : String(error)})`,
        'ENETWORK',
        false,
      );
    }
    return this.request(request);
  }

  private startSweeper(): void {
    this.sweeper = setInterval(() => this.sweep(), DEADLINE_SWEEP_MS);
    // A pending deadline must not keep the process alive on its own; the request's socket does that.
    this.sweeper.unref();
  }

  private sweep(): void {
    const running = this.pool.running;
    if (running.isEmpty()) {
      // Stopped only once idle for a whole period, so that back-to-back calls do not start and stop it each time.
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      return;
    }
    running.expireDue(Date.now());
  }
}

/** What an {@link UndiciTransport} shares with the collectors of its requests. */
interface PoolState {
  closed: boolean;
  readonly viaProxy: boolean;
  /** Requests with a deadline, checked by the sweep. */
  readonly running: RunningRequests;
}

/**
 * The requests a deadline sweep checks: an intrusive doubly linked list (each collector carries its own links), so
 * that adding and removing are O(1) and nothing in old space points at a finished request. It replaces a `Set`,
 * whose long-lived hash table sits in old space: a scavenge treats every old-to-young reference as live, and with
 * the `Set` the client sometimes settled in a state where finished requests were promoted by the megabyte (about
 * 2.5 MB per scavenge at 64 calls in flight, against 0.1 MB for raw undici; see bench/README.md).
 */
class RunningRequests {
  private head: ResponseCollector | undefined;

  isEmpty(): boolean {
    return this.head === undefined;
  }

  add(collector: ResponseCollector): void {
    const head = this.head;
    collector.next = head;
    if (head !== undefined) head.previous = collector;
    this.head = collector;
    collector.listed = true;
  }

  remove(collector: ResponseCollector): void {
    if (!collector.listed) return;
    const { previous, next } = collector;
    if (previous === undefined) this.head = next;
    else previous.next = next;
    if (next !== undefined) next.previous = previous;
    collector.previous = undefined;
    collector.next = undefined;
    collector.listed = false;
  }

  /** Expires every request whose deadline is at or before `now` (expiring removes it from the list). */
  expireDue(now: number): void {
    let collector = this.head;
    while (collector !== undefined) {
      const next = collector.next;
      if (collector.deadline <= now) collector.expire();
      collector = next;
    }
  }
}

/**
 * Collects one response for {@link UndiciTransport} through undici's dispatch handler API: no stream per response.
 * The callbacks are the ones undici's own client calls (`onConnect`, `onHeaders`, `onData`, `onComplete`,
 * `onError`; undici 7 marks them deprecated in favour of `onRequestStart`/`onResponse*`). A handler with the newer
 * callbacks is wrapped per request in two more objects, and its headers and trailers are parsed into objects the
 * transport would copy again; this one reads the raw header list once. undici is pinned, and the transport's tests
 * run against it.
 */
class ResponseCollector implements Dispatcher.DispatchHandler {
  deadline = Number.POSITIVE_INFINITY;
  settled = false;
  /** Links of {@link RunningRequests}; set only while listed. */
  previous: ResponseCollector | undefined = undefined;
  next: ResponseCollector | undefined = undefined;
  listed = false;
  /** undici's abort of this request, once it is on a connected socket. */
  private abortRequest: ((reason?: Error) => void) | undefined;
  private abortReason: Error | undefined;
  private responded = false;
  private status = 0;
  private rawHeaders: ReadonlyArray<Buffer | string> | null = null;
  private chunks: Buffer[] = [];
  private signal: AbortSignal | undefined;
  private onAbort: (() => void) | undefined;

  constructor(
    private readonly pool: PoolState,
    private resolve: (response: HttpTransportResponse) => void,
    private reject: (error: HttpTransportError) => void,
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
    // Still queued in the pool (not on a connected socket yet) means the server cannot have seen it.
    this.abort(
      new HttpTransportError('no complete answer before the deadline', 'ETIMEDOUT', this.abortRequest !== undefined),
    );
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.abortRequest = abort;
    if (this.abortReason !== undefined) abort(this.abortReason);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null): boolean {
    this.responded = true;
    this.status = statusCode;
    this.rawHeaders = rawHeaders;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (!this.settled) this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.settled) return;
    const headers = headersOf(this.rawHeaders);
    const chunks = this.chunks;
    const body =
      chunks.length === 1
        ? chunks[0]!.toString('utf8')
        : chunks.length === 0
          ? ''
          : Buffer.concat(chunks).toString('utf8');
    const resolve = this.resolve;
    this.finish();
    resolve({ status: this.status, headers, body });
  }

  onError(error: Error): void {
    if (this.settled) return;
    this.fail(toHttpTransportError(error, this.context()));
  }

  private abort(reason: Error): void {
    if (this.abortReason !== undefined || this.settled) return;
    this.abortReason = reason;
    this.abortRequest?.(reason);
    // A request still queued in the pool cannot be aborted by undici yet: answer the caller now all the same.
    this.fail(toHttpTransportError(reason, this.context()));
  }

  private context(): Parameters<typeof toHttpTransportError>[1] {
    return {
      signal: this.signal,
      abortReason: this.abortReason,
      closed: this.pool.closed,
      viaProxy: this.pool.viaProxy,
      responded: this.responded,
      // undici starts a request (onConnect) once it has a connected socket, just before writing it.
      requestStarted: this.abortRequest !== undefined,
    };
  }

  private fail(error: HttpTransportError): void {
    if (this.settled) return;
    const reject = this.reject;
    this.finish();
    reject(error);
  }

  /**
   * Leaves the sweep's list and drops what the collector references. undici may hold a finished handler a little
   * longer, and a collector that reached old space would otherwise keep its promise, chunks and headers alive through
   * every scavenge until the next full GC.
   */
  private finish(): void {
    this.settled = true;
    this.pool.running.remove(this);
    this.resolve = settledAlready;
    this.reject = settledAlready;
    this.chunks = NO_CHUNKS;
    this.rawHeaders = null;
    this.abortRequest = undefined;
    // A signal may outlive the request (one shared by many calls): leave no listener holding this collector.
    if (this.onAbort !== undefined) {
      this.signal?.removeEventListener('abort', this.onAbort);
      this.onAbort = undefined;
    }
  }
}

/** A settled collector's chunks: never written to (`onData` checks `settled` first). */
const NO_CHUNKS: Buffer[] = [];

/**
 * The response headers from undici's raw list (name, value, name, value, ...), names in lower case, repeated ones
 * joined by ", ". A null prototype would make the object slow; instead `__proto__` is skipped (no API answer needs
 * it) and only own properties count as seen, so that `constructor` or `toString` headers come out as sent.
 */
function headersOf(raw: ReadonlyArray<Buffer | string> | null): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  if (raw === null) return headers;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index]!.toString('latin1').toLowerCase();
    if (name === '__proto__') continue;
    const value = raw[index + 1]!.toString('latin1');
    headers[name] = Object.hasOwn(headers, name) ? `${headers[name]}, ${value}` : value;
  }
  return headers;
}

/** What a settled collector's resolve and reject become. */
function settledAlready(): void {}
