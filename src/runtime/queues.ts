import { Queue } from 'bullmq';
import type { Config } from '../config.js';
import type { QueueName } from '../contract/queues.js';
import { queuePrefix, type RedisClient } from '../redis.js';

/** One Queue handle per name and process, created on first use. */
export class QueueRegistry {
  private readonly queues = new Map<QueueName, Queue>();
  constructor(
    private readonly config: Config,
    private readonly connection: RedisClient,
  ) {}

  get(name: QueueName): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.connection, prefix: queuePrefix(this.config.redis) });
      q.on('error', () => {}); // connection errors surface through the shared client's own handler
      this.queues.set(name, q);
    }
    return q;
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((q) => q.close()));
  }
}
