import type { SIGNED_IN_USER } from '../core/auth.js';
import type { PresenceData, UserData } from '../core/pusher.types.js';

/** What the built-in auth controller asks about one channel subscription. */
export interface PusherChannelAuthorizationRequest<TRequest = unknown> {
  /** The subscribing connection, already checked by the core rule (`validateSocketId`: digits, a dot, digits, ≤ 41 characters). */
  socketId: string;
  /** A `private-`, `private-encrypted-` or `presence-` channel name, already checked against the protocol's rules. */
  channel: string;
  /** The HTTP request as your platform hands it over (Express `Request` or `FastifyRequest`): cookies, session, user. */
  request: TRequest;
}

/** What the built-in auth controller asks when a pusher-js client signs in (`pusher.signin()`). */
export interface PusherUserAuthenticationRequest<TRequest = unknown> {
  socketId: string;
  request: TRequest;
}

/**
 * `true` allows a private or private-encrypted channel (so does member data, which is then ignored). For a presence
 * channel, return the member data `{ user_id, user_info? }`, or {@link SIGNED_IN_USER} when the connection signed in
 * with `pusher.signin()`: the answer then has no `channel_data` and the member is the signed-in user (a connection
 * that did not sign in is refused by pusher-js and the server). `true` does not allow a presence channel (it names no
 * member). Anything else (`false`, `null`, `undefined`) refuses (403). Throw an `HttpException` to answer with
 * another status.
 */
export type PusherChannelAuthorization = boolean | PresenceData | typeof SIGNED_IN_USER | null | undefined;

/** The signed-in user (a non-empty string `id`, optional `user_info`, optional `watchlist`), or a refusal (403). */
export type PusherUserAuthentication = false | UserData | null | undefined;

/**
 * Decides who may subscribe to which channel and who may sign in. Give the class as `authorizer` to
 * `PusherModule.forRoot()` / `forRootAsync()`; Nest's DI builds it, so it can inject your own services (make them
 * visible to `PusherModule` through `imports` or a global module). Deny by default: any answer other than an allow
 * is a 403, and so is an application without an authorizer.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class AppPusherAuthorizer implements PusherAuthorizer<Request> {
 *   constructor(private readonly users: UsersService) {}
 *   async authorizeChannel({ channel, request }) {
 *     const user = await this.users.fromSession(request);
 *     if (!user) return false;
 *     return channel.startsWith('presence-') ? { user_id: user.id, user_info: { name: user.name } } : true;
 *   }
 *   async authenticateUser({ request }) {
 *     const user = await this.users.fromSession(request);
 *     return user ? { id: user.id, user_info: { name: user.name } } : false;
 *   }
 * }
 * ```
 */
export interface PusherAuthorizer<TRequest = unknown> {
  authorizeChannel(
    params: PusherChannelAuthorizationRequest<TRequest>,
  ): PusherChannelAuthorization | Promise<PusherChannelAuthorization>;
  authenticateUser(
    params: PusherUserAuthenticationRequest<TRequest>,
  ): PusherUserAuthentication | Promise<PusherUserAuthentication>;
}
