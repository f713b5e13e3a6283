import { masterKeyRequiredError, type ChannelEncryption } from './encryption.js';
import { PusherValidationError } from './pusher.errors.js';
import type { ChannelAuthResponse, PresenceData, UserAuthResponse, UserData } from './pusher.types.js';
import { outboundSignatureHex } from './signing.js';
import { DEFAULT_MAX_PRESENCE_DATA_BYTES } from './rules.js';
import {
  describeValue,
  isEncryptedChannel,
  isPresenceChannel,
  validateAuthorizableChannel,
  validateChannelName,
  validatePresenceData,
  validatePresenceDataSize,
  validateSocketId,
  validateUserData,
} from './validation.js';

/** What signing an auth answer needs: the app key and secret, and the encryption keys when configured. */
export interface AuthSigner {
  key: string;
  secret: string;
  encryption?: ChannelEncryption | undefined;
  /** Largest `channel_data` signed, in bytes; default `DEFAULT_MAX_PRESENCE_DATA_BYTES`. */
  maxPresenceDataBytes?: number | undefined;
}

/**
 * Given instead of member data for a presence channel: the subscriber is the user the connection signed in as
 * (`pusher.signin()`), so the answer carries no `channel_data` and the server takes the member from the sign-in.
 * A symbol, so that no string from a request or a config can ever stand for it; `Symbol.for`, so that the ESM and
 * CommonJS builds agree on it when both are loaded.
 */
export const SIGNED_IN_USER: unique symbol = Symbol.for('nest-pusher:signed-in-user');

/**
 * Answers pusher-js's channel authorization: `auth` = `key:HMAC(secret, socket_id:channel[:channel_data])`.
 * Presence channels need `presenceData` (signed and returned as the exact `channel_data` string), or
 * {@link SIGNED_IN_USER} when the connection signed in (then `auth` = `key:HMAC(secret, socket_id:channel)` and no
 * `channel_data`, which pusher-js 7.2+ accepts by taking the member from its sign-in); other channels ignore it. `private-encrypted-` channels also get their `shared_secret`. The socket id is validated before anything
 * is signed, so a forged id such as `1.1:presence-x` can never produce a signature.
 *
 * @throws PusherValidationError for a bad socket id, channel name, channel type, presence data, or an encrypted
 *   channel without a master key.
 */
export function authorizeChannel(
  signer: AuthSigner,
  socketId: string,
  channel: string,
  presenceData?: PresenceData | typeof SIGNED_IN_USER,
): ChannelAuthResponse {
  validateSocketId(socketId);
  validateChannelName(channel);
  validateAuthorizableChannel(channel);

  if (isPresenceChannel(channel)) {
    if (presenceData === undefined) {
      throw new PusherValidationError({
        message: `Presence channel ${describeValue(channel)} needs presence data { user_id, user_info? } to authorize a member, or SIGNED_IN_USER when the connection signed in.`,
        rule: 'presence-data-required',
        value: channel,
      });
    }
    if (presenceData === SIGNED_IN_USER) {
      return { auth: signer.key + ':' + outboundSignatureHex(signer.secret, socketId + ':' + channel) };
    }
    validatePresenceData(presenceData);
    const channelData = JSON.stringify(presenceData);
    validatePresenceDataSize(channelData, signer.maxPresenceDataBytes ?? DEFAULT_MAX_PRESENCE_DATA_BYTES);
    return {
      auth: signer.key + ':' + outboundSignatureHex(signer.secret, socketId + ':' + channel + ':' + channelData),
      channel_data: channelData,
    };
  }

  const response: ChannelAuthResponse = {
    auth: signer.key + ':' + outboundSignatureHex(signer.secret, socketId + ':' + channel),
  };
  if (isEncryptedChannel(channel)) {
    if (signer.encryption === undefined) {
      throw masterKeyRequiredError(channel);
    }
    response.shared_secret = signer.encryption.sharedSecret(channel);
  }
  return response;
}

/**
 * Answers pusher-js's user sign-in: `auth` = `key:HMAC(secret, socket_id::user::user_data)` where `user_data` is the
 * JSON string returned alongside.
 *
 * @throws PusherValidationError for a bad socket id or user data (id, user_info, watchlist ≤ 100).
 */
export function authenticateUser(signer: AuthSigner, socketId: string, userData: UserData): UserAuthResponse {
  validateSocketId(socketId);
  validateUserData(userData);
  const serialized = JSON.stringify(userData);
  return {
    auth: signer.key + ':' + outboundSignatureHex(signer.secret, socketId + '::user::' + serialized),
    user_data: serialized,
  };
}
