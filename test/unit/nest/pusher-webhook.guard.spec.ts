import './support/nest-app.js';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import {
  type PusherModuleOptions,
  PusherService,
  type PusherWebhookHttpRequest,
  PusherWebhookGuard,
  PusherWebhookRejectedException,
} from 'nest-pusher';
import { PUSHER_VERIFIED_WEBHOOK } from '../../../lib/pusher.constants.js';
import { APP, captureLogs, type CapturedLogs, hmacHex, signedWebhook } from './support/nest-app.js';

const PAYLOAD = { time_ms: Date.now(), events: [{ name: 'channel_occupied', channel: 'private-a' }] };

function contextFor(request: PusherWebhookHttpRequest): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

/** A request as Express or Fastify hands it over after Nest's JSON parser with `rawBody: true`. */
function requestOf(body: string, headers: Record<string, string>): PusherWebhookHttpRequest & { body: unknown } {
  return { headers, rawBody: Buffer.from(body, 'utf8'), body: JSON.parse(body) };
}

let logs: CapturedLogs;
const services: PusherService[] = [];
function guardWith(options: Partial<PusherModuleOptions> = {}): PusherWebhookGuard {
  const service = new PusherService({ ...APP, ...options });
  services.push(service);
  return new PusherWebhookGuard(service);
}
beforeEach(() => {
  logs = captureLogs();
});
afterEach(async () => {
  logs.restore();
  await Promise.all(services.splice(0).map((service) => service.close()));
});

function rejection(run: () => unknown): PusherWebhookRejectedException {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PusherWebhookRejectedException);
    return error as PusherWebhookRejectedException;
  }
  throw new Error('the guard let the request through');
}

function expectNoSecretsLogged(signature?: string): void {
  for (const line of logs.lines()) {
    expect(line).not.toContain(APP.secret);
    if (signature) expect(line).not.toContain(signature);
  }
}

describe('PusherWebhookGuard', () => {
  it('lets an authentic webhook through and leaves the verified payload on the request', () => {
    const { body, headers } = signedWebhook(PAYLOAD);
    const request = requestOf(body, headers);
    expect(guardWith().canActivate(contextFor(request))).toBe(true);
    expect(request[PUSHER_VERIFIED_WEBHOOK]).toEqual(PAYLOAD);
  });

  it('accepts the raw body as a string too', () => {
    const { body, headers } = signedWebhook(PAYLOAD);
    const request: PusherWebhookHttpRequest = { headers, rawBody: body };
    expect(guardWith().canActivate(contextFor(request))).toBe(true);
  });

  it("verifies the protocol document's vector (secret tofu, key 123456789)", () => {
    const body = '{"time_ms":1403175510755,"events":[{"channel":"test_channel","name":"channel_vacated"}]}';
    const request = requestOf(body, {
      'x-pusher-key': '123456789',
      'x-pusher-signature': 'c17257e92037cd7de407ebc1ed174ceb7b2e518db127f44411b9ffc4f5b28cc5',
    });
    expect(
      guardWith({ key: '123456789', secret: 'tofu', webhookMaxAgeMs: false }).canActivate(contextFor(request)),
    ).toBe(true);
  });

  it('refuses a forged webhook (signed with another secret) with 401', () => {
    const { body, headers } = signedWebhook(PAYLOAD, { secret: 'not-the-secret' });
    const request = requestOf(body, headers);
    const error = rejection(() => guardWith().canActivate(contextFor(request)));
    expect(error.getStatus()).toBe(401);
    expect(error.reason).toBe('invalid-signature');
    expect(request[PUSHER_VERIFIED_WEBHOOK]).toBeUndefined();
    expect(logs.lines('warn').join('\n')).toContain('invalid-signature');
    expectNoSecretsLogged(headers['x-pusher-signature']);
  });

  it('refuses a body changed after signing', () => {
    const { headers } = signedWebhook(PAYLOAD);
    const tampered = JSON.stringify({ ...PAYLOAD, events: [{ name: 'channel_vacated', channel: 'private-a' }] });
    const error = rejection(() => guardWith().canActivate(contextFor(requestOf(tampered, headers))));
    expect([error.getStatus(), error.reason]).toEqual([401, 'invalid-signature']);
  });

  it('refuses an unsigned webhook', () => {
    const { body } = signedWebhook(PAYLOAD);
    const error = rejection(() => guardWith().canActivate(contextFor(requestOf(body, { 'x-pusher-key': APP.key }))));
    expect([error.getStatus(), error.reason]).toEqual([401, 'missing-signature']);
  });

  it('refuses a webhook without X-Pusher-Key', () => {
    const { body, headers } = signedWebhook(PAYLOAD);
    const error = rejection(() =>
      guardWith().canActivate(contextFor(requestOf(body, { 'x-pusher-signature': headers['x-pusher-signature']! }))),
    );
    expect([error.getStatus(), error.reason]).toEqual([401, 'missing-key']);
  });

  it("refuses another app's key, even with a valid signature under our secret", () => {
    const { body, headers } = signedWebhook(PAYLOAD, { key: 'another-app-key' });
    const error = rejection(() => guardWith().canActivate(contextFor(requestOf(body, headers))));
    expect([error.getStatus(), error.reason]).toEqual([401, 'unknown-key']);
  });

  it('refuses a stale webhook when webhookMaxAgeMs is set, and accepts a fresh one', () => {
    const guard = guardWith({ webhookMaxAgeMs: 60_000 });
    const stale = signedWebhook({ ...PAYLOAD, time_ms: Date.now() - 10 * 60_000 });
    const error = rejection(() => guard.canActivate(contextFor(requestOf(stale.body, stale.headers))));
    expect([error.getStatus(), error.reason]).toEqual([401, 'stale']);
    const fresh = signedWebhook({ ...PAYLOAD, time_ms: Date.now() - 1_000 });
    expect(guard.canActivate(contextFor(requestOf(fresh.body, fresh.headers)))).toBe(true);
  });

  it('refuses a signed body that is not a webhook', () => {
    const { body, headers } = signedWebhook({ hello: 'world' });
    const error = rejection(() => guardWith().canActivate(contextFor(requestOf(body, headers))));
    expect([error.getStatus(), error.reason]).toEqual([401, 'malformed-body']);
  });

  it('fails closed without a raw body, even when the parsed body is correctly signed, and logs the fix', () => {
    const { body, headers } = signedWebhook(PAYLOAD);
    const request = { headers, body: JSON.parse(body) } as PusherWebhookHttpRequest;
    const error = rejection(() => guardWith().canActivate(contextFor(request)));
    expect(error.getStatus()).toBe(500);
    expect(error.reason).toBe('missing-raw-body');
    expect(request[PUSHER_VERIFIED_WEBHOOK]).toBeUndefined();
    expect(logs.lines('error').join('\n')).toContain('create the app with `{ rawBody: true }`');
    expectNoSecretsLogged(headers['x-pusher-signature']);
  });

  it('refuses (401) a body that is not JSON, which the platform parsed differently and kept no bytes of', () => {
    const { body, headers } = signedWebhook(PAYLOAD);
    const request = { headers: { ...headers, 'content-type': 'text/plain' }, body } as PusherWebhookHttpRequest;
    const error = rejection(() => guardWith().canActivate(contextFor(request)));
    expect([error.getStatus(), error.reason]).toEqual([401, 'malformed-body']);
    expect(logs.lines('error')).toEqual([]);
  });

  it('answers with the reason only: no key, signature or secret in the response body', () => {
    const { body, headers } = signedWebhook(PAYLOAD, { secret: 'wrong' });
    const error = rejection(() => guardWith().canActivate(contextFor(requestOf(body, headers))));
    const response = JSON.stringify(error.getResponse());
    expect(response).toContain('invalid-signature');
    expect(response).not.toContain(headers['x-pusher-signature']);
    expect(response).not.toContain(APP.secret);
  });

  it('can be extended through its protected methods (here: the raw body kept elsewhere by a custom parser)', () => {
    class TextBodyGuard extends PusherWebhookGuard {
      protected override getRawBody(request: PusherWebhookHttpRequest): Buffer | string | undefined {
        return (request as unknown as { text?: string }).text;
      }
    }
    const service = new PusherService(APP);
    services.push(service);
    const { body, headers } = signedWebhook(PAYLOAD);
    const request = { headers, text: body } as unknown as PusherWebhookHttpRequest;
    expect(new TextBodyGuard(service).canActivate(contextFor(request))).toBe(true);
    expect(hmacHex(APP.secret, body)).toBe(headers['x-pusher-signature']);
  });
});
