import type { Queue } from 'bullmq';
import type { Config } from '../config.js';
import type { QueueName } from '../contract/queues.js';
import type { RedisClient } from '../redis.js';

export interface SendOptions {
  /**
   * Any 1-255 printable ASCII characters. The job id is derived from it (README
   * "Idempotency"); a replay within 24 h adds nothing and answers the first job's id.
   */
  idempotencyKey?: string;
  /** Milliseconds to wait before sending. */
  delay?: number;
  /** When to send (Date or ISO 8601 with a zone). */
  sendAt?: Date | string;
}

export interface Enqueued {
  id: string;
  queue: QueueName;
  /** True when an earlier job with the same idempotency key was found and nothing was added. */
  duplicate: boolean;
  /** sendBulk only: that earlier job was for another payload (`id` is its id). */
  keyReused?: true;
}

/** Redis could not be reached: nothing was enqueued. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/** The idempotency key was used within 24 h for another payload: nothing was added. */
export class IdempotencyKeyReusedError extends Error {
  override name = 'IdempotencyKeyReusedError';
  constructor(readonly existingId: string) {
    super(`idempotency key already used within 24 h with another payload (job ${existingId}); nothing was added`);
  }
}

/** How a validated payload is added: plain, under a fixed id, or deduplicated for 24 h. */
export interface AddOptions {
  delay?: number;
  /** A job id the service itself chose (e.g. one meeting per appointment). */
  jobId?: string;
  /**
   * From an idempotency key: what BullMQ deduplicates on for 24 h, and the start of the
   * job's id (the add appends a nonce). An id answered with another start was made for
   * another payload.
   */
  dedup?: { id: string; prefix: string };
}

/** What the appointment events need of the client (kept apart so neither imports the other). */
export interface Enqueuer {
  readonly connection: RedisClient;
  readonly redis: Config['redis'];
  queue(name: QueueName): Queue;
  add(queue: QueueName, name: string, payload: unknown, opts: AddOptions): Promise<Enqueued>;
  withRedis<T>(op: () => Promise<T>): Promise<T>;
}
