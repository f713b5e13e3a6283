/**
 * Fault injection: every misbehaviour of the API server ends in the documented, typed PusherRequestError (a stall by
 * the client's own deadline, everything else by what the server did), nothing is left unhandled, and the client keeps
 * working afterwards. Both shipped transports run against the same server. No assertion reads the wall clock against
 * an upper bound: on a busy machine a local answer can take any time, so what ended a call is judged by its code.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { PusherHttpClient, type PusherHttpClientConfig } from '../../../lib/core/pusher-http-client.js';
import { PusherRequestError } from '../../../lib/core/pusher.errors.js';
import { FetchTransport } from '../../../lib/core/transport/fetch.transport.js';
import type { HttpTransport } from '../../../lib/core/transport/http-transport.js';
import { UndiciTransport } from '../../../lib/core/transport/undici.transport.js';
import {
  capturingLogger,
  closedPort,
  startMisbehavingServer,
  watchUnhandledRejections,
  type Behaviour,
  type MisbehavingServer,
} from '../../support/misbehaving-server.js';
import { resolveRetryPolicy, type RetryOptionsOrOff } from '../../../lib/core/retry.js';

// The deadline of every client here: the stall cases wait for it, and every answer that is not a stall must come
// well before it even with both cores busy (other suites and other work run in parallel).
const TIMEOUT = 2500;
const TIMED_OUT = new RegExp(`no complete answer within ${TIMEOUT} ms`);

// A fresh server per test: a request a timed-out test left behind can neither be counted nor consume the next
// test's queued behaviour.
let server: MisbehavingServer;
const rejections = watchUnhandledRejections();

beforeEach(async () => {
  server = await startMisbehavingServer();
});

afterEach(async () => {
  await server.close();
});

afterAll(() => {
  rejections.stop();
  expect(rejections.seen).toEqual([]);
});

async function outcome(promise: Promise<unknown>): Promise<{ error: PusherRequestError }> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof PusherRequestError)) throw error;
    return { error };
  }
  throw new Error('expected a PusherRequestError');
}

const transports: Array<[string, () => HttpTransport]> = [
  ['undici', () => new UndiciTransport()],
  ['fetch', () => new FetchTransport()],
];

/** Client options, with `retry` as a caller gives it. */
type ClientOverrides = Omit<Partial<PusherHttpClientConfig>, 'retry'> & { retry?: RetryOptionsOrOff };

describe.each(transports)('faults over the %s transport', (_name, makeTransport) => {
  let client: PusherHttpClient;
  const make = ({ retry, ...overrides }: ClientOverrides = {}): PusherHttpClient =>
    new PusherHttpClient({
      appId: '1',
      key: 'key',
      secret: 'secret',
      // Read when the client is made: each test makes its clients after its own server started.
      origin: overrides.origin ?? server.origin,
      timeout: TIMEOUT,
      retry: resolveRetryPolicy(retry ?? false),
      transport: makeTransport(),
      libraryName: 'nest-pusher test',
      ...overrides,
    });

  beforeAll(async () => {
    // Warm up (fetch loads lazily) so the first fault is not measured with the start-up.
    const warmServer = await startMisbehavingServer();
    const warm = make({ origin: warmServer.origin });
    await warm.request('POST', '/events', { body: '{}' });
    await warm.close();
    await warmServer.close();
  });
  beforeEach(() => {
    client = make();
  });
  afterEach(async () => {
    await client.close();
  });

  const faults: Array<[string, Behaviour, { status: number; code?: string }]> = [
    ['reset mid-response', { kind: 'reset-mid-response' }, { status: 0, code: 'ECONNRESET' }],
    ['reset before any answer', { kind: 'reset-before-response' }, { status: 0, code: 'ECONNRESET' }],
    ['headers never sent', { kind: 'no-headers' }, { status: 0, code: 'ETIMEDOUT' }],
    ['body stalls', { kind: 'stall-body' }, { status: 0, code: 'ETIMEDOUT' }],
    ['invalid JSON', { kind: 'invalid-json' }, { status: 200, code: 'EINVALIDRESPONSE' }],
    ['oversized body', { kind: 'oversized' }, { status: 0, code: 'ENETWORK' }],
    ['oversized chunked body', { kind: 'oversized', chunked: true }, { status: 0, code: 'ENETWORK' }],
    ['500', { kind: 'respond', status: 500, body: 'Internal Server Error' }, { status: 500 }],
    ['502', { kind: 'respond', status: 502, body: '<html>Bad Gateway</html>' }, { status: 502 }],
    [
      '503',
      { kind: 'respond', status: 503, body: 'Service Unavailable', headers: { 'Retry-After': '1' } },
      { status: 503 },
    ],
    [
      '429',
      {
        kind: 'respond',
        status: 429,
        body: '{"error":"Too many requests","code":429}',
        headers: { 'Retry-After': '2' },
      },
      { status: 429 },
    ],
    ['401 plain text', { kind: 'respond', status: 401, body: 'Invalid signature' }, { status: 401 }],
    ['400 JSON', { kind: 'respond', status: 400, body: '{"error":"Bad channel name","code":400}' }, { status: 400 }],
  ];

  it.each(faults)(
    '%s ends in the typed error (a stall by the deadline), and the client keeps working',
    async (_fault, behaviour, expected) => {
      server.queue(behaviour);
      const { error } = await outcome(client.request('POST', '/events', { body: '{"name":"e"}' }));
      expect(error.status).toBe(expected.status);
      expect(error.code).toBe(expected.code);
      expect(error.method).toBe('POST');
      expect(error.path).toBe('/apps/1/events');
      // Only the stalls end by the deadline; the rest end by what the server did, not by waiting it out.
      if (expected.code === 'ETIMEDOUT') expect(error.message).toMatch(TIMED_OUT);
      else expect(error.message).not.toMatch(TIMED_OUT);
      await expect(client.request('POST', '/events', { body: '{}' })).resolves.toEqual({});
    },
  );

  it('connection refused ends in ECONNREFUSED, not by the deadline', async () => {
    const port = await closedPort();
    const refused = make({ origin: `http://127.0.0.1:${port}` });
    const { error } = await outcome(refused.request('POST', '/events', { body: '{}' }));
    expect(error.code).toBe('ECONNREFUSED');
    await refused.close();
  });

  it('connection refused is retried (nothing was sent) and ends in ECONNREFUSED, not by the deadline', async () => {
    const port = await closedPort();
    const logger = capturingLogger();
    const refused = make({ origin: `http://127.0.0.1:${port}`, retry: { minDelayMs: 10, maxDelayMs: 20 }, logger });
    const { error } = await outcome(refused.request('POST', '/events', { body: '{}' }));
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.message).toMatch(/after 3 attempts/);
    expect(logger.lines.filter((line) => line.startsWith('warn'))).toHaveLength(2);
    await refused.close();
  });

  it('many faults at once all settle, each typed as its own fault, and the client keeps working', async () => {
    const kinds: Array<[Behaviour, { status: number; code?: string } | 'fulfilled']> = [
      [{ kind: 'no-headers' }, { status: 0, code: 'ETIMEDOUT' }],
      [{ kind: 'stall-body' }, { status: 0, code: 'ETIMEDOUT' }],
      [{ kind: 'reset-mid-response' }, { status: 0, code: 'ECONNRESET' }],
      [{ kind: 'respond', status: 500 }, { status: 500 }],
      [{ kind: 'invalid-json' }, { status: 200, code: 'EINVALIDRESPONSE' }],
      [{ kind: 'respond' }, 'fulfilled'],
    ];
    const kindOf = (n: number) => kinds[n % kinds.length]!;
    server.setFallback((request) => kindOf(Number(new URLSearchParams(request.url.split('?')[1]).get('n')))[0]);
    try {
      const settled = await Promise.allSettled(
        Array.from({ length: 60 }, (_, n) =>
          client.request('POST', '/events', { body: '{}', params: { n: String(n) } }),
        ),
      );
      const outcomes = settled.map((result) =>
        result.status === 'fulfilled'
          ? 'fulfilled'
          : result.reason instanceof PusherRequestError
            ? { status: result.reason.status, code: result.reason.code }
            : `not a PusherRequestError: ${String(result.reason)}`,
      );
      expect(outcomes).toEqual(settled.map((_, n) => kindOf(n)[1]));
    } finally {
      server.setFallback({ kind: 'respond' });
    }
    await expect(client.request('POST', '/events', { body: '{}' })).resolves.toEqual({});
  });

  describe('retries', () => {
    it("honours a 429's Retry-After, then succeeds", async () => {
      server.clearRequests();
      server.queue({ kind: 'respond', status: 429, body: 'slow down', headers: { 'Retry-After': '1' } });
      const retrying = make({ timeout: 5000, retry: { maxDelayMs: 1500 } });
      await expect(retrying.request('POST', '/events', { body: '{}' })).resolves.toEqual({});
      expect(server.requests).toHaveLength(2);
      expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(950);
      await retrying.close();
    });

    it('does not retry sooner than Retry-After asks: a wait beyond maxDelayMs ends in the 429 at once', async () => {
      server.clearRequests();
      server.queue({ kind: 'respond', status: 429, body: 'slow down', headers: { 'Retry-After': '30' } });
      const retrying = make({ timeout: 5000, retry: { minDelayMs: 10, maxDelayMs: 100 } });
      const started = Date.now();
      const { error } = await outcome(retrying.request('POST', '/events', { body: '{}' }));
      expect(error.status).toBe(429);
      expect(server.requests).toHaveLength(1);
      // Refused at once rather than after waiting: sooner than the 5000 ms deadline a wait would have run into.
      expect(Date.now() - started).toBeLessThan(5000);
      await retrying.close();
    });

    it('retries 503 up to the attempt budget', async () => {
      server.clearRequests();
      server.queue({ kind: 'respond', status: 503 }, { kind: 'respond', status: 503 });
      const retrying = make({ timeout: 5000, retry: { minDelayMs: 5, maxDelayMs: 20 } });
      await expect(retrying.request('POST', '/events', { body: '{}' })).resolves.toEqual({});
      expect(server.requests).toHaveLength(3);

      server.clearRequests();
      server.queue(
        { kind: 'respond', status: 503 },
        { kind: 'respond', status: 503 },
        { kind: 'respond', status: 503 },
      );
      const { error } = await outcome(retrying.request('POST', '/events', { body: '{}' }));
      expect(error.status).toBe(503);
      expect(server.requests).toHaveLength(3);
      await retrying.close();
    });

    it.each([500, 502, 504])('does not retry %d by default, but does with retryServerErrors', async (status) => {
      server.clearRequests();
      server.queue({ kind: 'respond', status });
      const plain = make({ timeout: 5000, retry: { minDelayMs: 5, maxDelayMs: 20 } });
      const { error } = await outcome(plain.request('POST', '/events', { body: '{}' }));
      expect(error.status).toBe(status);
      expect(server.requests).toHaveLength(1);

      server.clearRequests();
      server.queue({ kind: 'respond', status });
      const optedIn = make({ timeout: 5000, retry: { minDelayMs: 5, maxDelayMs: 20, retryServerErrors: true } });
      await expect(optedIn.request('POST', '/events', { body: '{}' })).resolves.toEqual({});
      expect(server.requests).toHaveLength(2);
      await Promise.all([plain.close(), optedIn.close()]);
    });

    it.each([400, 401, 403, 404, 413])('never retries %d, whatever the options', async (status) => {
      server.clearRequests();
      server.queue({ kind: 'respond', status });
      const eager = make({
        timeout: 5000,
        retry: { attempts: 5, minDelayMs: 1, maxDelayMs: 2, retryServerErrors: true, retryTimeouts: true },
      });
      const { error } = await outcome(eager.request('POST', '/events', { body: '{}' }));
      expect(error.status).toBe(status);
      expect(server.requests).toHaveLength(1);
      await expect(eager.request('POST', '/events', { body: '{}' })).resolves.toEqual({});
      expect(server.requests).toHaveLength(2);
      await eager.close();
    });

    it('does not retry a reset after sending by default, but does with retryTimeouts', async () => {
      server.clearRequests();
      server.queue({ kind: 'reset-mid-response' });
      const plain = make({ timeout: 5000, retry: { minDelayMs: 5, maxDelayMs: 20 } });
      const { error } = await outcome(plain.request('POST', '/events', { body: '{}' }));
      expect(error.code).toBe('ECONNRESET');
      expect(server.requests).toHaveLength(1);

      server.clearRequests();
      server.queue({ kind: 'reset-mid-response' });
      const optedIn = make({ timeout: 5000, retry: { minDelayMs: 5, maxDelayMs: 20, retryTimeouts: true } });
      await expect(optedIn.request('POST', '/events', { body: '{}' })).resolves.toEqual({});
      expect(server.requests).toHaveLength(2);
      await Promise.all([plain.close(), optedIn.close()]);
    });

    it('never retries past the deadline: a stalled answer ends in ETIMEDOUT by the deadline, sent once', async () => {
      server.clearRequests();
      server.queue({ kind: 'no-headers' });
      const eager = make({ retry: { attempts: 5, minDelayMs: 1, maxDelayMs: 2, retryTimeouts: true } });
      const { error } = await outcome(eager.request('POST', '/events', { body: '{}' }));
      expect(error.code).toBe('ETIMEDOUT');
      expect(error.message).toMatch(TIMED_OUT);
      expect(server.requests).toHaveLength(1);
      await eager.close();
    });
  });
});
