import { Injectable, Logger } from '@nestjs/common';
import type {
  PusherAuthorizer,
  PusherChannelAuthorization,
  PusherChannelAuthorizationRequest,
  PusherUserAuthentication,
  PusherUserAuthenticationRequest,
} from 'nest-pusher';
import { CHANNELS } from './sample.config.js';
import { isRefusedName, userFromRequest } from './session.js';

/**
 * Decides who may subscribe to what. nest-pusher's built-in `POST /pusher/auth` and `POST /pusher/user-auth` routes
 * ask this class and sign whatever it allows; a `false` becomes a 403 that pusher-js reports as a subscription error.
 */
@Injectable()
export class AppAuthorizer implements PusherAuthorizer {
  private readonly logger = new Logger(AppAuthorizer.name);

  authorizeChannel({ channel, request }: PusherChannelAuthorizationRequest): PusherChannelAuthorization {
    const user = userFromRequest(request);
    if (user === null) return false;
    if (isRefusedName(user.name)) {
      this.logger.log(`refused ${channel} to "${user.name}"`);
      return false;
    }
    if (channel === CHANNELS.room) {
      // Presence member data: every member sees this for everyone else in the room.
      return { user_id: user.id, user_info: { name: user.name } };
    }
    if (channel === CHANNELS.vault) return true;
    return false;
  }

  authenticateUser({ request }: PusherUserAuthenticationRequest): PusherUserAuthentication {
    const user = userFromRequest(request);
    if (user === null || isRefusedName(user.name)) return false;
    return { id: user.id, user_info: { name: user.name } };
  }
}
