/** `nest-pusher/testing`: test an app's Pusher code with `@nestjs/testing`, no server, no network. */
export { PusherTestingModule, overridePusherTransport, PUSHER_TESTING_CREDENTIALS } from './pusher-testing.module.js';
export type { PusherOverridableBuilder, PusherTestingModuleOptions } from './pusher-testing.module.js';
export { PusherRecorder } from './pusher-recorder.js';
export type {
  PusherCallKind,
  PusherCallMatch,
  PusherCallSelector,
  PusherEventMatch,
  PusherScriptedAnswer,
  PusherScriptedFailure,
  RecordedPusherCall,
  RecordedPusherEvent,
} from './pusher-recorder.js';
export { PusherExpectationError, describeMismatch } from './expectation.js';
export { freshWebhookTimeMs, signPusherWebhook } from './pusher-webhook.testing.js';
export type {
  PusherWebhookCredentials,
  PusherWebhookEventInput,
  SignedPusherWebhook,
} from './pusher-webhook.testing.js';
export {
  verifyChannelAuthorization,
  verifyUserAuthentication,
  type PusherAuthCredentials,
  type PusherChannelAuthorizationCheck,
} from './pusher-auth.testing.js';
export { PusherTestClient, randomSocketId } from './pusher-test-client.js';
export type {
  PusherAuthRequestOptions,
  PusherHttpAnswer,
  PusherTestApplication,
  PusherTestClientOptions,
  PusherWebhookSendOptions,
} from './pusher-test-client.js';
