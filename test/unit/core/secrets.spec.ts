/**
 * Secrets: across many failing calls (401 echoing the signature as Pusher's API does, 5xx, timeouts, refused
 * connections, invalid JSON, bodies echoing the signed URL or the secret, proxy failures) no log line, error message or
 * error property (own properties, stack, cause, util.inspect) contains the secret, a signature we sent or
 * `auth_signature=`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import { PusherHttpClient, createDefaultTransport } from '../../../lib/core/pusher-http-client.js';
import { PusherError } from '../../../lib/core/pusher.errors.js';
import { FetchTransport } from '../../../lib/core/transport/fetch.transport.js';
import type { HttpTransport, HttpTransportRequest } from '../../../lib/core/transport/http-transport.js';
import { UndiciTransport } from '../../../lib/core/transport/undici.transport.js';
import {
  capturingLogger,
  closedPort,
  startForwardProxy,
  startMisbehavingServer,
  watchUnhandledRejections,
  type Behaviour,
  type ForwardProxy,
  type MisbehavingServer,
  type RecordedRequest,
} from '../../support/misbehaving-server.js';
import { resolveRetryPolicy } from '../../../lib/core/retry.js';

const SECRET = 'Sup3rS3cretValue-do-not-leak';
const KEY = 'public-key-1';

let server: MisbehavingServer;
let proxy: ForwardProxy;
const rejections = watchUnhandledRejections();

beforeAll(async () => {
  server = await startMisbehavingServer();
  proxy = await startForwardProxy();
});

afterAll(async () => {
  await proxy.close();
  await server.close();
  rejections.stop();
  expect(rejections.seen).toEqual([]);
});

/** Wraps a transport and remembers every signature it was asked to send. */
function recording(inner: HttpTransport, signatures: Set<string>): HttpTransport {
  return {
    request: (request: HttpTransportRequest) => {
      const signature = new URLSearchParams(request.path.split('?')[1]).get('auth_signature');
      if (signature !== null) signatures.add(signature);
      return inner.request(request);
    },
    close: () => inner.close?.() ?? Promise.resolve(),
  };
}

/** Every string reachable from an error: own properties (enumerable or not), stack, cause, and its inspection. */
function textsOf(value: unknown, seen = new Set<unknown>()): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return [String(value)];
  if (seen.has(value)) return [];
  seen.add(value);
  const out: string[] = [];
  if (value instanceof Error) {
    out.push(value.message, value.stack ?? '', String(value), inspect(value, { depth: 6, showHidden: true }));
    if ('cause' in value) out.push(...textsOf((value as { cause?: unknown }).cause, seen));
  }
  for (const name of Object.getOwnPropertyNames(value)) {
    out.push(name, ...textsOf((value as Record<string, unknown>)[name], seen));
  }
  try {
    out.push(JSON.stringify(value));
  } catch {
    // Cyclic: the walk above covered it.
  }
  return out;
}

function signatureOf(request: RecordedRequest): string {
  return new URLSearchParams(request.url.split('?')[1]).get('auth_signature') ?? '';
}

/** Hostile answers: each echoes what the request carried, as real servers and proxies sometimes do. */
function hostile(request: RecordedRequest): Behaviour {
  const n = Number(new URLSearchParams(request.url.split('?')[1]).get('n') ?? '0');
  const signature = signatureOf(request);
  switch (n % 10) {
    case 0:
      // Pusher's own 401 body quotes the string to sign and the signature it received.
      return {
        kind: 'respond',
        status: 401,
        body: `Invalid signature: you should have sent HmacSHA256Hex("POST\\n/apps/1/events\\n${request.url.split('?')[1]}", your_secret_key), but you sent "${signature}"`,
      };
    case 1:
      return { kind: 'respond', status: 500, body: `Internal error while handling ${request.url}` };
    case 2:
      return {
        kind: 'respond',
        status: 400,
        body: JSON.stringify({ error: `bad request ${request.url} key ${SECRET}`, code: 400 }),
      };
    case 3:
      return { kind: 'respond', status: 200, body: `<html>not json ${request.url} ${signature}</html>` };
    case 4:
      return { kind: 'no-headers' };
    case 5:
      return { kind: 'stall-body' };
    case 6:
      return { kind: 'reset-mid-response' };
    case 7:
      return { kind: 'respond', status: 503, body: `overloaded; retry ${signature}`, headers: { 'Retry-After': '0' } };
    case 8:
      return { kind: 'respond', status: 403, body: `Forbidden for auth_signature=${signature}&auth_key=${KEY}` };
    default:
      return { kind: 'oversized', chunked: true };
  }
}

function expectClean(texts: string[], signatures: Set<string>): void {
  expect(signatures.size).toBeGreaterThan(0);
  const forbidden = [SECRET, 'auth_signature=', ...signatures];
  const leaks = texts.filter((text) => forbidden.some((needle) => text.includes(needle)));
  expect(leaks).toEqual([]);
  // The walk really saw the errors' words (a walk that collects nothing would pass trivially).
  expect(texts.some((text) => text.includes('Pusher API'))).toBe(true);
}

describe.each([
  ['undici', () => new UndiciTransport()],
  ['fetch', () => new FetchTransport()],
] as Array<[string, () => HttpTransport]>)('secrets over the %s transport', (_name, makeTransport) => {
  it('no log line, message or error property carries the secret or a signature', async () => {
    const signatures = new Set<string>();
    const logger = capturingLogger();
    // Warm up (fetch loads lazily), so that a slow first call on a busy machine cannot turn every answer into a timeout.
    const warm = new PusherHttpClient({
      appId: '1',
      key: KEY,
      secret: SECRET,
      origin: server.origin,
      timeout: 30_000,
      retry: resolveRetryPolicy(false),
      transport: makeTransport(),
      libraryName: 'nest-pusher test',
    });
    await warm.request('POST', '/events', { body: '{}' });
    await warm.close();
    const client = new PusherHttpClient({
      appId: '1',
      key: KEY,
      secret: SECRET,
      origin: server.origin,
      // Only the stalls should end by the deadline: every other answer must come before it with both cores busy.
      timeout: 8000,
      retry: { attempts: 3, minDelayMs: 1, maxDelayMs: 5, retryServerErrors: true, retryTimeouts: true },
      transport: recording(makeTransport(), signatures),
      logger,
      libraryName: 'nest-pusher test',
    });
    server.setFallback(hostile);
    const errors: unknown[] = [];
    try {
      const settled = await Promise.allSettled(
        Array.from({ length: 60 }, (_, n) =>
          client.request('POST', '/events', { body: '{"name":"e"}', params: { n: String(n) } }),
        ),
      );
      for (const result of settled) {
        expect(result.status).toBe('rejected');
        if (result.status === 'rejected') errors.push(result.reason);
      }
    } finally {
      server.setFallback({ kind: 'respond' });
    }
    for (const error of errors) expect(error).toBeInstanceOf(PusherError);
    // Every kind of failure happened.
    const codes = new Set(
      errors.map((e) => (e as { code?: string; status: number }).code ?? String((e as { status: number }).status)),
    );
    for (const expected of [
      '401',
      '500',
      '400',
      'EINVALIDRESPONSE',
      'ETIMEDOUT',
      'ECONNRESET',
      '503',
      '403',
      'ENETWORK',
    ]) {
      expect(codes).toContain(expected);
    }
    for (const request of server.requests) signatures.add(signatureOf(request));
    signatures.delete('');
    expect(logger.lines.some((line) => line.startsWith('warn'))).toBe(true);
    expect(logger.lines.some((line) => line.startsWith('debug'))).toBe(true);
    expectClean([...logger.lines, ...errors.flatMap((error) => textsOf(error))], signatures);
    await client.close();
  });
});

describe('secrets when nothing answers', () => {
  it('refused connections and proxy failures leak nothing either', async () => {
    const signatures = new Set<string>();
    const logger = capturingLogger();
    const port = await closedPort();
    proxy.refuseWith = 407;
    const clients = [
      new PusherHttpClient({
        appId: '1',
        key: KEY,
        secret: SECRET,
        origin: `http://127.0.0.1:${port}`,
        // A refusal comes at once; the deadline only bounds a machine too busy to deliver it.
        timeout: 10_000,
        retry: resolveRetryPolicy({ minDelayMs: 1, maxDelayMs: 5 }),
        transport: recording(createDefaultTransport({}), signatures),
        logger,
        libraryName: 'nest-pusher test',
      }),
      new PusherHttpClient({
        appId: '1',
        key: KEY,
        secret: SECRET,
        origin: server.origin,
        timeout: 10_000,
        retry: resolveRetryPolicy({ minDelayMs: 1, maxDelayMs: 5 }),
        transport: recording(createDefaultTransport({ proxy: proxy.url }), signatures),
        logger,
        libraryName: 'nest-pusher test',
      }),
      new PusherHttpClient({
        appId: '1',
        key: KEY,
        secret: SECRET,
        origin: `http://127.0.0.1:${port}`,
        timeout: 10_000,
        retry: resolveRetryPolicy(false),
        transport: recording(new FetchTransport(), signatures),
        logger,
        libraryName: 'nest-pusher test',
      }),
    ];
    const errors: unknown[] = [];
    try {
      for (const client of clients) {
        for (let i = 0; i < 5; i++) {
          await client.request('GET', '/channels', { params: { filter_by_prefix: 'presence-' } }).then(
            () => errors.push(new Error('expected a failure')),
            (error: unknown) => errors.push(error),
          );
        }
      }
    } finally {
      proxy.refuseWith = null;
    }
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
      ...Array(5).fill('ECONNREFUSED'),
      ...Array(5).fill('EPROXY'),
      ...Array(5).fill('ECONNREFUSED'),
    ]);
    expectClean([...logger.lines, ...errors.flatMap((error) => textsOf(error))], signatures);
    await Promise.all(clients.map((client) => client.close()));
  });
});
