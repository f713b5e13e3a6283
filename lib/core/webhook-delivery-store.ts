/**
 * Duplicate suppression for webhooks. Pusher delivers at least once: a webhook that was not answered with a 2xx in
 * time is delivered again, with the same body. A store remembers which deliveries were handled, so that a handled
 * delivery replayed inside the freshness window runs no handler, while a failed one (released) runs again in full.
 *
 * Claim-then-commit: `claim` marks a delivery as being handled (atomically, so that two replicas receiving the same
 * webhook at once cannot both run it), `complete` marks it handled, `release` forgets a claim after a failure.
 */

/** What `claim` found: the delivery is now ours, another request is handling it, or it was handled already. */
export type WebhookDeliveryClaim = 'claimed' | 'in-progress' | 'done';

/**
 * Where handled deliveries are remembered. The default keeps them in this process
 * ({@link MemoryWebhookDeliveryStore}); replicas behind one webhook URL need a shared store
 * ({@link RedisWebhookDeliveryStore}, or your own over any store with an atomic "set if absent").
 */
export interface WebhookDeliveryStore {
  /**
   * If nothing is recorded for `deliveryId`, records a claim by `owner` that expires after `claimTtlMs` (so that a
   * crashed replica does not block the delivery for ever) and answers `'claimed'`; otherwise answers what is there.
   * Must be atomic across everything that shares the store.
   */
  claim(deliveryId: string, owner: string, claimTtlMs: number): Promise<WebhookDeliveryClaim>;
  /** Records the delivery as handled, for `ttlMs` (the freshness window: older replays are refused anyway). */
  complete(deliveryId: string, owner: string, ttlMs: number): Promise<void>;
  /** Drops `owner`'s claim (and nothing else), so that the next delivery runs in full. */
  release(deliveryId: string, owner: string): Promise<void>;
  /**
   * Extends `owner`'s claim to expire `claimTtlMs` from now, while its handlers still run (after the route answered
   * 503); answers false when the claim is no longer `owner`'s. Optional: without it a claim lasts `claimTtlMs`
   * (`webhooks.handlerTimeoutMs` + 1 s) at most, after which a redelivery may run beside handlers still running.
   */
  renew?(deliveryId: string, owner: string, claimTtlMs: number): Promise<boolean>;
}

/** Options of {@link MemoryWebhookDeliveryStore}. */
export interface MemoryWebhookDeliveryStoreOptions {
  /**
   * Deliveries remembered at most; expired and handled ones are forgotten first, oldest first; claims whose handlers
   * still run are kept (they expire by themselves). Default 10000.
   */
  maxEntries?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** A delivery whose handlers are running: who claimed it, and until when the claim holds. */
interface MemoryClaim {
  owner: string;
  expiresAt: number;
}

/**
 * The default store: this process's memory, bounded by `maxEntries` (a forgotten delivery replayed later runs again,
 * so size it above the webhooks you receive in one freshness window). Right for a single replica only.
 */
export class MemoryWebhookDeliveryStore implements WebhookDeliveryStore {
  readonly #maxEntries: number;
  readonly #now: () => number;
  /**
   * A handled delivery is just its expiry (a number), a claimed one a {@link MemoryClaim}: most entries are handled
   * ones, remembered for minutes, and the less each keeps alive the less the garbage collector has to move.
   * In insertion order, which is expiry order for entries of the same kind: the oldest are evicted first.
   */
  readonly #entries = new Map<string, number | MemoryClaim>();

  constructor(options: MemoryWebhookDeliveryStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(
        `MemoryWebhookDeliveryStore: maxEntries must be a positive integer, got ${String(maxEntries)}.`,
      );
    }
    this.#maxEntries = maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** Deliveries currently remembered (claimed or handled, expired ones included until swept). */
  get size(): number {
    return this.#entries.size;
  }

  async claim(deliveryId: string, owner: string, claimTtlMs: number): Promise<WebhookDeliveryClaim> {
    const now = this.#now();
    const entry = this.#entries.get(deliveryId);
    if (entry !== undefined) {
      if (typeof entry === 'number') {
        if (entry > now) return 'done';
      } else if (entry.expiresAt > now) return 'in-progress';
    }
    this.#set(deliveryId, { owner, expiresAt: now + claimTtlMs }, now);
    return 'claimed';
  }

  async complete(deliveryId: string, _owner: string, ttlMs: number): Promise<void> {
    const now = this.#now();
    this.#set(deliveryId, now + ttlMs, now);
  }

  async release(deliveryId: string, owner: string): Promise<void> {
    const entry = this.#entries.get(deliveryId);
    if (typeof entry === 'object' && entry.owner === owner) this.#entries.delete(deliveryId);
  }

  async renew(deliveryId: string, owner: string, claimTtlMs: number): Promise<boolean> {
    const now = this.#now();
    const entry = this.#entries.get(deliveryId);
    if (typeof entry !== 'object' || entry.owner !== owner || entry.expiresAt <= now) return false;
    this.#set(deliveryId, { owner, expiresAt: now + claimTtlMs }, now);
    return true;
  }

  #set(deliveryId: string, entry: number | MemoryClaim, now: number): void {
    // Re-inserted at the end, so that the map's order stays roughly the order of expiry.
    this.#entries.delete(deliveryId);
    this.#entries.set(deliveryId, entry);
    if (this.#entries.size > this.#maxEntries) this.#evict(now);
  }

  /**
   * Forgets expired and handled deliveries, oldest first, until a tenth of the room is free again: one pass per many
   * inserts, not a walk over the map's head on every insert (that walk grew with every deletion). Never a live claim:
   * its handlers are still running, and forgetting it would let a redelivery run beside them; it expires by itself.
   */
  #evict(now: number): void {
    const target = this.#maxEntries - Math.max(1, Math.floor(this.#maxEntries / 10));
    for (const [id, candidate] of this.#entries) {
      if (this.#entries.size <= target) return;
      if (typeof candidate === 'number' || candidate.expiresAt <= now) this.#entries.delete(id);
    }
  }
}

/**
 * Sends one Redis command and resolves with its reply. With ioredis: `(args) => redis.call(args[0], ...args.slice(1))`;
 * with node-redis: `(args) => client.sendCommand(args)`.
 */
export type RedisCommand = (args: string[]) => Promise<unknown>;

/** Options of {@link RedisWebhookDeliveryStore}. */
export interface RedisWebhookDeliveryStoreOptions {
  /** How to send a command to your Redis client (this package depends on none). */
  command: RedisCommand;
  /** Prefix of the keys, one key per delivery. Default `nest-pusher:webhook-delivery:`. */
  prefix?: string;
}

// One round trip and atomic: Redis runs a script without interleaving other commands.
const CLAIM_SCRIPT = `local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], 'claimed:' .. ARGV[1], 'PX', ARGV[2]) return 'claimed' end
if v == 'done' then return 'done' end
return 'in-progress'`;
const RENEW_SCRIPT = `if redis.call('GET', KEYS[1]) == 'claimed:' .. ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == 'claimed:' .. ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * A store shared by every replica through Redis, over the client you already have: one key per delivery
 * (`{prefix}{deliveryId}`) that expires by itself; claims are made and dropped by Lua scripts, so they are atomic.
 *
 * @example
 * ```ts
 * const redis = new Redis(process.env.REDIS_URL);
 * new RedisWebhookDeliveryStore({ command: (args) => redis.call(args[0]!, ...args.slice(1)) })
 * ```
 */
export class RedisWebhookDeliveryStore implements WebhookDeliveryStore {
  readonly #command: RedisCommand;
  readonly #prefix: string;

  constructor(options: RedisWebhookDeliveryStoreOptions) {
    if (options === null || typeof options !== 'object' || typeof options.command !== 'function') {
      throw new TypeError(
        'RedisWebhookDeliveryStore needs { command: (args) => Promise<reply> }, e.g. (args) => redis.call(args[0], ...args.slice(1)) with ioredis.',
      );
    }
    this.#command = options.command;
    this.#prefix = options.prefix ?? 'nest-pusher:webhook-delivery:';
  }

  async claim(deliveryId: string, owner: string, claimTtlMs: number): Promise<WebhookDeliveryClaim> {
    const reply = await this.#command([
      'EVAL',
      CLAIM_SCRIPT,
      '1',
      this.#prefix + deliveryId,
      owner,
      String(Math.ceil(claimTtlMs)),
    ]);
    const text = Buffer.isBuffer(reply) ? reply.toString('utf8') : reply;
    if (text === 'claimed' || text === 'in-progress' || text === 'done') return text;
    throw new Error(
      `RedisWebhookDeliveryStore: unexpected reply to the claim script: ${JSON.stringify(String(text)).slice(0, 80)}`,
    );
  }

  async complete(deliveryId: string, _owner: string, ttlMs: number): Promise<void> {
    // Unconditional: the handlers ran to success, whoever holds the claim now.
    await this.#command(['SET', this.#prefix + deliveryId, 'done', 'PX', String(Math.ceil(ttlMs))]);
  }

  async release(deliveryId: string, owner: string): Promise<void> {
    await this.#command(['EVAL', RELEASE_SCRIPT, '1', this.#prefix + deliveryId, owner]);
  }

  async renew(deliveryId: string, owner: string, claimTtlMs: number): Promise<boolean> {
    const reply = await this.#command([
      'EVAL',
      RENEW_SCRIPT,
      '1',
      this.#prefix + deliveryId,
      owner,
      String(Math.ceil(claimTtlMs)),
    ]);
    return Number(reply) === 1;
  }
}
