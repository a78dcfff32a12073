import { QueueEvents, type Queue } from 'bullmq';
import type { Config } from '../config.js';
import type { QueueName } from '../contract/queues.js';
import { withDeadline } from '../deadline.js';
import { createRedis, queuePrefix, type RedisClient } from '../redis.js';

/** The job outcome did not arrive in time; the job itself goes on. */
export class ResultTimeoutError extends Error {
  override name = 'ResultTimeoutError';
}

/**
 * Waits for job outcomes through BullMQ's QueueEvents. A QueueEvents blocks on its Redis
 * connection, so each gets one of its own (worker-style: it never gives up on a command),
 * opened on first use and closed with the client.
 */
export class ResultWaiter {
  private readonly events = new Map<QueueName, Promise<{ events: QueueEvents; connection: RedisClient }>>();

  constructor(private readonly redis: Config['redis']) {}

  private eventsFor(queue: QueueName): Promise<{ events: QueueEvents; connection: RedisClient }> {
    let e = this.events.get(queue);
    if (!e) {
      e = (async () => {
        const connection = createRedis(this.redis, 'worker');
        connection.on('error', () => {}); // surfaced as a rejected or timed-out wait
        // QueueEvents reads from '$' by default, i.e. from its first XREAD, which comes a
        // moment after it says ready: an outcome in between would be missed by a wait whose
        // own "already finished?" check ran just before. Reading from now (Redis' clock) closes it.
        const [seconds, micros] = await connection.time();
        const lastEventId = `${Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)}-0`;
        const events = new QueueEvents(queue, { connection, prefix: queuePrefix(this.redis), lastEventId });
        events.on('error', () => {});
        return { events, connection };
      })();
      this.events.set(queue, e);
      e.catch(() => this.events.delete(queue));
    }
    return e;
  }

  /** Resolves with the job's return value; rejects with its failedReason, or ResultTimeoutError. */
  async wait<R>(queue: Queue, name: QueueName, jobId: string, timeoutMs: number): Promise<R> {
    // One deadline for everything, Redis being away included (this connection never gives up).
    return withDeadline(
      this.outcome<R>(queue, name, jobId, timeoutMs),
      timeoutMs,
      () => new ResultTimeoutError(`job ${jobId} on ${name} did not finish within ${timeoutMs} ms`),
    );
  }

  private async outcome<R>(queue: Queue, name: QueueName, jobId: string, timeoutMs: number): Promise<R> {
    // Each pending wait holds a 'closing' listener on the queue until it settles.
    if (queue.getMaxListeners() !== 0) queue.setMaxListeners(0);
    const job = await queue.getJob(jobId);
    if (!job) throw new Error(`job ${jobId} not found on ${name}: it finished and was removed, or never existed`);
    const { events } = await this.eventsFor(name);
    // The same ttl, so BullMQ drops its listeners when our deadline passes.
    return (await job.waitUntilFinished(events, timeoutMs)) as R;
  }

  async close(): Promise<void> {
    const all = [...this.events.values()];
    this.events.clear();
    await Promise.all(
      all.map(async (e) => {
        const opened = await e.catch(() => undefined);
        if (!opened) return;
        const { events, connection } = opened;
        await events.close().catch(() => {});
        await connection.quit().catch(() => connection.disconnect());
      }),
    );
  }
}
