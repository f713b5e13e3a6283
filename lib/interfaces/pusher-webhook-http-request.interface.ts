import type { PusherWebhookPayload } from '../core/pusher.types.js';
import type { PUSHER_VERIFIED_WEBHOOK } from '../pusher.constants.js';

/** The parts of an Express or Fastify request the webhook guard reads (both platforms have this shape). */
export interface PusherWebhookHttpRequest {
  headers: Record<string, string | string[] | undefined>;
  /** Set by Nest when the app is created with `{ rawBody: true }` (Express and Fastify alike). */
  rawBody?: Buffer | string;
  /** The parsed body. */
  body?: unknown;
  [PUSHER_VERIFIED_WEBHOOK]?: PusherWebhookPayload;
}
