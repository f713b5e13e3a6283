import { resolveRetryPolicy, type RetryOptionsOrOff } from '../../../lib/core/retry.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import {
  PusherHttpClient,
  createDefaultTransport,
  type PusherHttpClientConfig,
} from '../../../lib/core/pusher-http-client.js';
import { PusherRequestError, PusherValidationError } from '../../../lib/core/pusher.errors.js';
import {
  HttpTransportError,
  type HttpTransport,
  type HttpTransportRequest,
  type HttpTransportResponse,
} from '../../../lib/core/transport/http-transport.js';
import { UndiciTransport } from '../../../lib/core/transport/undici.transport.js';
import {
  capturingLogger,
  closedPort,
  startMisbehavingServer,
  watchUnhandledRejections,
  type MisbehavingServer,
} from '../../support/misbehaving-server.js';

const SECRET = '7ad3773142a6692b25b8';
const KEY = '278d425bdf160c739803';

let server: MisbehavingServer;
const rejections = watchUnhandledRejections();
const clients: PusherHttpClient[] = [];

beforeAll(async () => {
  server = await startMisbehavingServer();
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await server.close();
  rejections.stop();
  expect(rejections.seen).toEqual([]);
});

function client({ retry, ...overrides }: ClientOverrides = {}): PusherHttpClient {
  const made = new PusherHttpClient({
    appId: '3',
    key: KEY,
    secret: SECRET,
    origin: server.origin,
    timeout: 5000,
    retry: resolveRetryPolicy(retry ?? false),
    transport: new UndiciTransport(),
    libraryName: 'nest-pusher 0.1.0',
    ...overrides,
  });
  clients.push(made);
  return made;
}

/** Checks a received query against the protocol page's signing rules, independently of lib/core/signing.ts. */
function expectValidSignature(method: string, url: string, body: string | undefined): URLSearchParams {
  const [path, query] = url.split('?') as [string, string];
  const params = new URLSearchParams(query);
  const signature = params.get('auth_signature');
  params.delete('auth_signature');
  const toSign = [...params.entries()]
    .map(([k, v]) => [k.toLowerCase(), v] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  expect(params.get('auth_key')).toBe(KEY);
  expect(params.get('auth_version')).toBe('1.0');
  if (body !== undefined) expect(params.get('body_md5')).toBe(createHash('md5').update(body).digest('hex'));
  else expect(params.has('body_md5')).toBe(false);
  expect(signature).toBe(createHmac('sha256', SECRET).update(`${method}\n${path}\n${toSign}`).digest('hex'));
  return params;
}

async function rejection(promise: Promise<unknown>): Promise<PusherRequestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PusherRequestError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

/** Client options, with `retry` as a caller gives it. */
type ClientOverrides = Omit<Partial<PusherHttpClientConfig>, 'retry'> & { retry?: RetryOptionsOrOff };

describe('PusherHttpClient requests', () => {
  it('signs a POST, sends the library header and JSON content type, and parses the answer', async () => {
    server.clearRequests();
    server.queue({ kind: 'respond', body: '{"channels":{"project-3":{"user_count":1}}}' });
    const body = '{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}';
    const result = await client({ now: () => 1353088179_000 }).request<{ channels: unknown }>('POST', '/events', {
      body,
    });
    expect(result).toEqual({ channels: { 'project-3': { user_count: 1 } } });
    const seen = server.requests[0]!;
    expect(seen.method).toBe('POST');
    expect(seen.url.startsWith('/apps/3/events?')).toBe(true);
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers['x-pusher-library']).toBe('nest-pusher 0.1.0');
    expect(seen.body).toBe(body);
    const params = expectValidSignature('POST', seen.url, body);
    expect(params.get('auth_timestamp')).toBe('1353088179');
    // The protocol page's worked example.
    expect(new URLSearchParams(seen.url.split('?')[1]).get('auth_signature')).toBe(
      'da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c',
    );
  });

  it('signs a GET with params and sends no content type', async () => {
    server.clearRequests();
    server.queue({ kind: 'respond', body: '{"channels":{}}' });
    await client().request('GET', '/channels', { params: { filter_by_prefix: 'presence-', info: 'user_count' } });
    const seen = server.requests[0]!;
    expect(seen.method).toBe('GET');
    expect(seen.headers['content-type']).toBeUndefined();
    const params = expectValidSignature('GET', seen.url, undefined);
    expect(params.get('filter_by_prefix')).toBe('presence-');
    expect(params.get('info')).toBe('user_count');
  });

  it('resolves {} for an empty 2xx body', async () => {
    server.queue({ kind: 'respond', status: 200, body: '' });
    await expect(client().request('POST', '/events', { body: '{}' })).resolves.toEqual({});
  });

  it('rejects (never throws) when params collide with protocol fields', async () => {
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = client().request('GET', '/channels', { params: { auth_key: 'forged' } });
    }).not.toThrow();
    await expect(promise).rejects.toBeInstanceOf(PusherValidationError);
  });

  it('rejects a 2xx body that is not JSON with EINVALIDRESPONSE', async () => {
    server.queue({ kind: 'invalid-json' });
    const error = await rejection(client().request('POST', '/events', { body: '{}' }));
    expect(error.code).toBe('EINVALIDRESPONSE');
    expect(error.status).toBe(200);
    expect(error.path).toBe('/apps/3/events');
    expect(error.body).toContain('<html>');
    expect(error.message).toMatch(/not JSON/);
  });

  it('uses a fresh timestamp for every attempt', async () => {
    const seen: string[] = [];
    let calls = 0;
    const transport: HttpTransport = {
      request: async (request: HttpTransportRequest): Promise<HttpTransportResponse> => {
        seen.push(new URLSearchParams(request.path.split('?')[1]).get('auth_timestamp')!);
        calls++;
        return calls === 1 ? { status: 503, headers: {}, body: 'busy' } : { status: 200, headers: {}, body: '{}' };
      },
    };
    let clock = 1_700_000_000_000;
    const stepping = client({
      transport,
      retry: { minDelayMs: 1, maxDelayMs: 2 },
      now: () => (clock += 1500),
      timeout: 60_000,
    });
    await stepping.request('POST', '/events', { body: '{}' });
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
  });

  it('counts calls in flight', async () => {
    server.queue({ kind: 'respond', delayMs: 100 });
    const c = client();
    expect(c.inFlight).toBe(0);
    const pending = c.request('POST', '/events', { body: '{}' });
    expect(c.inFlight).toBe(1);
    await pending;
    expect(c.inFlight).toBe(0);
  });
});

describe('PusherHttpClient error mapping', () => {
  const cases: Array<[number, string, RegExp]> = [
    [400, 'Batch too large (11 > 10)', /answered 400 with "Batch too large \(11 > 10\)".*fix the call/],
    [401, 'Auth signature invalid', /answered 401 .*app key\/secret.*clock is within 600 s/],
    [403, 'Application disabled', /answered 403 .*disabled or over its quota/],
    [404, 'Unknown app', /answered 404 .*appId and the host\/cluster/],
    [413, 'Request Entity Too Large', /answered 413 .*too large.*maxPayloadBytes/],
    [429, 'Too many requests', /answered 429 .*rate limited/],
    [500, 'Internal error', /answered 500 .*server error.*retryServerErrors/],
  ];

  it.each(cases)(
    'maps %d to an actionable PusherRequestError with the server words',
    async (status, words, pattern) => {
      server.queue({ kind: 'respond', status, body: words });
      const error = await rejection(client().request('POST', '/events', { body: '{}' }));
      expect(error).toBeInstanceOf(PusherRequestError);
      expect(error.status).toBe(status);
      expect(error.method).toBe('POST');
      expect(error.path).toBe('/apps/3/events');
      expect(error.body).toBe(words);
      expect(error.code).toBeUndefined();
      expect(error.message).toMatch(pattern);
      expect(error.message).toContain(words);
    },
  );

  it("quotes soketi's JSON error text rather than the raw JSON", async () => {
    server.queue({
      kind: 'respond',
      status: 400,
      body: '{"error":"The data content of this event exceeds the allowed maximum (10240 bytes).","code":400}',
    });
    const error = await rejection(client().request('POST', '/events', { body: '{}' }));
    expect(error.message).toContain('"The data content of this event exceeds the allowed maximum (10240 bytes)."');
    expect(error.body).toContain('"code":400');
  });

  it('treats soketi\'s 200 {"error", "code"} answer as that status, and leaves other 2xx JSON alone', async () => {
    server.queue({ kind: 'respond', status: 200, body: '{"error":"The auth signature is invalid.","code":401}' });
    const error = await rejection(client().request('POST', '/events', { body: '{}' }));
    expect(error.status).toBe(401);
    expect(error.message).toContain('"The auth signature is invalid."');
    expect(error.message).toMatch(/clock/);
    // Not an error shape: a code outside 4xx/5xx, or no error text.
    server.queue({ kind: 'respond', status: 200, body: '{"error":"x","code":200}' });
    await expect(client().request('POST', '/events', { body: '{}' })).resolves.toEqual({ error: 'x', code: 200 });
    server.queue({ kind: 'respond', status: 200, body: '{"code":500}' });
    await expect(client().request('POST', '/events', { body: '{}' })).resolves.toEqual({ code: 500 });
  });

  it('truncates a long error body to 2 KB', async () => {
    server.queue({ kind: 'respond', status: 400, body: 'x'.repeat(10_000) });
    const error = await rejection(client().request('POST', '/events', { body: '{}' }));
    expect(error.body.length).toBe(2048);
    expect(error.message.length).toBeLessThan(1000);
  });

  it('reports a refused connection with status 0, ECONNREFUSED and what to check', async () => {
    const port = await closedPort();
    const error = await rejection(
      client({ origin: `http://127.0.0.1:${port}` }).request('POST', '/events', { body: '{}' }),
    );
    expect(error.status).toBe(0);
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.body).toBe('');
    expect(error.message).toMatch(/connection refused by http:\/\/127\.0\.0\.1:\d+: check host, port and useTLS/);
  });

  it('reports a missing answer within timeout as ETIMEDOUT within the bound', async () => {
    server.queue({ kind: 'no-headers' });
    const started = Date.now();
    const error = await rejection(client({ timeout: 300 }).request('POST', '/events', { body: '{}' }));
    const elapsed = Date.now() - started;
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.status).toBe(0);
    expect(error.message).toContain('no complete answer within 300 ms');
    expect(elapsed).toBeGreaterThanOrEqual(295);
    expect(elapsed).toBeLessThan(300 + 1000);
  });

  it('bounds a custom transport that never answers by timeout (the client races it), with nothing left unhandled', async () => {
    const hanging: HttpTransport = { request: () => new Promise<HttpTransportResponse>(() => {}) };
    // Nothing but the client's deadline can end this call: the message says that is what did.
    const error = await rejection(
      client({ transport: hanging, timeout: 300 }).request('POST', '/events', { body: '{}' }),
    );
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toContain('within 300 ms');
    // One that answers late: the caller already has its timeout, the late answer is ignored.
    let rejectedLate!: () => void;
    const lateRejection = new Promise<void>((resolve) => (rejectedLate = resolve));
    const late: HttpTransport = {
      request: () =>
        new Promise<HttpTransportResponse>((_resolve, reject) =>
          setTimeout(() => {
            reject(new Error('late'));
            rejectedLate();
          }, 400),
        ),
    };
    await expect(
      client({ transport: late, timeout: 100 }).request('POST', '/events', { body: '{}' }),
    ).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    // Wait for the late rejection itself (and one turn for an unhandled-rejection report), not a guessed pause.
    await lateRejection;
    await new Promise((resolve) => setImmediate(resolve));
  });

  it('maps a transport that rejects with a plain error to ENETWORK, without leaking the query', async () => {
    const transport: HttpTransport = {
      request: async (request) => {
        throw new Error(`boom while calling ${request.origin}${request.path}`);
      },
    };
    const error = await rejection(client({ transport }).request('POST', '/events', { body: '{}' }));
    expect(error.code).toBe('ENETWORK');
    expect(error.message).toContain('boom');
    expect(error.message).not.toContain('auth_signature');
    expect(error.message).not.toContain('auth_key=');
  });

  it('keeps the code of a transport HttpTransportError', async () => {
    const transport: HttpTransport = {
      request: async () => {
        throw new HttpTransportError('the proxy refused the tunnel with status 403', 'EPROXY', false);
      },
    };
    const error = await rejection(client({ transport, retry: false }).request('POST', '/events', { body: '{}' }));
    expect(error.code).toBe('EPROXY');
    expect(error.message).toMatch(/proxy/);
  });
});

describe('PusherHttpClient logging', () => {
  it('writes one debug line per call: method, path without query, status, ms', async () => {
    const logger = capturingLogger();
    const c = client({ logger });
    await c.request('POST', '/events', { body: '{}' });
    server.queue({ kind: 'respond', status: 404, body: 'Unknown app' });
    await rejection(c.request('GET', '/channels', { params: { filter_by_prefix: 'x' } }));
    expect(logger.lines).toHaveLength(2);
    expect(logger.lines[0]).toMatch(/^debug POST \/apps\/3\/events 200 \d+ms$/);
    expect(logger.lines[1]).toMatch(/^debug GET \/apps\/3\/channels 404 \d+ms$/);
  });

  it('writes the debug line for a 2xx answer that is not JSON too', async () => {
    const logger = capturingLogger();
    server.queue({ kind: 'invalid-json' });
    await rejection(client({ logger }).request('POST', '/events', { body: '{}' }));
    expect(logger.lines).toEqual([expect.stringMatching(/^debug POST \/apps\/3\/events 200 EINVALIDRESPONSE \d+ms$/)]);
  });

  it('writes a warn line per retry', async () => {
    const logger = capturingLogger();
    server.queue({ kind: 'respond', status: 503, body: 'busy' }, { kind: 'respond', status: 503, body: 'busy' });
    await client({ logger, retry: { minDelayMs: 1, maxDelayMs: 5 } }).request('POST', '/events', { body: '{}' });
    expect(logger.lines.filter((l) => l.startsWith('warn '))).toHaveLength(2);
    expect(logger.lines[0]).toMatch(/^warn POST \/apps\/3\/events 503; retry 1 of 2 in \d+ms$/);
    expect(logger.lines.at(-1)).toMatch(/^debug POST \/apps\/3\/events 200 \d+ms$/);
  });

  it('survives a logger that throws', async () => {
    const logger = {
      debug: () => {
        throw new Error('logger down');
      },
    };
    await expect(client({ logger }).request('POST', '/events', { body: '{}' })).resolves.toEqual({});
  });
});

describe('PusherHttpClient deadline', () => {
  it('does not start a retry that cannot fit before the deadline', async () => {
    server.clearRequests();
    server.queue({ kind: 'respond', status: 503, body: 'busy', headers: { 'Retry-After': '5' } });
    const started = Date.now();
    const error = await rejection(
      client({ timeout: 1000, retry: { maxDelayMs: 5000 } }).request('POST', '/events', { body: '{}' }),
    );
    expect(error.status).toBe(503);
    expect(server.requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('bounds retries and waits by one timeout for the whole call', async () => {
    server.setFallback({ kind: 'respond', status: 503, body: 'busy' });
    try {
      const started = Date.now();
      const error = await rejection(
        client({ timeout: 600, retry: { attempts: 100, minDelayMs: 50, maxDelayMs: 100 } }).request('POST', '/events', {
          body: '{}',
        }),
      );
      expect(error.status).toBe(503);
      expect(error.message).toMatch(/after \d+ attempts/);
      expect(Date.now() - started).toBeLessThan(600 + 1000);
    } finally {
      server.setFallback({ kind: 'respond' });
    }
  });
});

describe('PusherHttpClient close()', () => {
  it('waits for calls in flight, then closes the transport; later calls reject ECLOSED; idempotent', async () => {
    let transportClosed = 0;
    const inner = new UndiciTransport();
    const transport: HttpTransport = {
      request: (request) => inner.request(request),
      close: async () => {
        transportClosed++;
        await inner.close();
      },
    };
    const c = client({ transport });
    server.queue({ kind: 'respond', delayMs: 150, body: '{"slow":true}' });
    const pending = c.request('POST', '/events', { body: '{}' });
    const closing = c.close();
    expect(c.close()).toBe(closing);
    const late = await rejection(c.request('POST', '/events', { body: '{}' }));
    expect(late.code).toBe('ECLOSED');
    expect(late.status).toBe(0);
    expect(transportClosed).toBe(0);
    await expect(pending).resolves.toEqual({ slow: true });
    await closing;
    expect(transportClosed).toBe(1);
    expect(c.inFlight).toBe(0);
    await c.close();
    expect(transportClosed).toBe(1);
  });

  it('closes at once when nothing is in flight', async () => {
    const c = client();
    await expect(c.close()).resolves.toBeUndefined();
  });
});

describe('createDefaultTransport', () => {
  it('returns an UndiciTransport', async () => {
    const transport = createDefaultTransport({ maxConnections: 2 });
    expect(transport).toBeInstanceOf(UndiciTransport);
    await transport.close?.();
  });
});
