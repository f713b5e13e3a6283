import './support/nest-app.js';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Injectable, Module, UnauthorizedException } from '@nestjs/common';
import {
  type PusherAuthorizer,
  type PusherChannelAuthorizationRequest,
  PusherModule,
  type PusherUserAuthenticationRequest,
  Pusher,
  PusherService,
  SIGNED_IN_USER,
} from 'nest-pusher';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  APP,
  captureLogs,
  type CapturedLogs,
  hmacHex,
  MASTER_KEY_BASE64,
  PLATFORMS,
  postForm,
  postJson,
  type RunningApp,
  startApp,
} from './support/nest-app.js';

/** The application service the authorizer depends on (injected by Nest). */
@Injectable()
class AccessPolicy {
  mayJoin(user: string, channel: string): boolean {
    return user !== 'mallory' && !channel.endsWith('-forbidden');
  }
}
@Module({ providers: [AccessPolicy], exports: [AccessPolicy] })
class PolicyModule {}

interface HeaderRequest {
  headers: Record<string, string | string[] | undefined>;
}
const asked: Array<{ socketId: string; channel?: string; user: unknown }> = [];

@Injectable()
class TestAuthorizer implements PusherAuthorizer<HeaderRequest> {
  constructor(private readonly policy: AccessPolicy) {}

  authorizeChannel({ socketId, channel, request }: PusherChannelAuthorizationRequest<HeaderRequest>) {
    const user = request.headers['x-user'];
    asked.push({ socketId, channel, user });
    if (typeof user !== 'string' || !this.policy.mayJoin(user, channel)) return false;
    if (channel === 'presence-misused') return true;
    if (channel === 'presence-signed-in') return SIGNED_IN_USER;
    if (channel === 'private-signed-in') return SIGNED_IN_USER;
    // Over Pusher's 1 KB member limit.
    if (channel === 'presence-bad-member') return { user_id: 'x', user_info: { bio: 'x'.repeat(2048) } };
    if (channel === 'private-throws') throw new UnauthorizedException('log in first');
    if (channel.startsWith('presence-')) return { user_id: user, user_info: { name: `User ${user}` } };
    return true;
  }

  async authenticateUser({ socketId, request }: PusherUserAuthenticationRequest<HeaderRequest>) {
    const user = request.headers['x-user'];
    asked.push({ socketId, user });
    if (typeof user !== 'string' || !this.policy.mayJoin(user, '')) return false;
    return { id: user, user_info: { name: `User ${user}` }, watchlist: ['friend-1'] };
  }
}

const SOCKET = '1234.5678';

let logs: CapturedLogs;
let running: RunningApp | undefined;
beforeEach(() => {
  asked.length = 0;
  logs = captureLogs();
});
afterEach(async () => {
  await running?.close();
  running = undefined;
  logs.restore();
});

describe.each(PLATFORMS)('auth routes over HTTP on %s', (platform) => {
  const start = (
    pusherModule = PusherModule.forRoot({
      ...APP,
      encryptionMasterKeyBase64: MASTER_KEY_BASE64,
      authorizer: TestAuthorizer,
      imports: [PolicyModule],
    }),
  ) => startApp(platform, { imports: [pusherModule] }).then((app) => (running = app));

  it("signs a private channel for a form-encoded request (pusher-js's default), 200", async () => {
    const { url } = await start();
    const response = await postForm(
      `${url}/pusher/auth`,
      { socket_id: SOCKET, channel_name: 'private-orders' },
      { 'x-user': 'alice' },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ auth: `${APP.key}:${hmacHex(APP.secret, `${SOCKET}:private-orders`)}` });
    expect(asked).toEqual([{ socketId: SOCKET, channel: 'private-orders', user: 'alice' }]);
  });

  it('accepts a JSON body too', async () => {
    const { url } = await start();
    const response = await postJson(
      `${url}/pusher/auth`,
      { socket_id: SOCKET, channel_name: 'private-orders' },
      { 'x-user': 'alice' },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ auth: `${APP.key}:${hmacHex(APP.secret, `${SOCKET}:private-orders`)}` });
  });

  it("signs a presence channel with the authorizer's member data as channel_data", async () => {
    const { url } = await start();
    const response = await postForm(
      `${url}/pusher/auth`,
      { socket_id: SOCKET, channel_name: 'presence-room' },
      { 'x-user': 'bob' },
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { auth: string; channel_data: string };
    expect(JSON.parse(body.channel_data)).toEqual({ user_id: 'bob', user_info: { name: 'User bob' } });
    expect(body.auth).toBe(`${APP.key}:${hmacHex(APP.secret, `${SOCKET}:presence-room:${body.channel_data}`)}`);
  });

  it('authorizes a private-encrypted channel when PusherService is replaced by a plain core Pusher with a master key', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [PusherModule.forRoot({ ...APP, authorizer: TestAuthorizer, imports: [PolicyModule] })],
    })
      .overrideProvider(PusherService)
      .useValue(new Pusher({ ...APP, encryptionMasterKeyBase64: MASTER_KEY_BASE64 }))
      .compile();
    const app =
      platform === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter())
        : moduleRef.createNestApplication();
    await app.listen(0, '127.0.0.1');
    running = { app, url: '', close: () => app.close() };
    const { port } = app.getHttpServer().address() as { port: number };
    const response = await postForm(
      `http://127.0.0.1:${port}/pusher/auth`,
      { socket_id: SOCKET, channel_name: 'private-encrypted-vault' },
      { 'x-user': 'alice' },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveProperty('shared_secret');
  });

  it('adds the shared_secret for a private-encrypted channel', async () => {
    const { url } = await start();
    const channel = 'private-encrypted-vault';
    const response = await postForm(
      `${url}/pusher/auth`,
      { socket_id: SOCKET, channel_name: channel },
      { 'x-user': 'alice' },
    );
    expect(response.status).toBe(200);
    const expectedSecret = createHash('sha256')
      .update(channel)
      .update(Buffer.from(MASTER_KEY_BASE64, 'base64'))
      .digest('base64');
    expect(await response.json()).toEqual({
      auth: `${APP.key}:${hmacHex(APP.secret, `${SOCKET}:${channel}`)}`,
      shared_secret: expectedSecret,
    });
  });

  it('answers 403 when the authorizer refuses', async () => {
    const { url } = await start();
    const anonymous = await postForm(`${url}/pusher/auth`, { socket_id: SOCKET, channel_name: 'private-orders' });
    expect(anonymous.status).toBe(403);
    const refused = await postForm(
      `${url}/pusher/auth`,
      { socket_id: SOCKET, channel_name: 'presence-forbidden' },
      { 'x-user': 'alice' },
    );
    expect(refused.status).toBe(403);
    expect(JSON.stringify(await refused.json())).not.toContain('auth"');
  });

  it('answers a presence channel the authorizer allows with SIGNED_IN_USER for the signed-in user: signed socket_id:channel, no channel_data', async () => {
    const { url } = await start();
    const response = await postForm(
      `${url}/pusher/auth`,
      { socket_id: SOCKET, channel_name: 'presence-signed-in' },
      { 'x-user': 'alice' },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      auth: `${APP.key}:${hmacHex(APP.secret, `${SOCKET}:presence-signed-in`)}`,
    });
  });

  it('refuses a presence channel the authorizer answers true (no member named: 403) and logs how to opt in', async () => {
    const { url } = await start();
    const response = await postForm(
      `${url}/pusher/auth`,
      { socket_id: SOCKET, channel_name: 'presence-misused' },
      { 'x-user': 'alice' },
    );
    expect(response.status).toBe(403);
    expect(JSON.stringify(await response.json())).not.toContain('auth"');
    expect(logs.lines('error').join('\n')).toContain(
      'Refused presence-misused: the authorizer answered true for a presence channel',
    );
    expect(logs.lines('error').join('\n')).toContain('SIGNED_IN_USER');
  });

  it('refuses SIGNED_IN_USER for a private channel (it allows presence only)', async () => {
    const { url } = await start();
    const response = await postForm(
      `${url}/pusher/auth`,
      { socket_id: SOCKET, channel_name: 'private-signed-in' },
      { 'x-user': 'alice' },
    );
    expect(response.status).toBe(403);
  });

  it("answers 500 and logs when the authorizer's member data breaks the protocol", async () => {
    const { url } = await start();
    const response = await postForm(
      `${url}/pusher/auth`,
      { socket_id: SOCKET, channel_name: 'presence-bad-member' },
      { 'x-user': 'alice' },
    );
    expect(response.status).toBe(500);
    expect(logs.lines('error').join('\n')).toContain('Cannot sign the answer for presence-bad-member');
    expect(logs.lines().join('\n')).not.toContain(APP.secret);
  });

  it('lets the authorizer choose its own HTTP error by throwing one', async () => {
    const { url } = await start();
    const response = await postForm(
      `${url}/pusher/auth`,
      { socket_id: SOCKET, channel_name: 'private-throws' },
      { 'x-user': 'alice' },
    );
    expect(response.status).toBe(401);
  });

  it('refuses (403, logged) an encrypted channel when no encryption master key is configured', async () => {
    const { url } = await start(PusherModule.forRoot({ ...APP, authorizer: TestAuthorizer, imports: [PolicyModule] }));
    for (const post of [postForm, postJson]) {
      const response = await post(
        `${url}/pusher/auth`,
        { socket_id: SOCKET, channel_name: 'private-encrypted-x' },
        { 'x-user': 'alice' },
      );
      expect(response.status).toBe(403);
      expect(JSON.stringify(await response.json())).not.toContain('auth"');
    }
    expect(asked.map((call) => call.channel)).toEqual(['private-encrypted-x', 'private-encrypted-x']);
    expect(logs.lines('error').join('\n')).toContain(
      'private-encrypted-x: end-to-end encrypted channels need the encryptionMasterKeyBase64 option',
    );
  });

  it('answers 400 to a public channel, which needs no authorization', async () => {
    const { url } = await start();
    const response = await postForm(
      `${url}/pusher/auth`,
      { socket_id: SOCKET, channel_name: 'news' },
      { 'x-user': 'alice' },
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain('news is a public channel');
    expect(asked).toEqual([]);
  });

  it.each([
    [{ channel_name: 'private-a' }, 'socket_id is required'],
    [{ socket_id: '1.1:presence-x', channel_name: 'private-a' }, 'socket_id is malformed'],
    [{ socket_id: 'abc', channel_name: 'private-a' }, 'socket_id is malformed'],
    [{ socket_id: `${'1'.repeat(30_000)}.1`, channel_name: 'private-a' }, 'at most 41 characters'],
    [{ socket_id: `${'1'.repeat(21)}.1`, channel_name: 'private-a' }, 'at most 20 digits each'],
    [{ socket_id: SOCKET }, 'channel_name is required'],
    [{ socket_id: SOCKET, channel_name: 'private-a b' }, 'channel_name is malformed'],
    [{ socket_id: SOCKET, channel_name: `private-${'x'.repeat(200)}` }, 'channel_name is malformed'],
    [{ socket_id: SOCKET, channel_name: '#server-to-user-1' }, 'channel_name is malformed'],
  ])('answers 400 to malformed input %j without asking the authorizer', async (fields, message) => {
    const { url } = await start();
    const response = await postForm(`${url}/pusher/auth`, fields as Record<string, string>, { 'x-user': 'alice' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain(message);
    expect(asked).toEqual([]);
  });

  it('answers 400 to a JSON body whose fields are not strings', async () => {
    const { url } = await start();
    const response = await postJson(
      `${url}/pusher/auth`,
      { socket_id: 1234.5678, channel_name: ['private-a'] },
      { 'x-user': 'alice' },
    );
    expect(response.status).toBe(400);
    expect(asked).toEqual([]);
  });

  it('signs a user in on /pusher/user-auth (form and JSON), 403 when refused', async () => {
    const { url } = await start();
    for (const post of [postForm, postJson]) {
      const response = await post(`${url}/pusher/user-auth`, { socket_id: SOCKET }, { 'x-user': 'carol' });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { auth: string; user_data: string };
      expect(JSON.parse(body.user_data)).toEqual({
        id: 'carol',
        user_info: { name: 'User carol' },
        watchlist: ['friend-1'],
      });
      expect(body.auth).toBe(`${APP.key}:${hmacHex(APP.secret, `${SOCKET}::user::${body.user_data}`)}`);
    }
    expect((await postForm(`${url}/pusher/user-auth`, { socket_id: SOCKET }, { 'x-user': 'mallory' })).status).toBe(
      403,
    );
    expect((await postForm(`${url}/pusher/user-auth`, { socket_id: 'x.1' }, { 'x-user': 'carol' })).status).toBe(400);
  });

  it('refuses everything with 403 when no authorizer is configured, and warns at startup', async () => {
    const { url } = await start(PusherModule.forRoot(APP));
    expect(logs.lines('warn').join('\n')).toContain('No authorizer is configured');
    expect((await postForm(`${url}/pusher/auth`, { socket_id: SOCKET, channel_name: 'private-a' })).status).toBe(403);
    expect((await postForm(`${url}/pusher/user-auth`, { socket_id: SOCKET })).status).toBe(403);
  });

  it('serves custom paths (forRootAsync, authorizer with an injected dependency) and not the defaults', async () => {
    const { url } = await start(
      PusherModule.forRootAsync({
        imports: [PolicyModule],
        useFactory: async () => APP,
        authorizer: TestAuthorizer,
        authController: { channelAuthPath: '/realtime/auth', userAuthPath: 'realtime/signin' },
      }),
    );
    const fields = { socket_id: SOCKET, channel_name: 'private-a' };
    expect((await postForm(`${url}/realtime/auth`, fields, { 'x-user': 'alice' })).status).toBe(200);
    expect((await postForm(`${url}/realtime/signin`, { socket_id: SOCKET }, { 'x-user': 'alice' })).status).toBe(200);
    expect((await postForm(`${url}/pusher/auth`, fields, { 'x-user': 'alice' })).status).toBe(404);
    expect((await postForm(`${url}/pusher/user-auth`, { socket_id: SOCKET }, { 'x-user': 'alice' })).status).toBe(404);
  });

  it('switches the auth routes off with authController: false', async () => {
    const { url } = await start(
      PusherModule.forRoot({ ...APP, authorizer: TestAuthorizer, imports: [PolicyModule], authController: false }),
    );
    expect(
      (await postForm(`${url}/pusher/auth`, { socket_id: SOCKET, channel_name: 'private-a' }, { 'x-user': 'alice' }))
        .status,
    ).toBe(404);
    expect((await postForm(`${url}/pusher/user-auth`, { socket_id: SOCKET }, { 'x-user': 'alice' })).status).toBe(404);
  });
});
