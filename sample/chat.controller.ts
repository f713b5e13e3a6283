import {
  BadRequestException,
  Body,
  Controller,
  ForbiddenException,
  HttpCode,
  Inject,
  Post,
  Req,
  ServiceUnavailableException,
} from '@nestjs/common';
import { PusherService } from 'nest-pusher';
import { CHANNELS, SAMPLE_CONFIG, type SampleConfig } from './sample.config.js';
import { isRefusedName, userFromRequest, type SampleUser } from './session.js';

const MAX_MESSAGE_LENGTH = 500;
const SOCKET_ID = /^\d+\.\d+$/;

interface MessageBody {
  text?: unknown;
  /** The sender's pusher-js `socket_id`, so that the sender does not receive its own message a second time. */
  socketId?: unknown;
}

interface NotifyBody {
  /** The user id to notify; the sender when omitted. */
  to?: unknown;
}

/** A chat message as every member receives it. */
export interface ChatMessage {
  from: { id: string; name: string };
  text: string;
  sentAt: number;
}

/** Messages go through the server (which knows who sent them), never as client events the browser could forge. */
@Controller()
export class ChatController {
  constructor(
    private readonly pusher: PusherService,
    @Inject(SAMPLE_CONFIG) private readonly config: SampleConfig,
  ) {}

  /** Posts a message to the presence room; every member but the sender's own connection receives it. */
  @Post('chat/messages')
  @HttpCode(201)
  async postMessage(@Req() request: unknown, @Body() body: MessageBody): Promise<ChatMessage> {
    const user = this.currentUser(request);
    const message = this.messageFrom(user, body);
    await this.pusher.trigger(CHANNELS.room, 'message', message, { socketId: this.socketIdFrom(body) });
    return message;
  }

  /** The same, on the end-to-end encrypted channel: soketi (or Pusher) only ever sees ciphertext. */
  @Post('vault/messages')
  @HttpCode(201)
  async postSecret(@Req() request: unknown, @Body() body: MessageBody): Promise<ChatMessage> {
    if (!this.config.client.encryptedRoom) {
      throw new ServiceUnavailableException('The encrypted room needs PUSHER_ENCRYPTION_MASTER_KEY_BASE64.');
    }
    const user = this.currentUser(request);
    const message = this.messageFrom(user, body);
    await this.pusher.trigger(CHANNELS.vault, 'message', message, { socketId: this.socketIdFrom(body) });
    return message;
  }

  /** A private notification to one signed-in user (the sender when `to` is omitted), through `sendToUser`. */
  @Post('notify')
  @HttpCode(202)
  async notify(@Req() request: unknown, @Body() body: NotifyBody): Promise<{ to: string }> {
    const user = this.currentUser(request);
    const to = body?.to === undefined || body.to === '' ? user.id : body.to;
    if (typeof to !== 'string' || !/^[a-z0-9_\-=@,.;]{1,128}$/.test(to)) {
      throw new BadRequestException('"to" must be a user id from the member list.');
    }
    const text = to === user.id ? `Hello ${user.name}, this was sent to you alone.` : `${user.name} nudged you.`;
    await this.pusher.sendToUser(to, 'notification', { from: user, text, sentAt: Date.now() });
    return { to };
  }

  private currentUser(request: unknown): SampleUser {
    const user = userFromRequest(request);
    if (user === null) throw new ForbiddenException('Join with a name first.');
    if (isRefusedName(user.name)) throw new ForbiddenException(`"${user.name}" is not allowed to post.`);
    return user;
  }

  private messageFrom(user: SampleUser, body: MessageBody): ChatMessage {
    const text = typeof body?.text === 'string' ? body.text.trim() : '';
    if (text.length === 0 || text.length > MAX_MESSAGE_LENGTH) {
      throw new BadRequestException(`A message has 1 to ${MAX_MESSAGE_LENGTH} characters.`);
    }
    return { from: { id: user.id, name: user.name }, text, sentAt: Date.now() };
  }

  private socketIdFrom(body: MessageBody): string | undefined {
    if (body?.socketId === undefined || body.socketId === null || body.socketId === '') return undefined;
    if (typeof body.socketId !== 'string' || !SOCKET_ID.test(body.socketId)) {
      throw new BadRequestException('"socketId" must be a pusher-js socket id such as "123.456".');
    }
    return body.socketId;
  }
}
