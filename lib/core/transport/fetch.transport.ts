import { PusherConfigurationError } from '../pusher.errors.js';
import {
  HttpTransportError,
  type HttpTransport,
  type HttpTransportRequest,
  type HttpTransportResponse,
} from './http-transport.js';
import { MAX_RESPONSE_BYTES, toHttpTransportError } from './transport-errors.js';

/** Options of {@link FetchTransport}. */
export interface FetchTransportOptions {
  /** A fetch implementation; default the global `fetch`. Pass your own to add a proxy or instrumentation. */
  fetch?: typeof fetch;
}

/**
 * A transport over the WHATWG `fetch` (global by default). Redirects are not followed (the signed query must not
 * travel to another host); the body is read under the request's signal and refused once more than 1 MiB of it, decoded, has arrived
 * (`ENETWORK`; a compressed answer is counted after decompression).
 * Connection pooling is the fetch implementation's business; `close()` only stops new requests.
 * @example new Pusher({ appId, key, secret, cluster: 'eu', transport: new FetchTransport() })
 */
export class FetchTransport implements HttpTransport {
  /** It rejects by the request's deadline (or signal) itself. */
  readonly enforcesDeadline = true;
  /** Calls fetch as a plain function: Workers' fetch throws "Illegal invocation" when called as a method of another object. */
  private readonly send: (url: string, init: RequestInit) => Promise<Response>;
  private closed = false;

  /** @throws PusherConfigurationError when no fetch is given and the runtime has none. */
  constructor(options: FetchTransportOptions = {}) {
    const given = options.fetch;
    if (
      given === undefined
        ? typeof (globalThis as { fetch?: unknown }).fetch !== 'function'
        : typeof given !== 'function'
    ) {
      throw new PusherConfigurationError(
        'FetchTransport needs a fetch implementation: this runtime has no global fetch, pass { fetch }.',
        'transport',
      );
    }
    this.send = given === undefined ? (url, init) => globalThis.fetch(url, init) : (url, init) => given(url, init);
  }

  /** Sends one request and reads the whole body under the request's signal. Rejects {@link HttpTransportError}. */
  async request(request: HttpTransportRequest): Promise<HttpTransportResponse> {
    if (this.closed) throw new HttpTransportError('the transport is closed', 'ECLOSED', false);
    const signal = request.signal;
    let responded = false;
    try {
      const init: RequestInit = { method: request.method, headers: request.headers, signal, redirect: 'manual' };
      if (request.body !== undefined) init.body = request.body;
      const response = await this.send(request.origin + request.path, init);
      responded = true;
      const body = await readBounded(response);
      const headers: Record<string, string | undefined> = {};
      response.headers.forEach((value, name) => {
        headers[name] = value;
      });
      return { status: response.status, headers, body };
    } catch (error) {
      throw toHttpTransportError(error, { signal, closed: this.closed, viaProxy: false, responded });
    }
  }

  /** Stops taking requests; running ones finish (each bounded by its signal). Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

const oversized = (): HttpTransportError =>
  new HttpTransportError(`the response body exceeds ${MAX_RESPONSE_BYTES} bytes`, 'ENETWORK', true);

/**
 * Reads the body chunk by chunk and gives up as soon as more than {@link MAX_RESPONSE_BYTES} have arrived. fetch
 * decompresses (it asks for gzip, deflate and br itself), so `content-length` counts compressed bytes and says
 * nothing about what a body expands to: only the decoded bytes, counted while reading, bound the memory (a 255 KiB
 * gzip answer can expand to 256 MiB).
 */
async function readBounded(response: Response): Promise<string> {
  const declared = response.headers.get('content-length');
  if (declared !== null && Number(declared) > MAX_RESPONSE_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw oversized();
  }
  const stream = response.body;
  if (stream === null) return '';
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw oversized();
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}
