import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PusherConfigurationError } from '../../../lib/core/pusher.errors.js';
import { FetchTransport } from '../../../lib/core/transport/fetch.transport.js';
import {
  HttpTransportError,
  TimeoutReason,
  type HttpTransport,
  type HttpTransportRequest,
} from '../../../lib/core/transport/http-transport.js';
import { UndiciTransport } from '../../../lib/core/transport/undici.transport.js';
import {
  closedPort,
  GZIP_BOMB_DECODED_BYTES,
  startMisbehavingServer,
  watchUnhandledRejections,
  type MisbehavingServer,
} from '../../support/misbehaving-server.js';
import { waitFor } from '../../support/wait.js';

const BOUND_MS = 300;
const MARGIN_MS = 1000;

let server: MisbehavingServer;
const rejections = watchUnhandledRejections();

beforeAll(async () => {
  server = await startMisbehavingServer();
});

afterAll(async () => {
  await server.close();
  rejections.stop();
  expect(rejections.seen).toEqual([]);
});

/** A request whose signal aborts with TimeoutReason after `boundMs`, as PusherHttpClient does. */
function timedRequest(
  overrides: Partial<HttpTransportRequest> = {},
  boundMs = 5000,
): HttpTransportRequest & { done(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimeoutReason(boundMs)), boundMs);
  return {
    method: 'POST',
    origin: server.origin,
    path: '/apps/1/events?auth_key=k&auth_signature=0123',
    headers: Object.freeze({ 'Content-Type': 'application/json', 'X-Pusher-Library': 'nest-pusher test' }) as Record<
      string,
      string
    >,
    body: '{"name":"e","channels":["c"],"data":"d"}',
    signal: controller.signal,
    ...overrides,
    done: () => clearTimeout(timer),
  };
}

/** A request bounded by `deadline` only, as PusherHttpClient sends to UndiciTransport; reading its signal fails. */
function deadlineRequest(boundMs: number): HttpTransportRequest {
  return {
    method: 'POST',
    origin: server.origin,
    path: '/apps/1/events?auth_key=k&auth_signature=0123',
    headers: { 'Content-Type': 'application/json' },
    body: '{}',
    deadline: Date.now() + boundMs,
    get signal(): AbortSignal {
      throw new Error('the signal must not be read when a deadline is given');
    },
  };
}

async function failure(
  transport: HttpTransport,
  request: HttpTransportRequest & { done(): void },
): Promise<{
  error: HttpTransportError;
  elapsed: number;
}> {
  const started = Date.now();
  try {
    await transport.request(request);
  } catch (error) {
    if (!(error instanceof HttpTransportError)) throw new Error(`expected HttpTransportError, got ${String(error)}`);
    return { error, elapsed: Date.now() - started };
  } finally {
    request.done();
  }
  throw new Error('expected the request to fail');
}

const transports: Array<[string, () => HttpTransport]> = [
  ['UndiciTransport', () => new UndiciTransport({ maxConnections: 8 })],
  ['FetchTransport', () => new FetchTransport()],
];

describe.each(transports)('%s', (_name, make) => {
  let transport: HttpTransport;
  beforeAll(() => {
    transport = make();
  });
  afterAll(async () => {
    await transport.close?.();
  });

  it('sends method, path, headers and body, and resolves status, lower-cased headers and the whole body', async () => {
    server.clearRequests();
    server.queue({
      kind: 'respond',
      status: 200,
      body: '{"channels":{"a":{"user_count":2}}}',
      headers: { 'X-Extra': 'yes' },
    });
    const request = timedRequest();
    const response = await transport.request(request);
    request.done();
    expect(response.status).toBe(200);
    expect(response.body).toBe('{"channels":{"a":{"user_count":2}}}');
    expect(response.headers['x-extra']).toBe('yes');
    expect(response.headers['content-type']).toBe('application/json');
    const seen = server.requests[0]!;
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/apps/1/events?auth_key=k&auth_signature=0123');
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers['x-pusher-library']).toBe('nest-pusher test');
    expect(seen.body).toBe('{"name":"e","channels":["c"],"data":"d"}');
  });

  it('sends a GET without a body', async () => {
    server.clearRequests();
    const request = timedRequest({ method: 'GET', body: undefined, path: '/apps/1/channels?x=1' });
    const response = await transport.request(request);
    request.done();
    expect(response.status).toBe(200);
    expect(server.requests[0]!.method).toBe('GET');
    expect(server.requests[0]!.body).toBe('');
  });

  it('resolves a non-2xx answer with its status and body', async () => {
    server.queue({ kind: 'respond', status: 503, body: 'Service unavailable', headers: { 'Retry-After': '1' } });
    const request = timedRequest();
    const response = await transport.request(request);
    request.done();
    expect(response.status).toBe(503);
    expect(response.body).toBe('Service unavailable');
    expect(response.headers['retry-after']).toBe('1');
  });

  it('joins a repeated response header with ", " and passes single ones as they are', async () => {
    server.queue({ kind: 'respond', headers: { 'x-repeated': ['a', 'b'], 'x-single': 'c' } });
    const request = timedRequest();
    try {
      const response = await transport.request(request);
      expect(response.headers['x-repeated']).toBe('a, b');
      expect(response.headers['x-single']).toBe('c');
      expect(response.headers['content-type']).toBe('application/json');
    } finally {
      request.done();
    }
  });

  it('reads headers named like Object members as sent, and drops a __proto__ header', async () => {
    server.queue({
      kind: 'respond',
      headers: { constructor: 'c1', toString: 't1', 'X-Mixed-Case': 'm', ['__proto__']: 'p' },
    });
    const request = timedRequest();
    try {
      const response = await transport.request(request);
      expect(response.headers.constructor).toBe('c1');
      expect(response.headers.tostring).toBe('t1');
      expect(response.headers['x-mixed-case']).toBe('m');
      expect(Object.getPrototypeOf(response.headers)).toBe(Object.prototype);
      expect(Object.hasOwn(response.headers, '__proto__')).toBe(false);
    } finally {
      request.done();
    }
  });

  it('reports a refused connection as ECONNREFUSED, not sent', async () => {
    const port = await closedPort();
    const { error, elapsed } = await failure(transport, timedRequest({ origin: `http://127.0.0.1:${port}` }));
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.requestSent).toBe(false);
    expect(elapsed).toBeLessThan(BOUND_MS + MARGIN_MS);
  });

  it('reports headers that never come as ETIMEDOUT once the signal aborts with TimeoutReason', async () => {
    server.queue({ kind: 'no-headers' });
    const { error, elapsed } = await failure(transport, timedRequest({}, BOUND_MS));
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toContain(`${BOUND_MS} ms`);
    expect(elapsed).toBeGreaterThanOrEqual(BOUND_MS - 5);
    expect(elapsed).toBeLessThan(BOUND_MS + MARGIN_MS);
  });

  it('reports a body that stalls after the headers as ETIMEDOUT', async () => {
    server.queue({ kind: 'stall-body' });
    const { error, elapsed } = await failure(transport, timedRequest({}, BOUND_MS));
    expect(error.code).toBe('ETIMEDOUT');
    expect(elapsed).toBeGreaterThanOrEqual(BOUND_MS - 5);
    expect(elapsed).toBeLessThan(BOUND_MS + MARGIN_MS);
  });

  it('reports a connection reset mid-response as ECONNRESET, sent', async () => {
    server.queue({ kind: 'reset-mid-response' });
    const { error, elapsed } = await failure(transport, timedRequest({}, 5000));
    expect(error.code).toBe('ECONNRESET');
    expect(error.requestSent).toBe(true);
    expect(elapsed).toBeLessThan(5000);
  });

  it('reports a connection reset before any answer as ECONNRESET, sent', async () => {
    server.queue({ kind: 'reset-before-response' });
    const { error } = await failure(transport, timedRequest({}, 5000));
    expect(error.code).toBe('ECONNRESET');
    expect(error.requestSent).toBe(true);
  });

  it('refuses a body over 1 MiB announced by content-length', async () => {
    server.queue({ kind: 'oversized' });
    const { error } = await failure(transport, timedRequest({}, 5000));
    expect(error.code).toBe('ENETWORK');
    expect(error.message).toMatch(/exceeds 1048576 bytes/);
  });

  it('refuses a chunked body once it grows over 1 MiB', async () => {
    server.queue({ kind: 'oversized', chunked: true });
    const { error } = await failure(transport, timedRequest({}, 5000));
    expect(error.code).toBe('ENETWORK');
    expect(error.message).toMatch(/exceeds 1048576 bytes/);
  });

  it('never holds more than 1 MiB of a compressed answer once decoded (a 64 KiB gzip body of 64 MiB)', async () => {
    // fetch asks for gzip itself and decompresses; UndiciTransport asks for no encoding and hands the bytes over as
    // sent. Either way what the caller gets (or what was read before refusing) stays within the cap.
    server.queue({ kind: 'gzip-bomb' });
    const request = timedRequest({}, 10_000);
    try {
      const response = await transport.request(request);
      expect(Buffer.byteLength(response.body)).toBeLessThanOrEqual(1024 * 1024);
      expect(transport).toBeInstanceOf(UndiciTransport);
    } catch (error) {
      expect(error).toBeInstanceOf(HttpTransportError);
      expect((error as HttpTransportError).code).toBe('ENETWORK');
      expect((error as HttpTransportError).message).toMatch(/exceeds 1048576 bytes/);
    } finally {
      request.done();
    }
  });

  it('reads a body just under the bound', async () => {
    server.queue({ kind: 'oversized', bytes: 1024 * 1024, chunked: true });
    const request = timedRequest({}, 5000);
    const response = await transport.request(request);
    request.done();
    expect(response.body.length).toBe(1024 * 1024);
  });

  it('reports an abort for another reason than TimeoutReason as ENETWORK, not a timeout', async () => {
    server.queue({ kind: 'no-headers' });
    const controller = new AbortController();
    const request = { ...timedRequest({}, 5000), signal: controller.signal };
    setTimeout(() => controller.abort(new Error('caller gave up')), 50);
    const { error } = await failure(transport, request);
    expect(error.code).toBe('ENETWORK');
    expect(error.message).toMatch(/aborted/);
  });

  it('never puts the path or query in an error message', async () => {
    const port = await closedPort();
    const { error } = await failure(transport, timedRequest({ origin: `http://127.0.0.1:${port}` }));
    expect(error.message).not.toContain('auth_signature');
    expect(error.message).not.toContain('/apps/1/events');
  });

  it('keeps working after every fault', async () => {
    const request = timedRequest();
    const response = await transport.request(request);
    request.done();
    expect(response.status).toBe(200);
  });
});

describe.each(transports)('%s close()', (_name, make) => {
  it('rejects later requests with ECLOSED (not sent) and may be called twice', async () => {
    const transport = make();
    const before = timedRequest();
    expect((await transport.request(before)).status).toBe(200);
    before.done();
    await transport.close?.();
    await transport.close?.();
    const { error } = await failure(transport, timedRequest());
    expect(error.code).toBe('ECLOSED');
    expect(error.requestSent).toBe(false);
  });
});

describe('UndiciTransport pool', () => {
  it('reuses keep-alive connections across sequential calls', async () => {
    const transport = new UndiciTransport();
    const before = server.connections;
    for (let i = 0; i < 200; i++) {
      const request = timedRequest({}, 5000);
      expect((await transport.request(request)).status).toBe(200);
      request.done();
    }
    expect(server.connections - before).toBeLessThanOrEqual(2);
    await transport.close();
  });

  it('opens at most maxConnections connections under concurrency', async () => {
    const transport = new UndiciTransport({ maxConnections: 4 });
    const before = server.connections;
    server.setFallback({ kind: 'respond', delayMs: 5 });
    try {
      const requests = Array.from({ length: 200 }, () => timedRequest({}, 10_000));
      const responses = await Promise.all(requests.map((r) => transport.request(r)));
      requests.forEach((r) => r.done());
      expect(responses.every((r) => r.status === 200)).toBe(true);
      const opened = server.connections - before;
      expect(opened).toBeGreaterThanOrEqual(1);
      expect(opened).toBeLessThanOrEqual(4);
    } finally {
      server.setFallback({ kind: 'respond' });
      await transport.close();
    }
  });

  it('enforces a deadline without reading the signal: stalled headers and stalled body end in ETIMEDOUT', async () => {
    const transport = new UndiciTransport();
    try {
      for (const kind of ['no-headers', 'stall-body'] as const) {
        server.queue({ kind });
        const started = Date.now();
        const request = deadlineRequest(BOUND_MS);
        const error = await transport.request(request).then(
          () => undefined,
          (failure: unknown) => failure,
        );
        const elapsed = Date.now() - started;
        expect(error).toBeInstanceOf(HttpTransportError);
        expect((error as HttpTransportError).code).toBe('ETIMEDOUT');
        expect((error as HttpTransportError).requestSent).toBe(true);
        expect(elapsed).toBeGreaterThanOrEqual(BOUND_MS - 5);
        expect(elapsed).toBeLessThan(BOUND_MS + MARGIN_MS);
      }
      // Answered in time: the deadline changes nothing.
      const ok = await transport.request(deadlineRequest(5000));
      expect(ok.status).toBe(200);
    } finally {
      await transport.close();
    }
  });

  it('expires each stalled request at its own deadline, wherever it sits among the running ones', async () => {
    // Deadlines interleaved so that the first sweep past BOUND_MS expires requests at the head, in the middle and at
    // the tail of the running list while others stay in it.
    const transport = new UndiciTransport();
    server.setFallback({ kind: 'no-headers' });
    try {
      const bounds = [BOUND_MS, 3 * BOUND_MS, BOUND_MS, 3 * BOUND_MS, BOUND_MS];
      const settled: number[] = [];
      const results = await Promise.allSettled(
        bounds.map((bound, index) =>
          transport.request(deadlineRequest(bound)).finally(() => {
            settled.push(index);
          }),
        ),
      );
      expect(
        results.map((result) =>
          result.status === 'rejected' ? (result.reason as HttpTransportError).code : 'fulfilled',
        ),
      ).toEqual(bounds.map(() => 'ETIMEDOUT'));
      // The short deadlines settled first, the long ones were still running then.
      expect(new Set(settled.slice(0, 3))).toEqual(new Set([0, 2, 4]));
      expect(new Set(settled.slice(3))).toEqual(new Set([1, 3]));
    } finally {
      server.setFallback({ kind: 'respond' });
    }
    try {
      const next = await transport.request(deadlineRequest(5000));
      expect(next.status).toBe(200);
    } finally {
      await transport.close();
    }
  });

  it('times out a request still queued behind a stuck connection as not sent, and serves the next ones', async () => {
    const transport = new UndiciTransport({ maxConnections: 1 });
    try {
      server.queue({ kind: 'no-headers' });
      const results = await Promise.allSettled([
        transport.request(deadlineRequest(BOUND_MS)),
        transport.request(deadlineRequest(BOUND_MS)),
      ]);
      const errors = results.map((result) =>
        result.status === 'rejected' ? (result.reason as HttpTransportError) : undefined,
      );
      expect(errors.map((error) => error?.code)).toEqual(['ETIMEDOUT', 'ETIMEDOUT']);
      expect(errors[0]!.requestSent).toBe(true);
      expect(errors[1]!.requestSent).toBe(false);
      const next = await transport.request(deadlineRequest(5000));
      expect(next.status).toBe(200);
    } finally {
      await transport.close();
    }
  });

  it('leaves no abort listener on a signal shared by many requests once they are done', async () => {
    const transport = new UndiciTransport();
    const controller = new AbortController();
    let listeners = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    const remove = controller.signal.removeEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listeners--;
      remove(...args);
    }) as typeof remove;
    try {
      const requests = Array.from({ length: 20 }, () => timedRequest());
      const responses = await Promise.all(
        requests.map((request) => transport.request({ ...request, signal: controller.signal })),
      );
      requests.forEach((request) => request.done());
      expect(responses.every((response) => response.status === 200)).toBe(true);
      expect(listeners).toBe(0);
    } finally {
      await transport.close();
    }
  });

  it('lets a running request finish when closed gracefully', async () => {
    const transport = new UndiciTransport();
    server.queue({ kind: 'respond', delayMs: 1000, body: '{"late":true}' });
    const before = server.requests.length;
    const request = timedRequest({}, 10_000);
    const pending = transport.request(request);
    // Close once the server holds the request (it answers a second later), not after a guessed pause.
    await waitFor(() => server.requests.length > before, { description: 'the server to receive the request' });
    const closing = transport.close();
    const response = await pending;
    request.done();
    await closing;
    expect(response.body).toBe('{"late":true}');
  });

  it('refuses unusable options without echoing a proxy URL', () => {
    expect(() => new UndiciTransport({ maxConnections: 0 })).toThrow(PusherConfigurationError);
    // The same checker, and words, as new Pusher({ maxConnections: 0 }) (pusher.config.spec.ts).
    expect(() => new UndiciTransport({ maxConnections: 0 })).toThrow(
      'Pusher option "maxConnections" must be a positive integer, got 0.',
    );
    expect(() => new UndiciTransport({ maxConnections: 1.5 })).toThrow(PusherConfigurationError);
    expect(() => new UndiciTransport({ keepAliveTimeoutMs: -1 })).toThrow(PusherConfigurationError);
    let error: unknown;
    try {
      new UndiciTransport({ proxy: 'not a url with s3cr3t' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PusherConfigurationError);
    expect((error as Error).message).not.toContain('s3cr3t');
    expect(() => new UndiciTransport({ proxy: 'socks5://127.0.0.1:1080' })).toThrow(PusherConfigurationError);
  });
});

describe('FetchTransport', () => {
  it('uses the fetch it is given', async () => {
    const urls: string[] = [];
    const fake: typeof fetch = async (input) => {
      urls.push(String(input));
      return new Response('{"ok":true}', { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const transport = new FetchTransport({ fetch: fake });
    const request = timedRequest();
    const response = await transport.request(request);
    request.done();
    expect(response.body).toBe('{"ok":true}');
    expect(urls).toEqual([`${server.origin}/apps/1/events?auth_key=k&auth_signature=0123`]);
  });

  it('refuses a gzip bomb after reading at most the cap, decoded (the body is counted after decompression)', async () => {
    // A real server sending 64 KiB of gzip that expands to 64 MiB: content-length (the compressed size) is under the
    // cap, so only counting decoded bytes while reading stops it.
    let decodedBytesRead = 0;
    const counting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const counted = response.body!.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            decodedBytesRead += chunk.byteLength;
            controller.enqueue(chunk);
          },
        }),
      );
      return new Response(counted, { status: response.status, headers: response.headers });
    };
    server.queue({ kind: 'gzip-bomb' });
    const transport = new FetchTransport({ fetch: counting });
    const request = timedRequest({}, 10_000);
    const { error } = await failure(transport, request);
    expect(error.code).toBe('ENETWORK');
    expect(error.message).toMatch(/exceeds 1048576 bytes/);
    // Stopped at the first chunk past the cap, far from the 64 MiB the body expands to.
    expect(decodedBytesRead).toBeGreaterThan(1024 * 1024);
    expect(decodedBytesRead).toBeLessThan(GZIP_BOMB_DECODED_BYTES / 8);
  });

  it('does not follow redirects (the signed query must not travel elsewhere)', async () => {
    server.clearRequests();
    server.queue({ kind: 'respond', status: 302, body: '', headers: { location: '/elsewhere' } });
    const transport = new FetchTransport();
    const request = timedRequest();
    const response = await transport.request(request);
    request.done();
    expect(response.status).toBe(302);
    expect(server.requests).toHaveLength(1);
  });
});
