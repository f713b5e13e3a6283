/**
 * The Fastify parser of webhooks applies to webhook routes only: any other route keeps the application's JSON parser
 * (and its `__proto__` protection) and sees its own headers, even when a request carries `X-Pusher-Signature`; with no
 * webhook route nothing is installed; custom webhook routes (`@PusherWebhook()` on a method or a class) get the same verdict on both platforms for a body with `__proto__` in its data.
 */
import './support/nest-app.js';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { type PusherWebhookPayload, PusherModule, PusherWebhook, VerifiedWebhook } from 'nest-pusher';
import { APP, PLATFORMS, postJson, type RunningApp, signedWebhook, startApp } from './support/nest-app.js';

@Controller('profile')
class ProfileController {
  @Post()
  @HttpCode(200)
  update(@Body() body: Record<string, unknown>, @Headers('content-type') contentType: string) {
    return { contentType, ownProto: Object.hasOwn(body ?? {}, '__proto__') };
  }
}

@Controller('hooks')
class MethodWebhookController {
  @Post('method')
  @PusherWebhook()
  method(@VerifiedWebhook() payload: PusherWebhookPayload, @Body() body: Record<string, unknown>) {
    return { events: payload.events.length, bodyEvents: (body.events as unknown[]).length };
  }
}

@Controller('class-hooks')
@PusherWebhook()
class ClassWebhookController {
  @Post()
  @HttpCode(200)
  receive(@VerifiedWebhook() payload: PusherWebhookPayload) {
    return { events: payload.events.length };
  }
}

/** A base controller whose route methods a webhook controller inherits; mounted on its own it is no webhook route. */
@Controller('base-hooks')
class BaseHooksController {
  @Post()
  @HttpCode(200)
  receive(@Body() body: Record<string, unknown>) {
    return { events: Array.isArray(body?.events) ? body.events.length : -1 };
  }
}

@Controller('inheriting-class-hooks')
@PusherWebhook()
class InheritingClassWebhookController extends BaseHooksController {}

/** The webhook route is declared on the base class and only the subclass is mounted. */
class BaseWebhookMethods {
  @Post()
  @PusherWebhook()
  receive(@VerifiedWebhook() payload: PusherWebhookPayload) {
    return { events: payload.events.length };
  }
}

@Controller('inherited-method-hooks')
class InheritedMethodWebhookController extends BaseWebhookMethods {}

const poisoned = '{"name":"x","__proto__":{"isAdmin":true}}';

let running: RunningApp | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe.each(PLATFORMS)('the webhook body parser on %s', (platform) => {
  it.each([
    ['without webhook routes', { ...APP, webhookController: false }],
    ['beside the built-in webhook route', APP],
  ])(
    'leaves other routes alone %s: X-Pusher-Signature changes neither their parser nor their headers',
    async (_label, options) => {
      running = await startApp(platform, {
        imports: [PusherModule.forRoot(options)],
        controllers: [ProfileController],
      });
      const plain = await postJson(`${running.url}/profile`, poisoned);
      const signed = await postJson(`${running.url}/profile`, poisoned, { 'x-pusher-signature': 'anything' });
      expect(signed.status).toBe(plain.status);
      expect(await signed.text()).toBe(await plain.text());
      // Fastify's own parser refuses `__proto__` (400); Express's keeps it as an own key.
      expect(plain.status).toBe(platform === 'fastify' ? 400 : 200);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    },
  );

  it('installs no parser when the application has no webhook route', async () => {
    running = await startApp(platform, {
      imports: [PusherModule.forRoot({ ...APP, webhookController: false })],
      controllers: [ProfileController],
    });
    const response = await fetch(`${running.url}/profile`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.nest-pusher.webhook+json' },
      body: '{"name":"x"}',
    });
    // Neither platform parses an unknown media type: Fastify refuses it, Express leaves the body empty.
    expect(response.status).toBe(platform === 'fastify' ? 415 : 200);
  });

  it.each([
    ['/hooks/method', [MethodWebhookController, ClassWebhookController]],
    ['/class-hooks', [MethodWebhookController, ClassWebhookController]],
    ['/inheriting-class-hooks', [InheritingClassWebhookController]],
    ['/inherited-method-hooks', [InheritedMethodWebhookController]],
  ])('verifies a signed webhook with __proto__ in client data on the custom route %s', async (path, controllers) => {
    running = await startApp(platform, {
      imports: [PusherModule.forRoot({ ...APP, webhookController: false })],
      controllers,
    });
    const events = [
      {
        name: 'client_event',
        channel: 'private-chat',
        event: 'client-x',
        data: JSON.parse('{"__proto__":{"isAdmin":true}}'),
        socket_id: '1.1',
      },
    ];
    const { body, headers } = signedWebhook({ time_ms: Date.now(), events });
    const response = await postJson(`${running.url}${path}`, body, headers);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { events: number }).events).toBe(1);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('marks the inheriting controller only: its base class, mounted on its own, stays an ordinary route', async () => {
    running = await startApp(platform, {
      imports: [PusherModule.forRoot(APP)],
      controllers: [BaseHooksController, InheritingClassWebhookController],
    });
    const unsigned = '{"time_ms":1,"events":[]}';
    expect((await postJson(`${running.url}/base-hooks`, unsigned)).status).toBe(200);
    expect((await postJson(`${running.url}/inheriting-class-hooks`, unsigned)).status).toBe(401);
  });
});
