import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { SAMPLE_CONFIG, type PusherClientConfig, type SampleConfig } from './sample.config.js';
import {
  MAX_NAME_LENGTH,
  SESSION_COOKIE,
  normalizeName,
  sessionCookie,
  userFromRequest,
  userIdFor,
  type SampleUser,
} from './session.js';

/** The part of Express's response this controller uses. */
interface CookieResponse {
  setHeader(name: string, value: string): unknown;
}

/** Joining and leaving: the name goes into a cookie that the authorizer reads on every auth request. */
@Controller()
export class SessionController {
  constructor(@Inject(SAMPLE_CONFIG) private readonly config: SampleConfig) {}

  /** What the page needs to connect: pusher-js settings (never the secret) and who this browser is. */
  @Get('config.json')
  clientConfig(@Req() request: unknown): { pusher: PusherClientConfig; user: SampleUser | null } {
    return { pusher: this.config.client, user: userFromRequest(request) };
  }

  @Post('session')
  @HttpCode(200)
  join(@Body() body: { name?: unknown }, @Res({ passthrough: true }) response: CookieResponse): SampleUser {
    const name = normalizeName(body?.name);
    if (name === null) throw new BadRequestException(`A name has 1 to ${MAX_NAME_LENGTH} characters.`);
    response.setHeader('Set-Cookie', sessionCookie(name));
    return { id: userIdFor(name), name };
  }

  @Delete('session')
  @HttpCode(204)
  leave(@Res({ passthrough: true }) response: CookieResponse): void {
    response.setHeader('Set-Cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
  }
}
