import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { PUSHER_WEBHOOK_EVENT_NAMES, type PusherWebhookEventName } from '../core/pusher.types.js';
import { PUSHER_EVENT_HANDLER_METADATA } from '../pusher.constants.js';
import type { PusherEventHandlerMetadata } from './on-pusher-event.decorator.js';
import { PusherWebhookDispatcher } from './pusher-webhook.dispatcher.js';

type InstanceWrapper = ReturnType<DiscoveryService['getProviders']>[number];

/**
 * Finds every `@OnPusherEvent()` method of every provider and controller once, at bootstrap, and registers it with
 * the dispatcher. Fails the start on an unknown event name or a bad channel filter; skips request-scoped providers
 * with a warning (a webhook has no request of the application's users to scope them to).
 */
@Injectable()
export class PusherEventsExplorer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('PusherEventsExplorer');
  private readonly removals: Array<() => void> = [];

  constructor(
    private readonly discoveryService: DiscoveryService,
    private readonly metadataScanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly dispatcher: PusherWebhookDispatcher,
  ) {}

  onApplicationBootstrap(): void {
    this.explore();
  }

  onApplicationShutdown(): void {
    this.removals.splice(0).forEach((remove) => remove());
  }

  private explore(): void {
    const seen = new Set<object>();
    const wrappers: InstanceWrapper[] = [
      ...this.discoveryService.getProviders(),
      ...this.discoveryService.getControllers(),
    ];
    for (const wrapper of wrappers) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || wrapper.isAlias || seen.has(instance)) {
        continue;
      }
      seen.add(instance);
      const prototype: unknown = Object.getPrototypeOf(instance);
      if (!prototype || prototype === Object.prototype) {
        continue;
      }
      for (const methodName of this.metadataScanner.getAllMethodNames(prototype)) {
        this.registerMethod(wrapper, instance as Record<string, unknown>, methodName);
      }
    }
  }

  private registerMethod(wrapper: InstanceWrapper, instance: Record<string, unknown>, methodName: string): void {
    const method = instance[methodName];
    if (typeof method !== 'function') {
      return;
    }
    const metadata = this.reflector.get<PusherEventHandlerMetadata[] | undefined>(
      PUSHER_EVENT_HANDLER_METADATA,
      method,
    );
    if (!metadata?.length) {
      return;
    }
    const handlerName = `${instance.constructor.name}.${methodName}`;
    for (const entry of metadata) {
      validate(entry, handlerName);
    }
    if (!wrapper.isDependencyTreeStatic()) {
      this.logger.warn(
        `${handlerName} is not registered for Pusher webhook events: ${instance.constructor.name} is request-scoped ` +
          '(or depends on a request-scoped provider). Put @OnPusherEvent() handlers on singleton providers.',
      );
      return;
    }
    for (const entry of metadata) {
      this.removals.push(
        this.dispatcher.addHandler({
          events: entry.events as PusherWebhookEventName[],
          ...(entry.channel !== undefined ? { channel: entry.channel } : {}),
          name: handlerName,
          handle: (event, context) => (method as Function).call(instance, event, context),
        }),
      );
    }
  }
}

function validate(entry: PusherEventHandlerMetadata, handlerName: string): void {
  const valid: readonly string[] = PUSHER_WEBHOOK_EVENT_NAMES;
  if (entry.events.length === 0) {
    throw new Error(`@OnPusherEvent() on ${handlerName} names no event. Valid names: ${valid.join(', ')}.`);
  }
  for (const name of entry.events) {
    if (!valid.includes(name)) {
      throw new Error(
        `@OnPusherEvent() on ${handlerName}: unknown Pusher webhook event ${JSON.stringify(name)}. ` +
          `Valid names: ${valid.join(', ')}.`,
      );
    }
  }
  const { channel } = entry;
  if (channel !== undefined && !(typeof channel === 'string' && channel.length > 0) && !(channel instanceof RegExp)) {
    throw new Error(
      `@OnPusherEvent() on ${handlerName}: the channel filter must be a non-empty channel name or a RegExp.`,
    );
  }
}
