import './support/nest-app.js';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  type CallHandler,
  Controller,
  type ExecutionContext,
  Injectable,
  Module,
  type NestInterceptor,
  Post,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { type Observable, tap } from 'rxjs';
import {
  type ChannelOccupiedEvent,
  type ChannelVacatedEvent,
  OnPusherEvent,
  type PusherEventContext,
  PusherModule,
  PusherWebhook,
  PusherWebhookDispatcher,
  type PusherWebhookPayload,
  VerifiedWebhook,
} from 'nest-pusher';
import {
  APP,
  captureLogs,
  type CapturedLogs,
  PLATFORMS,
  postJson,
  type RunningApp,
  signedWebhook,
  startApp,
} from './support/nest-app.js';

const seen: string[] = [];

@Injectable()
class OccupancyListener {
  @OnPusherEvent('channel_occupied')
  onOccupied(event: ChannelOccupiedEvent, { timeMs }: PusherEventContext): void {
    seen.push(`listener ${event.channel} ${timeMs}`);
  }

  @OnPusherEvent('channel_vacated', { channel: 'private-fragile' })
  onFragileVacated(): void {
    throw new Error('handler failure');
  }
}

@Controller('observed')
class ObservingController {
  @OnPusherEvent(['channel_occupied', 'channel_vacated'])
  onAnything(event: ChannelOccupiedEvent | ChannelVacatedEvent): void {
    seen.push(`controller ${event.name} ${event.channel}`);
  }
}

/** A user's own webhook route, guarded by @PusherWebhook(). */
@Controller('my')
class MyWebhookController {
  constructor(private readonly dispatcher: PusherWebhookDispatcher) {}

  @Post('pusher-hook')
  @PusherWebhook()
  async receive(@VerifiedWebhook() payload: PusherWebhookPayload): Promise<{ mine: number }> {
    seen.push(`own route ${payload.events.length}`);
    await this.dispatcher.dispatch(payload);
    return { mine: payload.events.length };
  }
}

/** The decorator on a whole controller. */
@Controller('guarded')
@PusherWebhook()
class GuardedController {
  @Post()
  receive(@VerifiedWebhook() payload: PusherWebhookPayload): { time: number } {
    seen.push('guarded controller');
    return { time: payload.time_ms };
  }
}

const NOW = Date.now();
const occupied = (channel: string) => ({ time_ms: NOW, events: [{ name: 'channel_occupied', channel }] });

let logs: CapturedLogs;
let running: RunningApp | undefined;
beforeEach(() => {
  seen.length = 0;
  logs = captureLogs();
});
afterEach(async () => {
  await running?.close();
  running = undefined;
  logs.restore();
});

/** A common kind of global interceptor: it sets a header once the handler has produced its answer. */
@Injectable()
class ResponseTimeInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const response = context
      .switchToHttp()
      .getResponse<{ header?: (n: string, v: string) => void; setHeader?: (n: string, v: string) => void }>();
    return next
      .handle()
      .pipe(
        tap(() =>
          response.setHeader
            ? response.setHeader('x-handled-by', 'interceptor')
            : response.header?.('x-handled-by', 'interceptor'),
        ),
      );
  }
}

describe.each(PLATFORMS)('webhooks over HTTP on %s', (platform) => {
  const start = (pusherModule = PusherModule.forRoot(APP), rawBody = true) =>
    startApp(
      platform,
      {
        imports: [pusherModule],
        providers: [OccupancyListener],
        controllers: [ObservingController, MyWebhookController, GuardedController],
      },
      { rawBody },
    ).then((app) => (running = app));

  it('POST /pusher/webhooks verifies, dispatches to every handler and answers 200 with an empty body', async () => {
    const { url } = await start();
    const { body, headers } = signedWebhook(occupied('private-a'));
    const response = await postJson(`${url}/pusher/webhooks`, body, headers);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    expect(seen.sort()).toEqual([`controller channel_occupied private-a`, `listener private-a ${NOW}`]);
  });

  it('answers a JSON summary of the delivery with webhookController: { summary: true }', async () => {
    const { url } = await start(PusherModule.forRoot({ ...APP, webhookController: { summary: true } }));
    const { body, headers } = signedWebhook(occupied('private-a'));
    const response = await postJson(`${url}/pusher/webhooks`, body, headers);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json; charset=utf-8$/i);
    expect(await response.json()).toEqual({ events: 1, handlerRuns: 2, rejectedEvents: 0, duplicate: false });
    const replay = await postJson(`${url}/pusher/webhooks`, body, headers);
    expect(await replay.json()).toEqual({ events: 1, handlerRuns: 0, rejectedEvents: 0, duplicate: true });
    expect(seen).toHaveLength(2);
  });

  it('refuses a webhookController.summary that is not a boolean, when the module is declared', () => {
    expect(() => PusherModule.forRoot({ ...APP, webhookController: { summary: 'yes' as unknown as boolean } })).toThrow(
      'webhookController.summary must be true or false',
    );
  });

  it("answers through Nest, so the app's interceptors apply: a header set after the handler is on the answer", async () => {
    const { url } = await startApp(platform, {
      imports: [PusherModule.forRoot(APP)],
      providers: [OccupancyListener, { provide: APP_INTERCEPTOR, useClass: ResponseTimeInterceptor }],
    }).then((app) => (running = app));
    const { body, headers } = signedWebhook(occupied('private-a'));
    const response = await postJson(`${url}/pusher/webhooks`, body, headers);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-handled-by')).toBe('interceptor');
    expect(await response.text()).toBe('');
    expect(seen).toEqual([`listener private-a ${NOW}`]);
  });

  it('answers 401 to a forged webhook, and no handler runs', async () => {
    const { url } = await start();
    const { body, headers } = signedWebhook(occupied('private-a'), { secret: 'forged' });
    const response = await postJson(`${url}/pusher/webhooks`, body, headers);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ statusCode: 401, reason: 'invalid-signature' });
    expect(seen).toEqual([]);
  });

  it('answers 401 to an unsigned webhook, and no handler runs', async () => {
    const { url } = await start();
    const response = await postJson(`${url}/pusher/webhooks`, occupied('private-a'), { 'x-pusher-key': APP.key });
    expect(response.status).toBe(401);
    expect(seen).toEqual([]);
  });

  it('answers 500 when a handler fails (so Pusher delivers again), after running the others', async () => {
    const { url } = await start();
    const { body, headers } = signedWebhook({
      time_ms: NOW,
      events: [{ name: 'channel_vacated', channel: 'private-fragile' }],
    });
    const response = await postJson(`${url}/pusher/webhooks`, body, headers);
    expect(response.status).toBe(500);
    expect(seen).toEqual(['controller channel_vacated private-fragile']);
    expect(logs.lines('error').join('\n')).toContain('OccupancyListener.onFragileVacated failed on channel_vacated');
  });

  it('without rawBody: fails closed and logs the fix on Express; on Fastify the module keeps the signed bytes itself', async () => {
    const { url } = await start(PusherModule.forRoot(APP), false);
    const { body, headers } = signedWebhook(occupied('private-a'));
    const response = await postJson(`${url}/pusher/webhooks`, body, headers);
    if (platform === 'express') {
      expect(response.status).toBe(500);
      expect(seen).toEqual([]);
      expect(logs.lines('error').join('\n')).toContain('create the app with `{ rawBody: true }`');
    } else {
      // PusherWebhookFastifyBody parses requests carrying X-Pusher-Signature and keeps their raw bytes.
      expect(response.status).toBe(200);
      expect(seen.length).toBeGreaterThan(0);
    }
  });

  it('answers 401 to a correctly signed body sent as text/plain (Pusher sends JSON), and no handler runs', async () => {
    const { url } = await start();
    const { body, headers } = signedWebhook(occupied('private-a'));
    const response = await postJson(`${url}/pusher/webhooks`, body, { ...headers, 'content-type': 'text/plain' });
    expect(response.status).toBe(401);
    expect(seen).toEqual([]);
    expect(logs.lines('error')).toEqual([]);
  });

  it("guards a user's own @PusherWebhook() route: 200 with the verified payload, 401 when forged", async () => {
    const { url } = await start();
    const signed = signedWebhook(occupied('private-own'));
    const ok = await postJson(`${url}/my/pusher-hook`, signed.body, signed.headers);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ mine: 1 });
    expect(seen.sort()).toEqual([
      'controller channel_occupied private-own',
      `listener private-own ${NOW}`,
      'own route 1',
    ]);

    seen.length = 0;
    const forged = signedWebhook(occupied('private-own'), { secret: 'forged' });
    const refused = await postJson(`${url}/my/pusher-hook`, forged.body, forged.headers);
    expect(refused.status).toBe(401);
    expect(seen).toEqual([]);
  });

  it('guards every route of a controller decorated with @PusherWebhook()', async () => {
    const { url } = await start();
    const signed = signedWebhook(occupied('private-b'));
    const ok = await postJson(`${url}/guarded`, signed.body, signed.headers);
    // Nest's default for POST: @HttpCode() cannot be put on a class; Pusher counts any 2xx as delivered.
    expect(ok.status).toBe(201);
    expect(await ok.json()).toEqual({ time: NOW });
    const refused = await postJson(`${url}/guarded`, signed.body, { ...signed.headers, 'x-pusher-key': 'other' });
    expect(refused.status).toBe(401);
    expect(seen).toEqual(['guarded controller']);
  });

  it('guards a route of a feature module that does not import PusherModule when it is global', async () => {
    @Controller('feature')
    class FeatureWebhookController {
      @Post('hook')
      @PusherWebhook()
      receive(@VerifiedWebhook() payload: PusherWebhookPayload): { channel: string } {
        seen.push('feature route');
        return { channel: payload.events[0]!.channel };
      }
    }
    @Module({ controllers: [FeatureWebhookController] })
    class FeatureModule {}
    running = await startApp(platform, {
      imports: [PusherModule.forRoot({ ...APP, isGlobal: true, webhookController: false }), FeatureModule],
    });
    const signed = signedWebhook(occupied('private-feature'));
    const ok = await postJson(`${running.url}/feature/hook`, signed.body, signed.headers);
    expect([ok.status, await ok.json()]).toEqual([200, { channel: 'private-feature' }]);
    const forged = signedWebhook(occupied('private-feature'), { secret: 'forged' });
    expect((await postJson(`${running.url}/feature/hook`, forged.body, forged.headers)).status).toBe(401);
    expect(seen).toEqual(['feature route']);
  });

  it('moves the built-in route with webhookController.path, also with forRootAsync', async () => {
    const { url } = await start(
      PusherModule.forRootAsync({ useFactory: async () => APP, webhookController: { path: '/hooks/pusher-in' } }),
    );
    const { body, headers } = signedWebhook(occupied('private-a'));
    expect((await postJson(`${url}/hooks/pusher-in`, body, headers)).status).toBe(200);
    expect((await postJson(`${url}/pusher/webhooks`, body, headers)).status).toBe(404);
  });

  it('switches the built-in route off with webhookController: false', async () => {
    const { url } = await start(PusherModule.forRoot({ ...APP, webhookController: false }));
    const { body, headers } = signedWebhook(occupied('private-a'));
    expect((await postJson(`${url}/pusher/webhooks`, body, headers)).status).toBe(404);
    expect(seen).toEqual([]);
    // The user's own route still works.
    expect((await postJson(`${url}/my/pusher-hook`, body, headers)).status).toBe(200);
  });
});
