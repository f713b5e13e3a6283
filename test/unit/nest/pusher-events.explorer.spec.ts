import './support/nest-app.js';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Injectable, Scope, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  type ClientEventWebhookEvent,
  type MemberAddedEvent,
  type MemberRemovedEvent,
  OnPusherEvent,
  type PusherEventContext,
  PusherModule,
  PusherWebhookDispatcher,
  PusherWebhookDispatchError,
  type PusherWebhookEvent,
  type PusherWebhookPayload,
} from 'nest-pusher';
import { APP, captureLogs, type CapturedLogs } from './support/nest-app.js';

interface Call {
  handler: string;
  name: string;
  channel: string;
  timeMs: number;
}
const calls: Call[] = [];
function record(handler: string, event: PusherWebhookEvent, context: PusherEventContext): void {
  calls.push({ handler, name: event.name, channel: event.channel, timeMs: context.timeMs });
}

@Injectable()
class RoomsService {
  private readonly label = 'rooms';

  @OnPusherEvent('member_added')
  onMemberAdded(event: MemberAddedEvent, context: PusherEventContext): void {
    // `this` is the provider instance.
    record(`${this.label}.added`, event, context);
  }

  @OnPusherEvent(['channel_occupied', 'channel_vacated'], { channel: /^presence-/g })
  onOccupancy(event: PusherWebhookEvent, context: PusherEventContext): void {
    record('rooms.occupancy', event, context);
  }

  @OnPusherEvent('member_added', { channel: 'presence-a' })
  @OnPusherEvent('member_removed', { channel: 'presence-b' })
  async onStacked(event: MemberAddedEvent | MemberRemovedEvent, context: PusherEventContext): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    record('rooms.stacked', event, context);
  }

  notAHandler(): void {
    throw new Error('never called');
  }
}

@Controller()
class AuditController {
  @OnPusherEvent('client_event', { channel: 'private-chat' })
  onClientEvent(event: ClientEventWebhookEvent, context: PusherEventContext): void {
    expect(context.payload.events).toContain(event);
    record('audit.client', event, context);
  }
}

@Injectable()
class FailingService {
  @OnPusherEvent('channel_occupied')
  explode(): never {
    throw new Error('database down');
  }

  @OnPusherEvent('member_removed')
  async rejectLater(): Promise<never> {
    throw new TypeError('async failure');
  }
}

const TIME_MS = 1_700_000_000_123;
const payload = (...events: PusherWebhookEvent[]): PusherWebhookPayload => ({ time_ms: TIME_MS, events });

let logs: CapturedLogs;
const contexts: INestApplicationContext[] = [];
async function boot(providers: any[], controllers: any[] = []): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [PusherModule.forRoot({ ...APP, webhookController: false, authController: false })],
    providers,
    controllers,
  }).compile();
  try {
    await moduleRef.init();
  } catch (error) {
    // A failed bootstrap is closed here, not in afterEach: Nest 12's close() then shuts the context down, Nest 11's
    // rethrows the init failure (the one the test expects), which would fail the teardown.
    await moduleRef.close().catch((closeError: unknown) => {
      if (closeError !== error) throw closeError;
    });
    throw error;
  }
  contexts.push(moduleRef);
  return moduleRef;
}
beforeEach(() => {
  calls.length = 0;
  logs = captureLogs();
});
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  logs.restore();
});

describe('@OnPusherEvent discovery and dispatch', () => {
  it('runs every matching handler of providers and controllers, with channel filters and stacked decorators', async () => {
    const app = await boot([RoomsService], [AuditController]);
    const result = await app
      .get(PusherWebhookDispatcher)
      .dispatch(
        payload(
          { name: 'member_added', channel: 'presence-a', user_id: 'u1' },
          { name: 'member_removed', channel: 'presence-b', user_id: 'u1' },
          { name: 'member_removed', channel: 'presence-a', user_id: 'u2' },
          { name: 'channel_occupied', channel: 'presence-x' },
          { name: 'channel_vacated', channel: 'presence-y' },
          { name: 'channel_occupied', channel: 'private-x' },
          { name: 'client_event', channel: 'private-chat', event: 'client-typing', data: '{}', socket_id: '1.2' },
          { name: 'client_event', channel: 'private-other', event: 'client-typing', data: '{}', socket_id: '1.2' },
        ),
      );
    expect(calls.map(({ handler, name, channel }) => `${handler} ${name} ${channel}`).sort()).toEqual(
      [
        'rooms.added member_added presence-a',
        'rooms.stacked member_added presence-a',
        'rooms.stacked member_removed presence-b',
        // A /g pattern is stateless here: both consecutive presence- events match.
        'rooms.occupancy channel_occupied presence-x',
        'rooms.occupancy channel_vacated presence-y',
        'audit.client client_event private-chat',
      ].sort(),
    );
    expect(calls.every((call) => call.timeMs === TIME_MS)).toBe(true);
    expect(result).toEqual({ events: 8, handlerRuns: 6, failures: [], rejectedEvents: 0, duplicate: false });
  });

  it('keeps going when a handler fails, logs each failure, and rejects with the aggregate', async () => {
    const app = await boot([RoomsService, FailingService]);
    const secretData = 'data-that-must-not-be-logged';
    const error = await app
      .get(PusherWebhookDispatcher)
      .dispatch(
        payload(
          { name: 'channel_occupied', channel: 'presence-room' },
          { name: 'member_removed', channel: 'presence-b', user_id: 'u9' },
          { name: 'client_event', channel: 'private-c', event: 'client-x', data: secretData, socket_id: '1.1' },
        ),
      )
      .then(
        () => null,
        (reason: unknown) => reason,
      );
    expect(error).toBeInstanceOf(PusherWebhookDispatchError);
    const { result } = error as PusherWebhookDispatchError;
    expect(result.handlerRuns).toBe(4);
    expect(result.failures.map((failure) => [failure.handler, failure.event.name])).toEqual([
      ['FailingService.explode', 'channel_occupied'],
      ['FailingService.rejectLater', 'member_removed'],
    ]);
    expect((error as PusherWebhookDispatchError).errors.map((e: Error) => e.message)).toEqual([
      'database down',
      'async failure',
    ]);
    // The other handlers of the same events ran.
    expect(calls.map((call) => call.handler).sort()).toEqual(['rooms.occupancy', 'rooms.stacked']);
    const errors = logs.lines('error').join('\n');
    expect(errors).toContain(
      'FailingService.explode failed on channel_occupied (channel presence-room): Error: database down',
    );
    expect(errors).toContain('FailingService.rejectLater failed on member_removed');
    expect(logs.lines().join('\n')).not.toContain(APP.secret);
  });

  it('fails the bootstrap on an unknown event name, listing the valid names', async () => {
    @Injectable()
    class Misspelled {
      @OnPusherEvent('channel_ocupied' as 'channel_occupied')
      handle(): void {}
    }
    await expect(boot([Misspelled])).rejects.toThrow(
      '@OnPusherEvent() on Misspelled.handle: unknown Pusher webhook event "channel_ocupied". Valid names: ' +
        'channel_occupied, channel_vacated, member_added, member_removed, client_event, cache_miss, subscription_count.',
    );
  });

  it('fails the bootstrap on an unusable channel filter', async () => {
    @Injectable()
    class BadFilter {
      @OnPusherEvent('channel_occupied', { channel: 42 as unknown as string })
      handle(): void {}
    }
    await expect(boot([BadFilter])).rejects.toThrow(/BadFilter\.handle: the channel filter/);
  });

  it('warns about and skips handlers of request-scoped providers', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {
      @OnPusherEvent('channel_occupied')
      handle(event: PusherWebhookEvent, context: PusherEventContext): void {
        record('per-request', event, context);
      }
    }
    const app = await boot([PerRequest]);
    const result = await app.get(PusherWebhookDispatcher).dispatch(payload({ name: 'channel_occupied', channel: 'a' }));
    expect(result.handlerRuns).toBe(0);
    expect(calls).toEqual([]);
    expect(logs.lines('warn').join('\n')).toContain('PerRequest.handle is not registered for Pusher webhook events');
  });

  it('registers a handler once even when its provider is also reachable through an alias', async () => {
    const app = await boot([RoomsService, { provide: 'ROOMS_ALIAS', useExisting: RoomsService }]);
    await app.get(PusherWebhookDispatcher).dispatch(payload({ name: 'channel_occupied', channel: 'presence-z' }));
    expect(calls.map((call) => call.handler)).toEqual(['rooms.occupancy']);
  });

  it('removes the discovered handlers on shutdown', async () => {
    const app = await boot([RoomsService]);
    const dispatcher = app.get(PusherWebhookDispatcher);
    await app.close();
    const result = await dispatcher.dispatch(payload({ name: 'channel_occupied', channel: 'presence-z' }));
    expect(result.handlerRuns).toBe(0);
  });

  it('lets code add and remove handlers by hand', async () => {
    const app = await boot([]);
    const dispatcher = app.get(PusherWebhookDispatcher);
    const seen: string[] = [];
    const remove = dispatcher.addHandler({
      events: ['cache_miss'],
      channel: 'private-cache-a',
      name: 'manual',
      handle: (event) => {
        seen.push(event.channel);
      },
    });
    await dispatcher.dispatch(
      payload({ name: 'cache_miss', channel: 'private-cache-a' }, { name: 'cache_miss', channel: 'private-cache-b' }),
    );
    remove();
    await dispatcher.dispatch(payload({ name: 'cache_miss', channel: 'private-cache-a' }));
    expect(seen).toEqual(['private-cache-a']);
  });
});
