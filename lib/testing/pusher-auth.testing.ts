import { deriveChannelKey, parseMasterKey } from '../core/encryption.js';
import type { PresenceData, UserData } from '../core/pusher.types.js';
import { constantTimeEqualDigest, hmacSha256 } from '../core/signing.js';
import { isEncryptedChannel, isPresenceChannel } from '../core/validation.js';
import { PusherExpectationError, show } from './expectation.js';

/** The app's key and secret (and master key, to check an encrypted channel's `shared_secret`). */
export interface PusherAuthCredentials {
  key: string;
  secret: string;
  encryptionMasterKeyBase64?: string | undefined;
}

/** Options of {@link verifyChannelAuthorization}. */
export interface PusherChannelAuthorizationCheck {
  /**
   * The connection signed in (`pusher.signin()`): a presence answer without `channel_data`, signed over
   * `socket_id:channel` (what an authorizer's `SIGNED_IN_USER` gives), is accepted too. Default false.
   */
  signedIn?: boolean;
}

/**
 * Checks a channel-authorization answer as a Pusher server checks a subscription: `auth` is `key:` and the
 * HMAC-SHA256 of `socket_id:channel[:channel_data]` (constant-time), presence answers carry `channel_data` with a
 * `user_id` (or, with `{ signedIn: true }`, none at all), encrypted ones the channel's `shared_secret`. Returns the
 * parsed presence data, if any.
 * @throws PusherExpectationError saying what a server would refuse.
 */
export function verifyChannelAuthorization(
  credentials: PusherAuthCredentials,
  request: { socketId: string; channelName: string },
  answer: unknown,
  check: PusherChannelAuthorizationCheck = {},
): { channelData?: PresenceData } {
  const fields = asRecord(answer, `the channel authorization answer for ${request.channelName}`);
  const presence = isPresenceChannel(request.channelName);
  let signed = `${request.socketId}:${request.channelName}`;
  let channelData: PresenceData | undefined;
  // The signed-in user as member: the server takes it from the sign-in, and the signature has no channel_data.
  const signedInMember = presence && fields.channel_data === undefined && check.signedIn === true;
  if (presence && !signedInMember) {
    if (typeof fields.channel_data !== 'string') {
      throw new PusherExpectationError(
        `Presence channel ${request.channelName}: the answer has no channel_data string (got ${show(fields.channel_data)}); ` +
          'pass { signedIn: true } if the connection signed in and the authorizer answered SIGNED_IN_USER.',
      );
    }
    const parsed = parseJson(fields.channel_data);
    if (
      parsed === null ||
      typeof parsed !== 'object' ||
      (typeof (parsed as PresenceData).user_id !== 'string' &&
        typeof (parsed as { user_id?: unknown }).user_id !== 'number')
    ) {
      throw new PusherExpectationError(
        `Presence channel ${request.channelName}: channel_data ${show(fields.channel_data)} has no user_id.`,
      );
    }
    channelData = parsed as PresenceData;
    signed += `:${fields.channel_data}`;
  }
  checkAuth(credentials, fields.auth, signed, `channel ${request.channelName}`);
  if (isEncryptedChannel(request.channelName) && credentials.encryptionMasterKeyBase64 !== undefined) {
    const expected = Buffer.from(
      deriveChannelKey(request.channelName, parseMasterKey(credentials.encryptionMasterKeyBase64)),
    ).toString('base64');
    if (fields.shared_secret !== expected) {
      throw new PusherExpectationError(
        `Encrypted channel ${request.channelName}: shared_secret is missing or is not this channel's key.`,
      );
    }
  }
  return channelData === undefined ? {} : { channelData };
}

/**
 * Checks a user-authentication answer as a Pusher server checks a sign-in: `auth` is `key:` and the HMAC-SHA256 of
 * `socket_id::user::user_data`, and `user_data` is JSON with a non-empty string `id`. Returns the parsed user data.
 * @throws PusherExpectationError saying what a server would refuse.
 */
export function verifyUserAuthentication(
  credentials: PusherAuthCredentials,
  request: { socketId: string },
  answer: unknown,
): UserData {
  const fields = asRecord(answer, 'the user authentication answer');
  if (typeof fields.user_data !== 'string') {
    throw new PusherExpectationError(
      `The user authentication answer has no user_data string (got ${show(fields.user_data)}).`,
    );
  }
  const userData = parseJson(fields.user_data) as UserData | null;
  if (userData === null || typeof userData !== 'object' || typeof userData.id !== 'string' || userData.id === '') {
    throw new PusherExpectationError(`user_data ${show(fields.user_data)} has no non-empty string id.`);
  }
  checkAuth(credentials, fields.auth, `${request.socketId}::user::${fields.user_data}`, 'user sign-in');
  return userData;
}

function checkAuth(credentials: PusherAuthCredentials, auth: unknown, signed: string, what: string): void {
  if (typeof auth !== 'string')
    throw new PusherExpectationError(`The answer for ${what} has no auth string (got ${show(auth)}).`);
  const separator = auth.indexOf(':');
  const key = auth.slice(0, separator);
  const signature = auth.slice(separator + 1);
  if (separator === -1 || key !== credentials.key) {
    throw new PusherExpectationError(
      `The answer for ${what}: auth must start with the app key and a colon ("${credentials.key}:…").`,
    );
  }
  // Compared in constant time; anything that is not 64 hex digits compares false.
  if (!constantTimeEqualDigest(hmacSha256(credentials.secret, signed), signature)) {
    throw new PusherExpectationError(
      `The answer for ${what}: the auth signature does not match ${show(signed)} under the app secret.`,
    );
  }
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PusherExpectationError(`Expected ${what} to be a JSON object, got ${show(value)}.`);
  }
  return value as Record<string, unknown>;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
