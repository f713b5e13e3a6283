import { Injectable } from '@nestjs/common';
import {
  OnPusherEvent,
  PusherService,
  type ChannelOccupiedEvent,
  type ChannelVacatedEvent,
  type ClientEventWebhookEvent,
  type MemberAddedEvent,
  type MemberRemovedEvent,
  type PusherEventContext,
} from 'nest-pusher';
import { CHANNELS } from './sample.config.js';

/** One line of the page's activity feed. */
export interface ActivityEntry {
  /** The webhook event name, e.g. `member_added`. */
  kind: string;
  channel: string;
  text: string;
  /** When Pusher (or soketi) sent the webhook: its `time_ms`. */
  timeMs: number;
}

/**
 * Webhooks, handled the nest-pusher way: soketi (or Pusher) POSTs to `/pusher/webhooks`, the library verifies the
 * signature over the raw body and calls these methods. Each one reports what it saw on the `activity` channel, so
 * the page shows webhooks as they arrive.
 */
@Injectable()
export class ActivityListener {
  constructor(private readonly pusher: PusherService) {}

  @OnPusherEvent('member_added', { channel: CHANNELS.room })
  async memberAdded(event: MemberAddedEvent, { timeMs }: PusherEventContext): Promise<void> {
    await this.report({ kind: 'member_added', channel: event.channel, text: `${event.user_id} joined`, timeMs });
    // Server-side follow-up: a private welcome to the newcomer only, with the head count from the HTTP API.
    const { users } = await this.pusher.usersInfo(event.channel);
    await this.pusher.sendToUser(event.user_id, 'notification', {
      text: `Welcome! ${users.length} ${users.length === 1 ? 'person is' : 'people are'} in the room.`,
      sentAt: Date.now(),
    });
  }

  @OnPusherEvent('member_removed', { channel: CHANNELS.room })
  async memberRemoved(event: MemberRemovedEvent, { timeMs }: PusherEventContext): Promise<void> {
    await this.report({ kind: 'member_removed', channel: event.channel, text: `${event.user_id} left`, timeMs });
  }

  // The activity channel itself is left out: reporting its own occupancy onto it would only be noise.
  @OnPusherEvent(['channel_occupied', 'channel_vacated'], { channel: /^(presence|private)-/ })
  async occupancy(event: ChannelOccupiedEvent | ChannelVacatedEvent, { timeMs }: PusherEventContext): Promise<void> {
    const text = event.name === 'channel_occupied' ? 'first subscriber arrived' : 'last subscriber left';
    await this.report({ kind: event.name, channel: event.channel, text, timeMs });
  }

  @OnPusherEvent('client_event', { channel: CHANNELS.room })
  async clientEvent(event: ClientEventWebhookEvent, { timeMs }: PusherEventContext): Promise<void> {
    const who = event.user_id ?? 'someone';
    await this.report({ kind: 'client_event', channel: event.channel, text: `${event.event} from ${who}`, timeMs });
  }

  private async report(entry: ActivityEntry): Promise<void> {
    await this.pusher.trigger(CHANNELS.activity, 'webhook', entry);
  }
}
