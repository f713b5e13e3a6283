/**
 * Fault injection: every misbehaviour of the API server ends in the documented, typed PusherRequestError within
 * `timeout` plus a small margin, nothing is left unhandled, and the client keeps working afterwards. Both shipped
 * transports run against the same server.
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

// Generous enough for a local answer on a busy 2-core CI machine (other suites run in parallel), small enough to
// keep the stall cases quick.
const TIMEOUT = 1000;
const MARGIN = 1000;

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

async function outcome(promise: Promise<unknown>): Promise<{ error: PusherRequestError; elapsed: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof PusherRequestError)) throw error;
    return { error, elapsed: Date.now() - started };
  }
  throw new Error('expected a PusherRequestError');
}

const transports: Array<[string, () => HttpTransport]> = [
  ['undici', () => new UndiciTransport()],
  ['fetch', () => new FetchTransport()],
];

describe.each(transports)('faults over the %s transport', (_name, makeTransport) => {
  let client: PusherHttpClient;
  const make = (overrides: Partial<PusherHttpClientConfig> = {}): PusherHttpClient =>
    new PusherHttpClient({
      appId: '1',
      key: 'key',
      secret: 'secret',
      // Read when the client is made: each test makes its clients after its own server started.
      origin: overrides.origin ?? server.origin,
      timeout: TIMEOUT,
      retry: false,
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
    ['503', { kind: 'respond', status: 503, body: 'Service Unavailable', headers: { 'Retry-After': '1' } }, { status: 503 }],
    ['429', { kind: 'respond', status: 429, body: '{"error":"Too many requests","code":429}', headers: { 'Retry-After': '2' } }, { status: 429 }],
    ['401 plain text', { kind: 'respond', status: 401, body: 'Invalid signature' }, { status: 401 }],
    ['400 JSON', { kind: 'respond', status: 400, body: '{"error":"Bad channel name","code":400}' }, { status: 400 }],
  ];

  it.each(faults)('%s ends in the typed error within timeout + margin, and the client keeps working', async (_fault, behaviour, expected) => {
    server.queue(behaviour);
    const { error, elapsed } = await outcome(client.request('POST', '/events', { body: '{"name":"e"}' }));
    expect(error.status).toBe(expected.status);
    expect(error.code).toBe(expected.code);
    expect(error.method).toBe('POST');
    expect(error.path).toBe('/apps/1/events');
    expect(elapsed).toBeLessThan(TIMEOUT + MARGIN);
    await expect(client.request('POST', '/events', { body: '{}' })).resolves.toEqual({});
  });

  it('connection refused ends in ECONNREFUSED within timeout + margin', async () => {
    const port = await closedPort();
    const refused = make({ origin: `http://127.0.0.1:${port}` });
    const { error, elapsed } = await outcome(refused.request('POST', '/events', { body: '{}' }));
    expect(error.code).toBe('ECONNREFUSED');
    expect(elapsed).toBeLessThan(TIMEOUT + MARGIN);
    await refused.close();
  });

  it('connection refused is retried (nothing was sent) and still ends in time', async () => {
    const port = await closedPort();
    const logger = capturingLogger();
    const refused = make({ origin: `http://127.0.0.1:${port}`, retry: { minDelayMs: 10, maxDelayMs: 20 }, logger });
    const { error, elapsed } = await outcome(refused.request('POST', '/events', { body: '{}' }));
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.message).toMatch(/after 3 attempts/);
    expect(logger.lines.filter((line) => line.startsWith('warn'))).toHaveLength(2);
    expect(elapsed).toBeLessThan(TIMEOUT + MARGIN);
    await refused.close();
  });

  it('many faults at once all settle, typed, and the client keeps working', async () => {
    const kinds: Behaviour[] = [
      { kind: 'no-headers' },
      { kind: 'stall-body' },
      { kind: 'reset-mid-response' },
      { kind: 'respond', status: 500 },
      { kind: 'invalid-json' },
      { kind: 'respond' },
    ];
    server.setFallback((request) => kinds[Number(new URLSearchParams(request.url.split('?')[1]).get('n')) % kinds.length]!);
    try {
      const started = Date.now();
      const settled = await Promise.allSettled(
        Array.from({ length: 60 }, (_, n) => client.request('POST', '/events', { body: '{}', params: { n: String(n) } })),
      );
      expect(Date.now() - started).toBeLessThan(TIMEOUT + MARGIN + 500);
      for (const result of settled) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(PusherRequestError);
      }
      expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
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
      expect(Date.now() - started).toBeLessThan(100 + 1000);
      await retrying.close();
    });

    it('retries 503 up to the attempt budget', async () => {
      server.clearRequests();
      server.queue({ kind: 'respond', status: 503 }, { kind: 'respond', status: 503 });
      const retrying = make({ timeout: 5000, retry: { minDelayMs: 5, maxDelayMs: 20 } });
      await expect(retrying.request('POST', '/events', { body: '{}' })).resolves.toEqual({});
      expect(server.requests).toHaveLength(3);

      server.clearRequests();
      server.queue({ kind: 'respond', status: 503 }, { kind: 'respond', status: 503 }, { kind: 'respond', status: 503 });
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

    it('never retries past the deadline: a stalled answer ends in ETIMEDOUT within timeout + margin', async () => {
      server.clearRequests();
      server.queue({ kind: 'no-headers' });
      const eager = make({ retry: { attempts: 5, minDelayMs: 1, maxDelayMs: 2, retryTimeouts: true } });
      const { error, elapsed } = await outcome(eager.request('POST', '/events', { body: '{}' }));
      expect(error.code).toBe('ETIMEDOUT');
      expect(elapsed).toBeLessThan(TIMEOUT + MARGIN);
      expect(server.requests).toHaveLength(1);
      await eager.close();
    });
  });
});
