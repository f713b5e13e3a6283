import { brandClass } from '../brand.js';

/** One HTTP request, fully prepared and signed by the client. */
export interface HttpTransportRequest {
  method: 'GET' | 'POST';
  /** `http(s)://host[:port]`, no trailing slash. */
  origin: string;
  /** Path and signed query string, e.g. `/apps/1/events?auth_key=...`. Never log it: it carries the signature. */
  path: string;
  /** Shared between calls by the client: read-only, copy it before adding anything. */
  headers: Record<string, string>;
  body?: string;
  /**
   * Aborted with a {@link TimeoutReason} when the call's time bound is reached, headers and body included. The
   * client creates it on first read: a transport that enforces `deadline` itself need not read it (and saves the
   * AbortController and timer per call).
   */
  readonly signal: AbortSignal;
  /**
   * When the call's time bound is reached, in `Date.now()` milliseconds (set by the client, retries included). A
   * transport may enforce it instead of listening to `signal`; it must then reject with code `ETIMEDOUT` by then.
   */
  deadline?: number;
}

/** The answer, with the body read in full. */
export interface HttpTransportResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string | undefined>;
  body: string;
}

/** Failure classes a transport reports; `requestSent` false means the server cannot have seen the request. */
export class HttpTransportError extends Error {
  static {
    brandClass(this, 'HttpTransportError');
  }
  override name = 'HttpTransportError';
  constructor(
    message: string,
    readonly code: 'ETIMEDOUT' | 'ECONNREFUSED' | 'ECONNRESET' | 'EPROXY' | 'ECLOSED' | 'ENETWORK',
    readonly requestSent: boolean,
  ) {
    super(message);
  }
}

/**
 * The pluggable HTTP backend (the Python library's "backend"). Implement it to route calls through anything;
 * two implementations ship: `UndiciTransport` (default, keep-alive pool, proxy) and `FetchTransport` (global fetch).
 * A transport rejects with {@link HttpTransportError} when no answer came; an answer of any status resolves.
 */
export interface HttpTransport {
  request(request: HttpTransportRequest): Promise<HttpTransportResponse>;
  /**
   * `true` when the transport itself rejects by the request's `deadline` (or when its `signal` aborts). Otherwise
   * the client also races every call against its deadline, so that a transport that hangs cannot hang the caller.
   */
  readonly enforcesDeadline?: boolean;
  /** Releases pooled connections. Must be safe to call twice. */
  close?(): Promise<void>;
}

/**
 * The `reason` a client aborts a request's `signal` with when the call's time bound is reached. Transports report
 * an abort with this reason as `ETIMEDOUT`; any other abort reason is the caller's own business.
 * @example controller.abort(new TimeoutReason(10000))
 */
export class TimeoutReason extends Error {
  static {
    brandClass(this, 'TimeoutReason');
  }
  override name = 'TimeoutReason';
  constructor(
    /** The bound that was reached, in ms. */
    readonly timeoutMs: number,
  ) {
    super(`no complete answer within ${timeoutMs} ms`);
  }
}
