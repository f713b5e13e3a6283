import './support/nest-app.js';
import { describe, expect, it } from '@jest/globals';
import {
  type ChannelOccupiedEvent,
  type ClientEventWebhookEvent,
  type MemberAddedEvent,
  type MemberRemovedEvent,
  OnPusherEvent,
  type PusherEventContext,
  type PusherWebhookEvent,
} from 'nest-pusher';
import { PUSHER_EVENT_HANDLER_METADATA } from '../../../lib/pusher.constants.js';

class Handlers {
  @OnPusherEvent('member_added')
  single(_event: MemberAddedEvent): void {}

  @OnPusherEvent(['member_added', 'member_removed'], { channel: /^presence-/ })
  several(_event: MemberAddedEvent | MemberRemovedEvent, _context: PusherEventContext): void {}

  @OnPusherEvent('client_event', { channel: 'private-chat' })
  @OnPusherEvent('channel_occupied')
  stacked(_event: PusherWebhookEvent): void {}

  @OnPusherEvent('channel_occupied')
  noParameters(): void {}

  // Type checks, verified by `tsc --noEmit` (the spec files are part of the project): a handler whose event
  // parameter does not fit the names is a compile error.
  // @ts-expect-error member_removed events are not MemberAddedEvent
  @OnPusherEvent(['member_added', 'member_removed'])
  tooNarrow(_event: MemberAddedEvent): void {}

  // @ts-expect-error channel_occupied has no socket_id
  @OnPusherEvent('channel_occupied')
  wrongEvent(_event: ClientEventWebhookEvent): void {}

  // @ts-expect-error the second parameter is the context, not a string
  @OnPusherEvent('channel_occupied')
  wrongContext(_event: ChannelOccupiedEvent, _context: string): void {}
}

const metadataOf = (method: keyof Handlers): unknown =>
  Reflect.getMetadata(PUSHER_EVENT_HANDLER_METADATA, Handlers.prototype[method]);

describe('@OnPusherEvent', () => {
  it('stores one entry per decorator, as an array, on the method', () => {
    expect(metadataOf('single')).toEqual([{ events: ['member_added'] }]);
    expect(metadataOf('several')).toEqual([{ events: ['member_added', 'member_removed'], channel: /^presence-/ }]);
  });

  it('adds up stacked decorators instead of overwriting', () => {
    // Decorators apply bottom-up.
    expect(metadataOf('stacked')).toEqual([
      { events: ['channel_occupied'] },
      { events: ['client_event'], channel: 'private-chat' },
    ]);
  });

  it("copies the names array, so later changes to the caller's array do not leak in", () => {
    const names: Array<'cache_miss' | 'channel_vacated'> = ['cache_miss'];
    class Late {
      @OnPusherEvent(names)
      handle(): void {}
    }
    names.push('channel_vacated');
    expect(Reflect.getMetadata(PUSHER_EVENT_HANDLER_METADATA, Late.prototype.handle)).toEqual([
      { events: ['cache_miss'] },
    ]);
  });
});
