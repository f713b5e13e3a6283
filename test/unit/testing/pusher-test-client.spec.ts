/**
 * `PusherTestClient` against real Nest apps on Express and on Fastify (real HTTP on 127.0.0.1:0): signed webhooks
 * through the built-in route, the app's own `@PusherWebhook()` route and the dispatcher; the guard's refusals; and
 * pusher-js-shaped auth requests whose answers are verified as a Pusher server would. Each helper is also shown
 * catching the mistake it exists for.
 */
import 'reflect-metadata';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Controller, Injectable, Logger, Post, type INestApplication, type Type } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  OnPusherEvent,
  PusherService,
  PusherWebhook,
  PusherWebhookDispatchError,
  PusherWebhookDispatcher,
  SIGNED_IN_USER,
  VerifiedWebhook,
  type ClientEventWebhookEvent,
  type MemberAddedEvent,
  type PusherAuthorizer,
  type PusherChannelAuthorizationRequest,
  type PusherUserAuthenticationRequest,
  type PusherWebhookPayload,
} from 'nest-pusher';
import {
  PusherExpectationError,
  PusherRecorder,
  PusherTestClient,
  PusherTestingModule,
  signPusherWebhook,
  verifyChannelAuthorization,
  type PusherTestingModuleOptions,
} from 'nest-pusher/testing';

const MASTER_KEY_BASE64 = Buffer.alloc(32, 3).toString('base64');
const PLATFORMS = ['express', 'fastify'] as const;

/** Greets every new member of a room: the kind of handler an app tests. */
@Injectable()
class WelcomeListener {
  readonly secrets: string[] = [];
  constructor(private readonly pusher: PusherService) {}

  @OnPusherEvent('member_added', { channel: /^presence-room-/ })
  async welcome(event: MemberAddedEvent): Promise<void> {
    await this.pusher.sendToUser(event.user_id, 'welcome', { room: event.channel });
  }

  @OnPusherEvent('client_event', { channel: 'private-encrypted-notes' })
  note(event: ClientEventWebhookEvent): void {
    this.secrets.push(event.data);
  }

  @OnPusherEvent('channel_vacated', { channel: 'private-fragile' })
  fragile(): void {
    throw new Error('handler failure');
  }
}

/** The mistake: the filter names the room prefix without its dash, so no `presence-room-…` event ever matches. */
@Injectable()
class MisfilteredListener {
  constructor(private readonly pusher: PusherService) {}

  @OnPusherEvent('member_added', { channel: 'presence-room' })
  async welcome(event: MemberAddedEvent): Promise<void> {
    await this.pusher.sendToUser(event.user_id, 'welcome', { room: event.channel });
  }
}

/** An app's own webhook route. */
@Controller('hooks')
class OwnWebhookController {
  constructor(private readonly dispatcher: PusherWebhookDispatcher) {}

  @Post('pusher')
  @PusherWebhook()
  async receive(@VerifiedWebhook() payload: PusherWebhookPayload): Promise<{ received: number }> {
    await this.dispatcher.dispatch(payload);
    return { received: payload.events.length };
  }
}

function userOf(request: unknown): string | undefined {
  const value = (request as { headers: Record<string, string | undefined> }).headers['x-user'];
  return value === undefined || value === '' ? undefined : value;
}

/** Correct: members of their own team's channels only. */
@Injectable()
class TeamAuthorizer implements PusherAuthorizer {
  authorizeChannel({ channel, request }: PusherChannelAuthorizationRequest) {
    const user = userOf(request);
    if (user === undefined) return false;
    if (channel === `private-team-${user}`) return true;
    if (channel === 'presence-room-1') return { user_id: user, user_info: { name: user.toUpperCase() } };
    return false;
  }

  authenticateUser({ request }: PusherUserAuthenticationRequest) {
    const user = userOf(request);
    return user === undefined ? false : { id: user };
  }
}

/** The mistake: any signed-in user may join any private channel. */
@Injectable()
class LaxAuthorizer implements PusherAuthorizer {
  authorizeChannel({ request }: PusherChannelAuthorizationRequest) {
    return userOf(request) !== undefined;
  }

  authenticateUser() {
    return false as const;
  }
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  jest.restoreAllMocks();
});

async function start(
  platform: (typeof PLATFORMS)[number],
  options: PusherTestingModuleOptions,
  providers: Type<unknown>[] = [WelcomeListener],
  controllers: Type<unknown>[] = [],
): Promise<{ client: PusherTestClient; recorder: PusherRecorder }> {
  // The guard and the dispatcher log refusals and handler failures; the tests look at answers instead.
  for (const level of ['error', 'warn', 'log'] as const)
    jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
  const moduleRef = await Test.createTestingModule({
    imports: [PusherTestingModule.forRoot({ encryptionMasterKeyBase64: MASTER_KEY_BASE64, ...options })],
    providers,
    controllers,
  }).compile();
  const created =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { rawBody: true })
      : moduleRef.createNestApplication({ rawBody: true });
  app = created;
  return { client: await PusherTestClient.create(created), recorder: moduleRef.get(PusherRecorder) };
}

describe.each(PLATFORMS)('PusherTestClient on %s', (platform) => {
  it('delivers a signed webhook through the built-in route; the handler runs and what it sent is recorded', async () => {
    const { client, recorder } = await start(platform, { webhookController: { summary: true } });
    const answer = await client.expectWebhookAccepted([
      { name: 'member_added', channel: 'presence-room-1', user_id: 'ann' },
    ]);
    expect(answer).toMatchObject({ status: 200, body: { events: 1, handlerRuns: 1 } });
    recorder.expectEvent({ via: 'sendToUser', userId: 'ann', event: 'welcome', data: { room: 'presence-room-1' } });
  });

  it('catches a handler that is not called: the webhook is accepted, no handler ran, nothing was sent', async () => {
    const { client, recorder } = await start(platform, { webhookController: { summary: true } }, [MisfilteredListener]);
    const answer = await client.expectWebhookAccepted([
      { name: 'member_added', channel: 'presence-room-1', user_id: 'ann' },
    ]);
    expect(answer.body).toEqual({ events: 1, handlerRuns: 0, rejectedEvents: 0, duplicate: false });
    expect(() => recorder.expectEvent({ via: 'sendToUser', userId: 'ann' })).toThrow(PusherExpectationError);
    expect(() => recorder.expectEvent({ via: 'sendToUser', userId: 'ann' })).toThrow('(no event was sent)');
  });

  it("delivers to the app's own @PusherWebhook() route; the guard refuses tampered, foreign and stale webhooks", async () => {
    const { client } = await start(
      platform,
      { webhookController: false, webhookMaxAgeMs: 60_000 },
      [WelcomeListener],
      [OwnWebhookController],
    );
    const events = [{ name: 'channel_occupied', channel: 'private-a' }];
    expect((await client.expectWebhookAccepted(events, { path: '/hooks/pusher' })).body).toEqual({ received: 1 });

    const signed = client.signWebhook(events);
    await client.expectWebhookRefused(
      { ...signed, body: signed.body.replace('private-a', 'private-b') },
      { path: '/hooks/pusher' },
    );
    await client.expectWebhookRefused(signPusherWebhook(events, { key: 'test-key', secret: 'not-the-secret' }), {
      path: '/hooks/pusher',
    });
    await client.expectWebhookRefused(signed, { path: '/hooks/pusher', headers: { 'x-pusher-signature': undefined } });
    await client.expectWebhookRefused(client.signWebhook(events, { timeMs: Date.now() - 3_600_000 }), {
      path: '/hooks/pusher',
    });
    // The helper reports a refusal it did not expect, with the app's answer.
    await expect(client.expectWebhookAccepted(events, { path: '/hooks/pusher', timeMs: 1 })).rejects.toThrow(
      /Expected the webhook .* to be accepted \(2xx\) at \/hooks\/pusher, the app answered 401/,
    );
    // ...and an acceptance it did not expect.
    await expect(client.expectWebhookRefused(client.signWebhook(events), { path: '/hooks/pusher' })).rejects.toThrow(
      'Expected the webhook to be refused with 401, the app answered 200',
    );
  });

  it('stamps each webhook with a fresh, strictly increasing time_ms, so identical events never repeat a body', async () => {
    const { client } = await start(platform, {});
    const events = [{ name: 'channel_occupied', channel: 'private-a' }];
    const first = client.signWebhook(events);
    const second = client.signWebhook(events);
    expect(second.payload.time_ms).toBeGreaterThan(first.payload.time_ms);
    expect(second.body).not.toBe(first.body);
  });

  it('encrypts client_event data on encrypted channels; the handler gets the plaintext', async () => {
    const { client } = await start(platform, {});
    const webhook = client.signWebhook([
      {
        name: 'client_event',
        channel: 'private-encrypted-notes',
        event: 'client-note',
        data: { text: 'psst' },
        socket_id: '1.1',
      },
    ]);
    expect(webhook.body).not.toContain('psst');
    expect((await client.postWebhook(webhook)).status).toBe(200);
    expect(app!.get(WelcomeListener).secrets).toEqual(['{"text":"psst"}']);
  });

  it('dispatches straight to the handlers; a failing handler surfaces as PusherWebhookDispatchError', async () => {
    const { client, recorder } = await start(platform, {});
    expect(
      await client.dispatchWebhook([{ name: 'member_added', channel: 'presence-room-9', user_id: 'bob' }]),
    ).toMatchObject({ handlerRuns: 1, failures: [] });
    recorder.expectEvent({ userId: 'bob', data: { room: 'presence-room-9' } });
    await expect(
      client.dispatchWebhook([{ name: 'channel_vacated', channel: 'private-fragile' }]),
    ).rejects.toBeInstanceOf(PusherWebhookDispatchError);
    // Over HTTP the same failure is a 500, which makes Pusher deliver again.
    expect((await client.sendWebhook([{ name: 'channel_vacated', channel: 'private-fragile' }])).status).toBe(500);
  });

  it('authorizes as pusher-js asks (form-encoded) and verifies the answers like a Pusher server', async () => {
    const { client } = await start(platform, { authorizer: TeamAuthorizer });
    expect(await client.expectChannelAuthorized('private-team-ann', { headers: { 'x-user': 'ann' } })).toEqual({});
    expect(await client.expectChannelAuthorized('presence-room-1', { headers: { 'x-user': 'ann' } })).toEqual({
      channelData: { user_id: 'ann', user_info: { name: 'ANN' } },
    });
    await client.expectChannelRefused('private-team-bob', { headers: { 'x-user': 'ann' } });
    await client.expectChannelRefused('private-team-ann');
    await client.expectChannelRefused('public-news', { headers: { 'x-user': 'ann' }, status: 400 });
    expect(await client.expectUserAuthenticated({ headers: { 'x-user': 'ann' } })).toEqual({ id: 'ann' });
    await client.expectUserRefused();

    // A signed answer only counts for the socket and channel it was made for.
    const answer = await client.authorizeChannel('private-team-ann', { headers: { 'x-user': 'ann' } });
    expect(() =>
      verifyChannelAuthorization(client.options, { socketId: '999.999', channelName: 'private-team-ann' }, answer.body),
    ).toThrow('the auth signature does not match "999.999:private-team-ann"');
    expect(() =>
      verifyChannelAuthorization(
        client.options,
        { socketId: answer.socketId, channelName: 'private-team-bob' },
        answer.body,
      ),
    ).toThrow(PusherExpectationError);
  });

  it('catches an authorizer that allows too much', async () => {
    const { client } = await start(platform, { authorizer: LaxAuthorizer });
    await expect(client.expectChannelRefused('private-team-bob', { headers: { 'x-user': 'ann' } })).rejects.toThrow(
      'Expected private-team-bob to be refused with 403, the app answered 200 (a signed subscription: the authorizer allowed it)',
    );
  });
});

describe('verifyChannelAuthorization', () => {
  const credentials = { key: 'k', secret: 's', encryptionMasterKeyBase64: MASTER_KEY_BASE64 };

  it("refuses an encrypted channel's answer without the channel's shared_secret, and presence answers without user_id", async () => {
    const pusher = new PusherService({
      appId: '1',
      key: 'k',
      secret: 's',
      encryptionMasterKeyBase64: MASTER_KEY_BASE64,
    });
    const good = pusher.authorizeChannel('1.2', 'private-encrypted-x');
    expect(
      verifyChannelAuthorization(credentials, { socketId: '1.2', channelName: 'private-encrypted-x' }, good),
    ).toEqual({});
    expect(() =>
      verifyChannelAuthorization(
        credentials,
        { socketId: '1.2', channelName: 'private-encrypted-x' },
        { auth: good.auth, shared_secret: Buffer.alloc(32).toString('base64') },
      ),
    ).toThrow("shared_secret is missing or is not this channel's key");
    expect(() =>
      verifyChannelAuthorization(credentials, { socketId: '1.2', channelName: 'presence-x' }, { auth: good.auth }),
    ).toThrow('has no channel_data');
    // The signed-in user's presence: accepted only when asked, and only when signed over socket_id:channel.
    const signedIn = pusher.authorizeChannel('1.2', 'presence-x', SIGNED_IN_USER);
    expect(() =>
      verifyChannelAuthorization(credentials, { socketId: '1.2', channelName: 'presence-x' }, signedIn),
    ).toThrow('pass { signedIn: true }');
    expect(
      verifyChannelAuthorization(credentials, { socketId: '1.2', channelName: 'presence-x' }, signedIn, {
        signedIn: true,
      }),
    ).toEqual({});
    expect(() =>
      verifyChannelAuthorization(credentials, { socketId: '1.3', channelName: 'presence-x' }, signedIn, {
        signedIn: true,
      }),
    ).toThrow('the auth signature does not match "1.3:presence-x"');
    // Member data, when present, is still checked and signed.
    const member = pusher.authorizeChannel('1.2', 'presence-x', { user_id: '7' });
    expect(
      verifyChannelAuthorization(credentials, { socketId: '1.2', channelName: 'presence-x' }, member, {
        signedIn: true,
      }),
    ).toEqual({ channelData: { user_id: '7' } });
    expect(() =>
      verifyChannelAuthorization(
        credentials,
        { socketId: '1.2', channelName: 'private-x' },
        { auth: 'other-key:' + 'a'.repeat(64) },
      ),
    ).toThrow('auth must start with the app key');
    await pusher.close();
  });
});
