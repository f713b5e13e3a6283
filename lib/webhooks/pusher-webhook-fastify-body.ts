import { BadRequestException, Injectable, type OnModuleInit, UnsupportedMediaTypeException } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost, MetadataScanner, Reflector } from '@nestjs/core';
import { PUSHER_WEBHOOK_ROUTE_METADATA } from '../pusher.constants.js';

/** The media type Pusher's JSON webhooks are parsed under on Fastify (see {@link PusherWebhookFastifyBody}). */
export const WEBHOOK_MEDIA_TYPE = 'application/vnd.nest-pusher.webhook+json';

/** The parts of a Fastify instance used here (no import of fastify: it is the application's optional choice). */
interface FastifyLike {
  initialConfig: { bodyLimit?: number };
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: unknown, done: () => void) => void): unknown;
  addContentTypeParser(
    type: string,
    options: { parseAs: 'buffer'; bodyLimit?: number },
    parser: (request: FastifyRequestLike, body: Buffer, done: (error: Error | null, parsed?: unknown) => void) => void,
  ): unknown;
}
interface FastifyRequestLike {
  headers: Record<string, string | string[] | undefined>;
  rawBody?: Buffer;
  /** Fastify ≥ 4.10: the matched route; `config` holds what `@PusherWebhook()` put in its route config. */
  routeOptions?: { config?: Record<string, unknown> };
  [ORIGINAL_CONTENT_TYPE]?: string;
}

const ORIGINAL_CONTENT_TYPE = Symbol('nest-pusher:original-content-type');
const instrumented = new WeakSet<object>();

/**
 * Makes Fastify hand a signed webhook to the guard the way Express does. Fastify's JSON parser answers 400 to any
 * body with a `__proto__` key (`onProtoPoisoning: 'error'`), before any guard runs, and `client_event` data is
 * whatever a subscriber sent: one such event would make a whole batch fail for ever. So JSON requests to webhook
 * routes only (those `@PusherWebhook()` marks in their Fastify route config) are parsed by a parser of their own: it
 * keeps the raw bytes for the guard, which verifies them, and gives the route a body without `__proto__` /
 * `constructor` keys, so it cannot pollute prototypes either. Every other route keeps the application's parser,
 * headers and limits; nothing is installed when the application has no `@PusherWebhook()` route. A route guarded by
 * a bare `@UseGuards(PusherWebhookGuard)`, or whose `@RouteConfig()` is applied after `@PusherWebhook()`, keeps
 * Fastify's parser (which answers 400 to a `__proto__` key). No-op on other platforms.
 */
@Injectable()
export class PusherWebhookFastifyBody implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly discoveryService: DiscoveryService,
    private readonly metadataScanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter === undefined || adapter === null || adapter.getType() !== 'fastify') return;
    if (!this.hasWebhookRoute()) return;
    const instance = adapter.getInstance<FastifyLike>();
    if (instrumented.has(instance)) return;
    instrumented.add(instance);

    instance.addHook('onRequest', (request, _reply, done) => {
      const contentType = request.headers['content-type'];
      if (
        typeof contentType === 'string' &&
        isJson(contentType) &&
        request.routeOptions?.config?.[PUSHER_WEBHOOK_ROUTE_METADATA] === true
      ) {
        // Selects the parser below for this request only; the parser puts the header back.
        request[ORIGINAL_CONTENT_TYPE] = contentType;
        request.headers['content-type'] = WEBHOOK_MEDIA_TYPE;
      }
      done();
    });
    const { bodyLimit } = instance.initialConfig;
    instance.addContentTypeParser(
      WEBHOOK_MEDIA_TYPE,
      { parseAs: 'buffer', ...(bodyLimit ? { bodyLimit } : {}) },
      (request, body, done) => {
        const original = request[ORIGINAL_CONTENT_TYPE];
        if (original === undefined) {
          // A client sent this private media type itself: not a webhook route's JSON, so no body for it.
          done(new UnsupportedMediaTypeException());
          return;
        }
        request.headers['content-type'] = original;
        request.rawBody = body;
        try {
          done(null, JSON.parse(body.toString('utf8'), withoutPrototypeKeys));
        } catch {
          // What Express's body parser answers to a JSON body that does not parse.
          done(new BadRequestException('Webhook body is not valid JSON'));
        }
      },
    );
  }

  /** Whether any controller method carries `@PusherWebhook()`. */
  private hasWebhookRoute(): boolean {
    for (const wrapper of this.discoveryService.getControllers()) {
      const prototype: unknown = wrapper.metatype?.prototype;
      if (!prototype || typeof prototype !== 'object') continue;
      for (const name of this.metadataScanner.getAllMethodNames(prototype)) {
        // Inherited route methods count too: Nest serves them.
        const method: unknown = (prototype as Record<string, unknown>)[name];
        if (
          typeof method === 'function' &&
          this.reflector.get<boolean | undefined>(PUSHER_WEBHOOK_ROUTE_METADATA, method) === true
        ) {
          return true;
        }
      }
    }
    return false;
  }
}

function isJson(contentType: string): boolean {
  return contentType.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** JSON.parse reviver: `__proto__` and `constructor` keys are dropped (the guard verifies the raw bytes, not this). */
function withoutPrototypeKeys(key: string, value: unknown): unknown {
  return key === '__proto__' || key === 'constructor' ? undefined : value;
}
