import { applyDecorators, HttpCode, HttpStatus, UseGuards } from '@nestjs/common';
import { PUSHER_WEBHOOK_ROUTE_METADATA } from '../pusher.constants.js';
import { PusherWebhookGuard } from './pusher-webhook.guard.js';

/**
 * Marks a route as a Pusher webhook endpoint: {@link PusherWebhookGuard} verifies the request before the handler
 * runs (401 otherwise), and success answers 200. On a controller it guards every route of it; those keep Nest's
 * default status (201 for POST, which Pusher also counts as delivered) unless they carry `@HttpCode()`, because
 * `@HttpCode()` exists for methods only.
 *
 * Needs the app created with `{ rawBody: true }`, and `PusherService` visible in the route's module
 * (`isGlobal: true`, or the route in the module that imports `PusherModule`).
 *
 * @example
 * ```ts
 * @Post('hooks/pusher')
 * @PusherWebhook()
 * receive(@VerifiedWebhook() payload: PusherWebhookPayload) { return this.dispatcher.dispatch(payload); }
 * ```
 */
export function PusherWebhook(): ClassDecorator & MethodDecorator {
  return ((target: object, key?: string | symbol, descriptor?: TypedPropertyDescriptor<unknown>) => {
    if (descriptor === undefined) {
      UseGuards(PusherWebhookGuard)(target as Function);
      // Nest copies a method's metadata (not its class's) onto the route handler the platform sees: mark each method,
      // inherited ones included.
      const prototype = (target as Function).prototype as object;
      for (const name of methodNamesAlongChain(prototype)) {
        const own = Object.getOwnPropertyDescriptor(prototype, name)?.value as unknown;
        if (typeof own === 'function') {
          markWebhookRoute(own);
        } else {
          // Marking the base class's function would make the base and its other subclasses webhook routes too.
          Object.defineProperty(prototype, name, {
            value: markWebhookRoute(ownCopyOf((prototype as Record<string, Function>)[name]!)),
            writable: true,
            configurable: true,
          });
        }
      }
      return;
    }
    applyDecorators(UseGuards(PusherWebhookGuard), HttpCode(HttpStatus.OK))(target, key, descriptor);
    markWebhookRoute(descriptor.value as Function);
  }) as ClassDecorator & MethodDecorator;
}

/**
 * Where `@RouteConfig()` of `@nestjs/platform-fastify` keeps a route's Fastify `config` (which Fastify shows as
 * `request.routeOptions.config`); merged into, so that a `@RouteConfig()` applied before this decorator is kept.
 */
const FASTIFY_ROUTE_CONFIG_METADATA = '__fastify_route_config__';

/** Every method name of `prototype` and the prototypes it inherits from (not `Object.prototype`'s), once each. */
function methodNamesAlongChain(prototype: object): string[] {
  const names = new Set<string>();
  for (
    let level: object | null = prototype;
    level !== null && level !== Object.prototype;
    level = Object.getPrototypeOf(level)
  ) {
    for (const name of Object.getOwnPropertyNames(level)) {
      if (name !== 'constructor' && typeof Object.getOwnPropertyDescriptor(level, name)?.value === 'function')
        names.add(name);
    }
  }
  return [...names];
}

/** A function of the subclass's own that calls the inherited one and carries a copy of its route metadata. */
function ownCopyOf(inherited: Function): Function {
  const copy = function (this: unknown, ...args: unknown[]): unknown {
    return inherited.apply(this, args);
  };
  for (const key of Reflect.getOwnMetadataKeys(inherited)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, inherited), copy);
  }
  Object.defineProperty(copy, 'name', { value: inherited.name });
  return copy;
}

function markWebhookRoute(method: Function): Function {
  Reflect.defineMetadata(PUSHER_WEBHOOK_ROUTE_METADATA, true, method);
  const config: unknown = Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, method);
  Reflect.defineMetadata(
    FASTIFY_ROUTE_CONFIG_METADATA,
    { ...(config as object | undefined), [PUSHER_WEBHOOK_ROUTE_METADATA]: true },
    method,
  );
  return method;
}
