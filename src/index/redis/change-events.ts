import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { type ChangeEvents, LocalChangeEvents } from "../../domain/events.js";

/**
 * Admin changes fanned out to every process through Redis pub/sub: an API process that rotates a key or
 * deletes a queue publishes it, and every process (itself included) evicts its caches and reloads
 * settings. Messages lost while Redis is down are covered by the caches' short lifetimes and the
 * workers' periodic refresh.
 */
export class RedisChangeEvents implements ChangeEvents {
  readonly local = new LocalChangeEvents();
  /** Marks this process's own messages, which it has applied already. */
  private readonly origin = randomUUID();

  private constructor(
    private readonly publisher: Redis,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  static async start(
    publisher: Redis,
    subscriber: Redis,
    channel: string,
    logger: Logger,
  ): Promise<RedisChangeEvents> {
    const events = new RedisChangeEvents(publisher, channel, logger);
    subscriber.on("message", (from: string, message: string) => {
      if (from !== channel) return;
      const [kind, id, origin] = message.split(":");
      if (id === undefined || origin === events.origin) return;
      if (kind === "application") events.local.applicationChanged(id);
      else if (kind === "queue") events.local.queueChanged(id);
      else if (kind === "keys") events.local.keysChanged();
    });
    // Queued until connected if Redis is away; ioredis resubscribes after every reconnect.
    subscriber.subscribe(channel).catch((error: unknown) => {
      logger.warn({ err: error }, "could not subscribe to change events");
    });
    return events;
  }

  private publish(message: string, apply: () => void): void {
    apply(); // this process at once, whatever happens to the message
    this.publisher.publish(this.channel, `${message}:${this.origin}`).catch((error: unknown) => {
      this.logger.warn({ err: error, message }, "could not publish a change event");
    });
  }

  applicationChanged(id: string): void {
    this.publish(`application:${id}`, () => this.local.applicationChanged(id));
  }

  queueChanged(id: string): void {
    this.publish(`queue:${id}`, () => this.local.queueChanged(id));
  }

  keysChanged(): void {
    this.publish("keys:all", () => this.local.keysChanged());
  }
}
