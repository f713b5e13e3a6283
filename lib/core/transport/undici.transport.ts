import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import { PusherConfigurationError } from '../pusher.errors.js';
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
 * The default transport: an undici keep-alive connection pool (one request per connection at a time), or a
 * `ProxyAgent` when `proxy` is given. The request's `signal` bounds headers and body alike; bodies over 1 MiB are
 * refused (`ENETWORK`).
 * @example new UndiciTransport({ proxy: 'http://127.0.0.1:3128', maxConnections: 64 })
 */
export class UndiciTransport implements HttpTransport {
  private readonly dispatcher: Dispatcher;
  private readonly viaProxy: boolean;
  private closed = false;
  private closing: Promise<void> | undefined;

  /** @throws PusherConfigurationError on an unusable `proxy`, `maxConnections` or `keepAliveTimeoutMs`. */
  constructor(options: UndiciTransportOptions = {}) {
    const connections = options.maxConnections ?? 128;
    if (!Number.isInteger(connections) || connections < 1) {
      throw new PusherConfigurationError(
        `maxConnections must be an integer of at least 1; got ${String(connections)}.`,
        'maxConnections',
      );
    }
    const keepAliveTimeout = options.keepAliveTimeoutMs;
    if (keepAliveTimeout !== undefined && (!Number.isFinite(keepAliveTimeout) || keepAliveTimeout <= 0)) {
      throw new PusherConfigurationError(
        `keepAliveTimeoutMs must be a positive number of milliseconds; got ${String(keepAliveTimeout)}.`,
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
      this.viaProxy = true;
    } else {
      this.dispatcher = new Agent(pool);
      this.viaProxy = false;
    }
  }

  /** Sends one request and reads the whole body under the request's signal. Rejects {@link HttpTransportError}. */
  async request(request: HttpTransportRequest): Promise<HttpTransportResponse> {
    if (this.closed) throw new HttpTransportError('the transport is closed', 'ECLOSED', false);
    const signal = request.signal;
    let responded = false;
    try {
      const response = await this.dispatcher.request({
        origin: request.origin,
        path: request.path,
        method: request.method,
        // ProxyAgent adds a `host` header to the object it gets: hand it a copy, never the caller's.
        headers: this.viaProxy ? { ...request.headers } : request.headers,
        body: request.body,
        signal,
      });
      responded = true;
      const body = await response.body.text();
      const headers = response.headers;
      for (const name in headers) {
        const value = headers[name];
        if (typeof value !== 'string' && value !== undefined) headers[name] = value.join(', ');
      }
      return { status: response.statusCode, headers: headers as Record<string, string | undefined>, body };
    } catch (error) {
      throw toHttpTransportError(error, { signal, closed: this.closed, viaProxy: this.viaProxy, responded });
    }
  }

  /** Stops taking requests, lets running ones finish (each bounded by its signal), then closes the pool. Idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closed = true;
      this.closing = this.dispatcher.close().then(
        () => undefined,
        () => undefined,
      );
    }
    return this.closing;
  }
}
