/**
 * The application the hostile route specs attack: `PusherModule.forRoot()` with an authorizer that counts its calls,
 * an `@OnPusherEvent()` handler for every event name, and a user's own `@PusherWebhook()` route; created with
 * `{ rawBody: true }` on Express or Fastify, listening on 127.0.0.1:0, logging into a {@link CapturingLogger}.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Controller, type INestApplication, Injectable, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  OnPusherEvent,
  type PusherAuthorizer,
  type PusherChannelAuthorizationRequest,
  PusherModule,
  type PusherUserAuthenticationRequest,
  PusherWebhook,
  type PusherWebhookEvent,
  type PusherWebhookPayload,
  VerifiedWebhook,
} from 'nest-pusher';
import { CapturingLogger } from './hostile-secrets.js';
import { HOSTILE_APP, KNOWN_EVENT_NAMES } from './hostile-webhooks.js';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: readonly Platform[] = ['express', 'fastify'];

/** Path of the user's own `@PusherWebhook()` route. */
export const OWN_WEBHOOK_PATH = '/hooks/pusher';

/** Everything the app's code saw; the specs compare counts before and after each request. */
export interface Recorder {
  /** Events that reached the `@OnPusherEvent()` handler (through the built-in route). */
  events: PusherWebhookEvent[];
  /** Payloads that reached the user's own `@PusherWebhook()` route handler. */
  ownRoute: PusherWebhookPayload[];
  authorizeChannel: Array<{ socketId: string; channel: string }>;
  authenticateUser: Array<{ socketId: string }>;
}

export function newRecorder(): Recorder {
  return { events: [], ownRoute: [], authorizeChannel: [], authenticateUser: [] };
}

/**
 * The app's authorizer: allows `private-` channels and presence channels (as member `member-1`) unless the name
 * contains `denied`; signs every socket in as `user-1` unless its id ends in `.0`. Decisions are a pure function of the
 * input so the specs can predict 200 vs 403.
 */
export function authorizerDecision(channel: string): false | true | { user_id: string; user_info: { name: string } } {
  if (channel.includes('denied')) return false;
  if (channel.startsWith('presence-')) return { user_id: 'member-1', user_info: { name: 'M' } };
  return channel.startsWith('private-');
}
export const userDecision = (socketId: string): false | { id: string } =>
  socketId.endsWith('.0') ? false : { id: 'user-1' };

export interface HostileApp {
  app: INestApplication;
  port: number;
  logger: CapturingLogger;
  recorder: Recorder;
  close(): Promise<void>;
}

/** Builds and starts the app on `platform`. */
export async function startHostileApp(platform: Platform): Promise<HostileApp> {
  const recorder = newRecorder();
  const logger = new CapturingLogger();

  @Injectable()
  class CountingAuthorizer implements PusherAuthorizer {
    authorizeChannel({ socketId, channel }: PusherChannelAuthorizationRequest) {
      recorder.authorizeChannel.push({ socketId, channel });
      return authorizerDecision(channel);
    }
    async authenticateUser({ socketId }: PusherUserAuthenticationRequest) {
      recorder.authenticateUser.push({ socketId });
      return userDecision(socketId);
    }
  }

  @Injectable()
  class EventRecorder {
    @OnPusherEvent([...KNOWN_EVENT_NAMES])
    onEvent(event: PusherWebhookEvent): void {
      recorder.events.push(event);
    }
  }

  @Controller()
  class OwnWebhookController {
    @Post(OWN_WEBHOOK_PATH)
    @PusherWebhook()
    receive(@VerifiedWebhook() payload: PusherWebhookPayload): { received: number } {
      recorder.ownRoute.push(payload);
      return { received: payload.events.length };
    }
  }

  @Module({
    imports: [
      PusherModule.forRoot({
        appId: HOSTILE_APP.appId,
        key: HOSTILE_APP.key,
        secret: HOSTILE_APP.secret,
        // Nothing is ever sent; a closed local port keeps it that way.
        host: '127.0.0.1',
        port: 9,
        useTLS: false,
        // The hostile specs are about authenticity and shape: old time_ms values and repeated bodies are part of
        // what they send. The freshness window and duplicate suppression have their own specs.
        webhookMaxAgeMs: false,
        webhooks: { deliveryStore: false },
        authorizer: CountingAuthorizer,
      }),
    ],
    controllers: [OwnWebhookController],
    providers: [EventRecorder],
  })
  class HostileAppModule {}

  const app =
    platform === 'fastify'
      ? await NestFactory.create(HostileAppModule, new FastifyAdapter(), { rawBody: true, logger, abortOnError: false })
      : await NestFactory.create(HostileAppModule, { rawBody: true, logger, abortOnError: false });
  app.useLogger(logger);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, port, logger, recorder, close: () => app.close() };
}
