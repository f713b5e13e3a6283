import { afterEach, describe, expect, it } from '@jest/globals';
import { createDefaultTransport } from '../../../lib/core/pusher-http-client.js';
import { PusherConfigurationError } from '../../../lib/core/pusher.errors.js';
import { FetchTransport } from '../../../lib/core/transport/fetch.transport.js';
import { UndiciTransport } from '../../../lib/core/transport/undici.transport.js';

/**
 * Which transport the client picks in which runtime. The runtimes themselves run in test/runtimes; here the markers
 * they are told apart by are faked on this Node process, and put back after each test.
 */
const restores: Array<() => void> = [];

function fakeGlobal(target: object, name: string, value: unknown): void {
  const previous = Object.getOwnPropertyDescriptor(target, name);
  Object.defineProperty(target, name, { value, configurable: true, writable: true, enumerable: true });
  restores.push(() => {
    if (previous === undefined) delete (target as Record<string, unknown>)[name];
    else Object.defineProperty(target, name, previous);
  });
}

const asWorker = (): void => fakeGlobal(globalThis, 'navigator', { userAgent: 'Cloudflare-Workers' });
const asBun = (): void => fakeGlobal(process.versions, 'bun', '1.4.4');

afterEach(() => {
  restores
    .splice(0)
    .reverse()
    .forEach((restore) => restore());
});

describe('createDefaultTransport', () => {
  it('picks undici on Node', async () => {
    const transport = createDefaultTransport({});
    expect(transport).toBeInstanceOf(UndiciTransport);
    await transport.close?.();
  });

  it.each([
    ['Cloudflare Workers', asWorker, /Cloudflare Workers/],
    ['Bun', asBun, /Bun replaces undici/],
  ])('picks fetch on %s, refuses UndiciTransport there and says why', async (_runtime, fake, why) => {
    fake();
    const transport = createDefaultTransport({ maxConnections: 4 });
    expect(transport).toBeInstanceOf(FetchTransport);
    await transport.close?.();
    expect(() => new UndiciTransport()).toThrow(PusherConfigurationError);
    expect(() => new UndiciTransport()).toThrow(why);
    expect(() => new UndiciTransport()).toThrow(/Use FetchTransport/);
  });

  it('refuses a proxy where undici does not work, naming the way out', () => {
    asWorker();
    expect(() => createDefaultTransport({ proxy: 'http://127.0.0.1:3128' })).toThrow(PusherConfigurationError);
    expect(() => createDefaultTransport({ proxy: 'http://127.0.0.1:3128' })).toThrow(/FetchTransport\(\{ fetch \}\)/);
  });
});

describe('FetchTransport', () => {
  // Workers' fetch (like browsers') throws "Illegal invocation" when called as a method of any other object.
  const strictFetch = function (this: unknown): Promise<Response> {
    if (this !== undefined && this !== globalThis) return Promise.reject(new TypeError('Illegal invocation'));
    return Promise.resolve(new Response('{}', { status: 200 }));
  } as typeof fetch;

  const request = {
    method: 'POST' as const,
    origin: 'http://127.0.0.1:1',
    path: '/apps/1/events',
    headers: {},
    body: '{}',
    signal: new AbortController().signal,
  };

  it('calls a given fetch as a plain function, never with the transport as `this`', async () => {
    const response = await new FetchTransport({ fetch: strictFetch }).request(request);
    expect(response.status).toBe(200);
  });

  it('calls the global fetch as a plain function, never with the transport as `this`', async () => {
    fakeGlobal(globalThis, 'fetch', strictFetch);
    const response = await new FetchTransport().request(request);
    expect(response.status).toBe(200);
  });
});
