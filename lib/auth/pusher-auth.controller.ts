import {
  BadRequestException,
  Body,
  Controller,
  ForbiddenException,
  HttpCode,
  HttpStatus,
  Inject,
  InternalServerErrorException,
  Logger,
  type OnModuleInit,
  Post,
  Req,
  type Type,
} from '@nestjs/common';
import { SIGNED_IN_USER } from '../core/auth.js';
import { MASTER_KEY_HOW_TO } from '../core/encryption.js';
import { PusherError, PusherValidationError } from '../core/pusher.errors.js';
import { PRIVATE_CHANNEL_PREFIX, SERVER_TO_USER_PREFIX, type PusherValidationRule } from '../core/rules.js';
import { isEncryptedChannel, isPresenceChannel, validateChannelName, validateSocketId } from '../core/validation.js';
import type { ChannelAuthResponse, PresenceData, UserAuthResponse } from '../core/pusher.types.js';
import type { PusherAuthorizer } from '../interfaces/pusher-authorizer.interface.js';
import type { PusherAuthRoutes } from '../interfaces/pusher-module-options.interface.js';
import { PUSHER_AUTHORIZER } from '../pusher.constants.js';
import { PusherService } from '../pusher.service.js';

/**
 * Whether a core refusal is about the request's own socket_id or channel_name (a 400: checked here first, so rarely
 * reached) rather than about the authorizer's answer or the server's configuration (a 500).
 */
function isClientInputRule(rule: PusherValidationRule): boolean {
  switch (rule) {
    case 'socket-id':
    case 'socket-id-length':
    case 'channel-name-required':
    case 'channel-name-length':
    case 'channel-name-charset':
    case 'channel-name-hash':
    case 'auth-channel-type':
      return true;
    default:
      return false;
  }
}

type ChannelKind = 'public' | 'private' | 'private-encrypted' | 'presence';

function channelKind(channel: string): ChannelKind {
  if (isEncryptedChannel(channel)) return 'private-encrypted';
  if (channel.startsWith(PRIVATE_CHANNEL_PREFIX)) return 'private';
  if (isPresenceChannel(channel)) return 'presence';
  return 'public';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Runs a core validator on a field of the request: its refusal becomes a 400 naming the field. */
function checkField(field: string, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (error instanceof PusherValidationError)
      throw new BadRequestException(`${field} is malformed: ${error.message}`);
    throw error;
  }
}

function readSocketId(body: unknown): string {
  const socketId = isRecord(body) ? body['socket_id'] : undefined;
  if (typeof socketId !== 'string' || socketId === '') {
    throw new BadRequestException('socket_id is required: the connection\'s socket id, e.g. "1234.5678"');
  }
  // The core's rule, length bound included: a colon in socket_id would let a caller forge a presence signature.
  checkField('socket_id', () => validateSocketId(socketId));
  return socketId;
}

function readChannelName(body: unknown): string {
  const channel = isRecord(body) ? body['channel_name'] : undefined;
  if (typeof channel !== 'string' || channel === '') {
    throw new BadRequestException('channel_name is required');
  }
  checkField('channel_name', () => validateChannelName(channel));
  if (channel.startsWith(SERVER_TO_USER_PREFIX)) {
    // A valid name for triggering, but only the server sends on these: no client subscribes to one.
    throw new BadRequestException(
      `channel_name is malformed: "${SERVER_TO_USER_PREFIX}" channels are not subscribed to by clients`,
    );
  }
  return channel;
}

/**
 * Builds the built-in auth controller for one `PusherModule` registration, answering pusher-js's requests:
 * `POST {channelAuthPath}` (channel authorization: `socket_id`, `channel_name`) and `POST {userAuthPath}` (user
 * authentication: `socket_id`), form-encoded (pusher-js's default) or JSON. Malformed input → 400, a public channel
 * (which needs no authorization) → 400, the authorizer refusing or absent → 403, an encrypted channel on an app
 * without `encryptionMasterKeyBase64` → 403 (logged), otherwise 200 with the signed answer
 * (pusher-js accepts nothing but 200).
 *
 * A class per registration, for the same reason as the webhook controller: the paths must be in the decorator
 * metadata before Nest scans the module, which is before a `forRootAsync()` factory runs.
 */
export function createPusherAuthController(routes: PusherAuthRoutes): Type<unknown> {
  @Controller()
  class PusherAuthController implements OnModuleInit {
    private readonly logger = new Logger('PusherAuthController');

    constructor(
      private readonly pusher: PusherService,
      @Inject(PUSHER_AUTHORIZER) private readonly authorizer: PusherAuthorizer | null,
    ) {}

    onModuleInit(): void {
      if (!this.authorizer) {
        this.logger.warn(
          `No authorizer is configured: every request to ${routes.channelAuthPath} and ${routes.userAuthPath} ` +
            'will be refused (403). Pass `authorizer: YourAuthorizer` (a class implementing PusherAuthorizer) to ' +
            'PusherModule.forRoot() / forRootAsync(), or switch the routes off with `authController: false`.',
        );
      }
    }

    @Post(routes.channelAuthPath)
    @HttpCode(HttpStatus.OK)
    async authorizeChannel(@Req() request: unknown, @Body() body: unknown): Promise<ChannelAuthResponse> {
      const socketId = readSocketId(body);
      const channel = readChannelName(body);
      const kind = channelKind(channel);
      if (kind === 'public') {
        throw new BadRequestException(
          `${channel} is a public channel and needs no authorization; only private-, private-encrypted- and presence- channels do`,
        );
      }
      if (!this.authorizer) {
        throw new ForbiddenException('No authorizer is configured on this server');
      }
      const decision = await this.authorizer.authorizeChannel({ socketId, channel, request });
      if (kind === 'presence') {
        if (decision === SIGNED_IN_USER) {
          // The member is the user this connection signed in as: no channel_data, the server takes the sign-in's.
          return this.sign(channel, () => this.pusher.authorizeChannel(socketId, channel, SIGNED_IN_USER));
        }
        if (decision === true) {
          // Names no member: deny by default rather than guess that the connection signed in.
          this.logger.error(
            `Refused ${channel}: the authorizer answered true for a presence channel, which names no member. Return ` +
              "the member data { user_id, user_info? }, or SIGNED_IN_USER (import { SIGNED_IN_USER } from 'nest-pusher') " +
              'when the member is the user this connection signed in as with pusher.signin().',
          );
          throw new ForbiddenException();
        }
        if (!isRecord(decision)) {
          throw new ForbiddenException();
        }
        // Passed as given: the core checks user_id and user_info, and signs exactly what it serializes.
        const presenceData = decision as PresenceData;
        return this.sign(channel, () => this.pusher.authorizeChannel(socketId, channel, presenceData));
      }
      if (decision !== true && !isRecord(decision)) {
        throw new ForbiddenException();
      }
      if (kind === 'private-encrypted' && !this.pusher.servesEncryptedChannels) {
        // Allowed, but unservable: a 4xx, so that no client can provoke server errors at will.
        this.logger.error(
          `Refused ${channel}: end-to-end encrypted channels need the encryptionMasterKeyBase64 option ` +
            `(${MASTER_KEY_HOW_TO}).`,
        );
        throw new ForbiddenException('This server does not serve end-to-end encrypted channels');
      }
      return this.sign(channel, () => this.pusher.authorizeChannel(socketId, channel));
    }

    @Post(routes.userAuthPath)
    @HttpCode(HttpStatus.OK)
    async authenticateUser(@Req() request: unknown, @Body() body: unknown): Promise<UserAuthResponse> {
      const socketId = readSocketId(body);
      if (!this.authorizer) {
        throw new ForbiddenException('No authorizer is configured on this server');
      }
      const user = await this.authorizer.authenticateUser({ socketId, request });
      if (!isRecord(user)) {
        if ((user as unknown) === true) {
          this.logger.error(
            `${this.authorizer.constructor.name}.authenticateUser() returned true; it must return the user ` +
              '({ id, user_info?, watchlist? }). Refused (403).',
          );
        }
        throw new ForbiddenException();
      }
      return this.sign(undefined, () => this.pusher.authenticateUser(socketId, user));
    }

    /**
     * Signs, mapping the core's refusals: one about the client's own input is a 400; any other (the authorizer's
     * answer breaks a protocol rule, encryption is not configured) is the server's fault: logged, 500.
     */
    private sign<T>(channel: string | undefined, signing: () => T): T {
      try {
        return signing();
      } catch (error) {
        if (error instanceof PusherValidationError && isClientInputRule(error.rule)) {
          throw new BadRequestException(error.message);
        }
        if (error instanceof PusherError) {
          this.logger.error(
            `Cannot sign the answer${channel ? ` for ${channel}` : ' for user authentication'}: ${error.message}`,
          );
          throw new InternalServerErrorException();
        }
        throw error;
      }
    }
  }
  return PusherAuthController;
}
