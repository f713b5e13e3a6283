/**
 * Issue 15 against real soketi batched webhooks, on Express and Fastify: 100 events reach the app in soketi's
 * signed batches, one of them a `client_event` that cannot be decrypted (any subscriber of a `private-encrypted-`
 * channel can send one); the other 99 reach their handlers, the poisoned one is logged and skipped, and every
 * webhook is answered 200 (soketi does not retry, so a refused batch would be lost).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Injectable, Logger, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  OnPusherEvent,
  type PusherAuthorizer,
  type PusherEventContext,
  PusherModule,
  type PusherWebhookEvent,
  type PusherWebhookPayload,
} from 'nest-pusher';
import { connectClient, disconnectAllClients } from '../support/pusher-client.js';
import { freeTcpPort, randomApp, startTestSoketi, type TestSoketi } from '../support/soketi.js';
import { waitFor } from '../support/wait.js';

const PUBLIC_CHANNELS = 98;

@Injectable()
class BatchRecorder {
  readonly events: PusherWebhookEvent[] = [];
  readonly payloads = new Set<PusherWebhookPayload>();

  @OnPusherEvent(['channel_occupied', 'client_event'])
  record(event: PusherWebhookEvent, { payload }: PusherEventContext): void {
    this.events.push(event);
    this.payloads.add(payload);
  }
}

@Injectable()
class AllowAll implements PusherAuthorizer {
  authorizeChannel(): boolean {
    return true;
  }
  authenticateUser(): false {
    return false;
  }
}

describe.each(['express', 'fastify'] as const)('soketi batched webhooks with a poisoned event on %s', (platform) => {
  const credentials = randomApp();
  let soketi: TestSoketi;
  let app: INestApplication;
  let recorder: BatchRecorder;
  const warnings: string[] = [];
  let warnSpy: ReturnType<typeof jest.spyOn>;

  beforeAll(async () => {
    warnSpy = jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation((message: unknown) => void warnings.push(String(message)));
    const soketiPort = await freeTcpPort();
    @Module({
      imports: [
        PusherModule.forRoot({
          ...credentials,
          host: '127.0.0.1',
          port: soketiPort,
          useTLS: false,
          encryptionMasterKeyBase64: randomBytes(32).toString('base64'),
          authorizer: AllowAll,
        }),
      ],
      providers: [BatchRecorder],
    })
    class AppModule {}
    app =
      platform === 'express'
        ? await NestFactory.create(AppModule, { rawBody: true, logger: ['error', 'warn'] })
        : await NestFactory.create(AppModule, new FastifyAdapter(), { rawBody: true, logger: ['error', 'warn'] });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    recorder = app.get(BatchRecorder);
    soketi = await startTestSoketi({
      ...credentials,
      port: soketiPort,
      webhookUrl: `http://127.0.0.1:${port}/pusher/webhooks`,
      webhookEvents: ['channel_occupied', 'client_event'],
      // soketi's batching window; the assertions below hold however soketi splits the events.
      webhookBatchingMs: 2000,
    });
  });

  afterAll(async () => {
    await disconnectAllClients();
    await soketi?.stop();
    await app?.close();
    warnSpy?.mockRestore();
  });

  it('delivers the 99 good events of 100 to their handlers and logs the undecryptable one', async () => {
    const suffix = randomBytes(4).toString('hex');
    const client = await connectClient(
      { host: soketi.host, port: soketi.port, key: credentials.key },
      { channelAuthEndpoint: `${await appUrl()}/pusher/auth` },
    );
    const vault = `private-encrypted-vault-${suffix}`;
    const publicChannels = Array.from({ length: PUBLIC_CHANNELS }, (_, index) => `batch-${suffix}-${index}`);
    await Promise.all([...publicChannels, vault].map((name) => client.subscribe(name)));
    // pusher-js will not trigger client events on encrypted channels itself; send the raw protocol message.
    client.pusher.send_event('client-poison', { nonce: 'AAAA', ciphertext: 'AAAA' }, vault);

    await waitFor(
      () =>
        recorder.events.length >= PUBLIC_CHANNELS + 1 &&
        warnings.some((line) => line.includes('could not be decrypted')),
      {
        timeoutMs: 20_000,
        description: '99 handled events and one logged rejection',
      },
    );
    const channels = recorder.events.map((event) => event.channel).sort();
    expect(channels).toEqual([...publicChannels, vault].sort());
    expect(recorder.events.every((event) => event.name === 'channel_occupied')).toBe(true);
    // soketi batched them: fewer webhooks than events.
    const sizes = [...recorder.payloads].map(
      (payload) => payload.events.length + (payload.rejectedEvents?.length ?? 0),
    );
    expect(sizes.length).toBeLessThan(PUBLIC_CHANNELS + 1);
    expect(warnings.filter((line) => line.includes('could not be decrypted'))).toHaveLength(1);
  });

  async function appUrl(): Promise<string> {
    const { port } = app.getHttpServer().address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }
});
