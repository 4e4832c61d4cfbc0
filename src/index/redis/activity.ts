import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { type ActivityListener, LocalQueueActivity, type QueueActivity } from "../activity.js";

/** The pub/sub channel queue activity travels on. */
export const ACTIVITY_CHANNEL = "anteroom:activity";

/**
 * Queue activity between processes through Redis pub/sub: a worker's release batch is one message per
 * queue (`<queueId>:<origin>`), heard by every API process that listens. The channel is subscribed to
 * only once something in this process listens (API processes, for their live-updates hub): workers only
 * publish. A process's own notices reach its listeners at once, not through Redis. Lost messages (Redis
 * away) are covered by the listeners' periodic refresh.
 */
export class RedisQueueActivity implements QueueActivity {
  private readonly local = new LocalQueueActivity();
  /** Marks this process's own messages, which its listeners have had already. */
  private readonly origin = randomUUID();
  private subscribed = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly logger: Logger,
    private readonly channel: string = ACTIVITY_CHANNEL,
  ) {
    subscriber.on("message", (from: string, message: string) => {
      if (from !== this.channel) return;
      const at = message.lastIndexOf(":");
      if (at <= 0 || message.slice(at + 1) === this.origin) return;
      this.local.notify(message.slice(0, at));
    });
  }

  notify(queueId: string): void {
    this.local.notify(queueId);
    this.publisher.publish(this.channel, `${queueId}:${this.origin}`).catch((error: unknown) => {
      this.logger.warn({ err: error, queueId }, "could not publish queue activity");
    });
  }

  subscribe(listener: ActivityListener): () => void {
    if (!this.subscribed) {
      this.subscribed = true;
      // Queued until connected if Redis is away; ioredis resubscribes after every reconnect.
      this.subscriber.subscribe(this.channel).catch((error: unknown) => {
        this.logger.warn({ err: error }, "could not subscribe to queue activity");
      });
    }
    return this.local.subscribe(listener);
  }
}
