import type { Redis } from "ioredis";
import type { Clock } from "../../domain/clock.js";
import { type Counted, type LoginAttemptStore, MemoryLoginAttempts } from "../../domain/login-throttle.js";

/**
 * Login counters in Redis, so that N API processes allow the same number of guesses as one. Each counter is
 * one key changed by one script (INCR and, for a new key, PEXPIRE together), so concurrent attempts in any
 * process each see their own count. Keys touch one slot per script: Redis Cluster works.
 */

// KEYS[1] counter; ARGV[1] window in ms. A key without an expiry (new, or somehow left without one) gets the
// window, so no counter outlives it.
const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

// KEYS[1] counter. Never creates a key (an expired window stays gone) and never leaves one at zero.
const DECREMENT = `
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('DECR', KEYS[1]) <= 0 then
  redis.call('DEL', KEYS[1])
end
return 0
`;

type Script = (key: string, ...args: (string | number)[]) => Promise<unknown>;

function define(redis: Redis, name: string, lua: string): Script {
  redis.defineCommand(name, { numberOfKeys: 1, lua });
  const command: unknown = Reflect.get(redis, name);
  if (typeof command !== "function") throw new Error(`ioredis did not define the ${name} command`);
  return (command as Script).bind(redis);
}

function toCounted(reply: unknown): Counted {
  if (!Array.isArray(reply)) throw new Error("unexpected reply from the login counter script");
  return { count: Number(reply[0]), resetInMs: Math.max(0, Number(reply[1])) };
}

export const LOGIN_KEY_PREFIX = "anteroom:login:";

export class RedisLoginAttempts implements LoginAttemptStore {
  private readonly incrementScript: Script;
  private readonly decrementScript: Script;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string = LOGIN_KEY_PREFIX,
  ) {
    this.incrementScript = define(redis, "anteroomLogin_increment", INCREMENT);
    this.decrementScript = define(redis, "anteroomLogin_decrement", DECREMENT);
  }

  // One script per key, sent together: one round trip, and each key in its own slot.
  async increment(keys: readonly string[], windowMs: number): Promise<Counted[]> {
    const replies = await Promise.all(
      keys.map((key) => this.incrementScript(this.prefix + key, Math.max(1, Math.round(windowMs)))),
    );
    return replies.map(toCounted);
  }

  async decrement(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => this.decrementScript(this.prefix + key)));
  }

  async mark(key: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + key, "1", "PX", Math.max(1, Math.round(ttlMs)));
  }

  async isMarked(key: string): Promise<boolean> {
    return (await this.redis.exists(this.prefix + key)) === 1;
  }
}

export interface FallbackLog {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

/**
 * Redis when it answers, this process's counters when it does not: logins neither all fail nor go
 * unlimited during a Redis outage (the limits then hold per process). The outage is logged once when it
 * starts and once when it ends. While Redis is failing it is tried again at most once a second, so a hung
 * connection does not hold every login up to its command timeout.
 */
export class FallbackLoginAttempts implements LoginAttemptStore {
  private failingSince: number | undefined;
  private lastTry = 0;

  constructor(
    private readonly primary: LoginAttemptStore,
    private readonly fallback: LoginAttemptStore,
    private readonly clock: Clock,
    private readonly log: FallbackLog,
    private readonly retryEveryMs = 1_000,
  ) {}

  increment(keys: readonly string[], windowMs: number): Promise<Counted[]> {
    return this.either((store) => store.increment(keys, windowMs));
  }

  decrement(keys: readonly string[]): Promise<void> {
    return this.either((store) => store.decrement(keys));
  }

  mark(key: string, ttlMs: number): Promise<void> {
    return this.either((store) => store.mark(key, ttlMs));
  }

  isMarked(key: string): Promise<boolean> {
    return this.either((store) => store.isMarked(key));
  }

  private async either<T>(use: (store: LoginAttemptStore) => Promise<T>): Promise<T> {
    const now = this.clock.now();
    if (this.failingSince !== undefined && now - this.lastTry < this.retryEveryMs) return use(this.fallback);
    this.lastTry = now;
    try {
      const result = await use(this.primary);
      if (this.failingSince !== undefined) {
        this.log.info(
          { downMs: this.clock.now() - this.failingSince },
          "login counters back in Redis (shared by every API process again)",
        );
        this.failingSince = undefined;
      }
      return result;
    } catch (error) {
      if (this.failingSince === undefined) {
        this.failingSince = now;
        this.log.warn(
          { err: error instanceof Error ? error.message : String(error) },
          "Redis unreachable: login limits are counted in this process until it is back",
        );
      }
      return use(this.fallback);
    }
  }
}

/** The login counters of a production API process: shared in Redis, in-process while Redis is away. */
export function sharedLoginAttempts(
  redis: Redis,
  clock: Clock,
  log: FallbackLog,
  prefix: string = LOGIN_KEY_PREFIX,
): LoginAttemptStore {
  return new FallbackLoginAttempts(
    new RedisLoginAttempts(redis, prefix),
    new MemoryLoginAttempts(clock),
    clock,
    log,
  );
}
