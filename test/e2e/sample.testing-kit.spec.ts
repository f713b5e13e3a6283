/**
 * The sample app's own tests, written with `nest-pusher/testing` as an app developer would: the whole `AppModule`
 * (which imports `PusherModule.forRoot` itself) in `@nestjs/testing`, its `PusherService` on a recording transport,
 * real HTTP on Express and on Fastify, no Pusher server and no network.
 */
import 'reflect-metadata';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Logger, type INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { PusherRecorder, PusherTestClient, overridePusherTransport } from 'nest-pusher/testing';
import { AppModule } from '../../sample/app.module.js';
import { CHANNELS, type SampleConfig } from '../../sample/sample.config.js';
import { SESSION_COOKIE } from '../../sample/session.js';

const config: SampleConfig = {
  pusher: {
    appId: 'sample',
    key: 'sample-key',
    secret: randomBytes(16).toString('hex'),
    encryptionMasterKeyBase64: randomBytes(32).toString('base64'),
  },
  client: { key: 'sample-key', cluster: 'mt1', forceTLS: false, encryptedRoom: true },
};

/** The session cookie the sample's join route sets. */
const as = (name: string): Record<string, string> => ({ cookie: `${SESSION_COOKIE}=${encodeURIComponent(name)}` });

describe.each(['express', 'fastify'] as const)('the sample app, tested with nest-pusher/testing on %s', (platform) => {
  let app: INestApplication;
  let recorder: PusherRecorder;
  let pusher: PusherTestClient;

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    recorder = new PusherRecorder();
    const moduleRef = await overridePusherTransport(
      Test.createTestingModule({ imports: [AppModule.forRoot(config)] }),
      recorder,
    ).compile();
    app =
      platform === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter(), { rawBody: true })
        : moduleRef.createNestApplication({ rawBody: true });
    pusher = await PusherTestClient.create(app);
  });

  afterEach(async () => {
    await app.close();
    jest.restoreAllMocks();
  });

  const post = (path: string, body: unknown, headers: Record<string, string>): Promise<Response> =>
    fetch(pusher.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it("a chat message goes to the room, but not back to the sender's own connection", async () => {
    const response = await post('/chat/messages', { text: '  hello  ', socketId: '11.22' }, as('Ann'));
    expect(response.status).toBe(201);
    recorder.expectEvent({
      channel: CHANNELS.room,
      event: 'message',
      socketId: '11.22',
      data: { from: { id: 'ann', name: 'Ann' }, text: 'hello' },
    });
  });

  it('a vault message is end-to-end encrypted: only ciphertext leaves the app', async () => {
    expect((await post('/vault/messages', { text: 'the pin is 1234' }, as('Ann'))).status).toBe(201);
    const event = recorder.expectEvent({ channel: CHANNELS.vault, encrypted: true, data: { text: 'the pin is 1234' } });
    expect(event.wireData).not.toContain('1234');
  });

  it('a nudge reaches the one user it names', async () => {
    expect((await post('/notify', { to: 'bob' }, as('Ann'))).status).toBe(202);
    recorder.expectEvent({
      via: 'sendToUser',
      userId: 'bob',
      event: 'notification',
      data: { text: 'Ann nudged you.' },
    });
    expect((await post('/notify', { to: 'not a user id' }, as('Ann'))).status).toBe(400);
    expect(recorder.events).toHaveLength(1);
  });

  it('a new room member is reported on the activity feed and welcomed with the head count', async () => {
    recorder.answerAlways({ status: 200, body: { users: [{ id: 'ann' }, { id: 'bob' }] } }, 'usersInfo');
    await pusher.expectWebhookAccepted([{ name: 'member_added', channel: CHANNELS.room, user_id: 'bob' }]);
    recorder.expectEvent({
      channel: CHANNELS.activity,
      event: 'webhook',
      data: { kind: 'member_added', text: 'bob joined' },
    });
    recorder.expectCall({ kind: 'usersInfo', channel: CHANNELS.room });
    recorder.expectEvent({ via: 'sendToUser', userId: 'bob', data: { text: 'Welcome! 2 people are in the room.' } });
  });

  it("the activity channel's own occupancy is not reported; client events in the room are", async () => {
    await pusher.expectWebhookAccepted([{ name: 'channel_occupied', channel: CHANNELS.activity }]);
    recorder.expectNoEvent();
    await pusher.expectWebhookAccepted([
      {
        name: 'client_event',
        channel: CHANNELS.room,
        event: 'client-typing',
        data: {},
        socket_id: '1.2',
        user_id: 'ann',
      },
    ]);
    recorder.expectEvent({
      channel: CHANNELS.activity,
      data: { kind: 'client_event', text: 'client-typing from ann' },
    });
  });

  it('refuses webhooks that are not signed with the app secret', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const forged = pusher.signWebhook([{ name: 'member_added', channel: CHANNELS.room, user_id: 'eve' }]);
    await pusher.expectWebhookRefused({
      ...forged,
      headers: { ...forged.headers, 'x-pusher-signature': '0'.repeat(64) },
    });
    recorder.expectNoEvent();
  });

  it('the authorizer: room members get their presence data, refused names and strangers get nothing', async () => {
    expect(await pusher.expectChannelAuthorized(CHANNELS.room, { headers: as('Ann') })).toEqual({
      channelData: { user_id: 'ann', user_info: { name: 'Ann' } },
    });
    await pusher.expectChannelAuthorized(CHANNELS.vault, { headers: as('Ann') });
    await pusher.expectChannelRefused(CHANNELS.room, { headers: as('Mallory') });
    await pusher.expectChannelRefused(CHANNELS.room);
    await pusher.expectChannelRefused('private-somebody-else', { headers: as('Ann') });
    expect(await pusher.expectUserAuthenticated({ headers: as('Ann') })).toEqual({
      id: 'ann',
      user_info: { name: 'Ann' },
    });
    await pusher.expectUserRefused({ headers: as('banned bob') });
  });
});
