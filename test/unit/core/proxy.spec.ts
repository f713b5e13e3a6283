import { resolveRetryPolicy } from '../../../lib/core/retry.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PusherHttpClient, createDefaultTransport } from '../../../lib/core/pusher-http-client.js';
import { PusherRequestError } from '../../../lib/core/pusher.errors.js';
import {
  closedPort,
  startForwardProxy,
  startMisbehavingServer,
  watchUnhandledRejections,
  type ForwardProxy,
  type MisbehavingServer,
} from '../../support/misbehaving-server.js';

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

function viaProxy(proxyUrl: string, timeout = 5000): PusherHttpClient {
  return new PusherHttpClient({
    appId: '7',
    key: 'key',
    secret: 'proxy-secret',
    origin: server.origin,
    timeout,
    retry: resolveRetryPolicy(false),
    transport: createDefaultTransport({ proxy: proxyUrl }),
    libraryName: 'nest-pusher test',
  });
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

describe('requests through an HTTP proxy', () => {
  it('reach the server through the proxy, which records the tunnel', async () => {
    server.clearRequests();
    const tunnelsBefore = proxy.tunnels.length;
    const forwardedBefore = proxy.forwarded.length;
    server.queue({ kind: 'respond', body: '{"via":"proxy"}' });
    const client = viaProxy(proxy.url);
    await expect(client.request('POST', '/events', { body: '{"name":"e"}' })).resolves.toEqual({ via: 'proxy' });
    // undici's ProxyAgent tunnels (CONNECT) even to http targets; a forwarded absolute-form request would do too.
    const used = [...proxy.tunnels.slice(tunnelsBefore), ...proxy.forwarded.slice(forwardedBefore)];
    expect(used.length).toBeGreaterThanOrEqual(1);
    expect(used.every((target) => target.includes(`127.0.0.1:${server.port}`))).toBe(true);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.url.startsWith('/apps/7/events?')).toBe(true);
    expect(server.requests[0]!.body).toBe('{"name":"e"}');
    expect(server.requests[0]!.headers['x-pusher-library']).toBe('nest-pusher test');
    await client.close();
  });

  it('keeps the tunnel alive across calls', async () => {
    const client = viaProxy(proxy.url);
    const tunnelsBefore = proxy.tunnels.length;
    for (let i = 0; i < 30; i++) await client.request('GET', '/channels');
    expect(proxy.tunnels.length - tunnelsBefore).toBeLessThanOrEqual(2);
    await client.close();
  });

  it('reports a proxy that refuses the tunnel as EPROXY', async () => {
    proxy.refuseWith = 403;
    try {
      const client = viaProxy(proxy.url);
      const error = await rejection(client.request('POST', '/events', { body: '{}' }));
      expect(error.status).toBe(0);
      expect(error.code).toBe('EPROXY');
      expect(error.message).toMatch(/proxy/);
      expect(error.message).toContain('403');
      await client.close();
    } finally {
      proxy.refuseWith = null;
    }
  });

  it('reports an unreachable proxy as EPROXY, never echoing its credentials', async () => {
    const port = await closedPort();
    const client = viaProxy(`http://user:pa55word@127.0.0.1:${port}`, 1000);
    const started = Date.now();
    const error = await rejection(client.request('POST', '/events', { body: '{}' }));
    expect(Date.now() - started).toBeLessThan(1000 + 500);
    expect(error.code).toBe('EPROXY');
    expect(error.status).toBe(0);
    expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain('pa55word');
    await client.close();
  });

  it('keeps working after the proxy failures', async () => {
    const client = viaProxy(proxy.url);
    await expect(client.request('POST', '/events', { body: '{}' })).resolves.toEqual({});
    await client.close();
  });
});
