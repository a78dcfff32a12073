import { Queue, type JobsOptions } from 'bullmq';
import type { ZodType } from 'zod';
import type { Config } from '../config.js';
import { InvalidPayloadError } from '../errors.js';
import { PRODUCER_JOBS, parsePayload } from '../jobs/registry.js';
import type { EmailPayload, SmsPayload, WhatsAppPayload } from '../jobs/schemas.js';
import type { QueueName } from '../queues.js';
import { createRedis, key, queuePrefix, type RedisClient } from '../redis.js';

export { InvalidPayloadError as ValidationError };

/** Redis could not be reached: nothing was enqueued. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

export interface SendOptions {
  /** Becomes the job id; a replay within 24 h adds nothing and returns the first job's id. */
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
}

export interface ClientOptions {
  redisUrl?: string;
  /** Redis Cluster seeds (`host:port`); the prefix is then hash-tagged. */
  clusterNodes?: string[];
  prefix?: string;
  /** Retry policy written into every job (the workers apply the same defaults to jobs without one). */
  attempts?: number;
  backoffMs?: number;
  /** How long an operation may wait for Redis before failing with RedisUnavailableError. */
  connectTimeoutMs?: number;
  /** Share an existing ioredis client instead of opening one (it is not closed by close()). */
  connection?: RedisClient;
}

const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
const KEY_FORMAT = /^[A-Za-z0-9_.@=+-]{1,200}$/;

export function validateIdempotencyKey(k: string): void {
  if (!KEY_FORMAT.test(k) || /^\d+$/.test(k))
    throw new InvalidPayloadError([
      {
        path: 'idempotencyKey',
        message: 'must be 1-200 characters of letters, digits and _ . @ = + -, and not only digits',
      },
    ]);
}

function delayOf(opts: SendOptions, now = Date.now()): number | undefined {
  if (opts.delay !== undefined && opts.sendAt !== undefined)
    throw new InvalidPayloadError([{ path: 'sendAt', message: 'give either delay or sendAt, not both' }]);
  if (opts.delay !== undefined) {
    if (!Number.isFinite(opts.delay) || opts.delay < 0)
      throw new InvalidPayloadError([{ path: 'delay', message: 'must be a non-negative number of milliseconds' }]);
    return Math.round(opts.delay);
  }
  if (opts.sendAt !== undefined) {
    const at = opts.sendAt instanceof Date ? opts.sendAt.getTime() : Date.parse(opts.sendAt);
    if (Number.isNaN(at) || (typeof opts.sendAt === 'string' && !/(Z|[+-]\d\d:?\d\d)$/i.test(opts.sendAt)))
      throw new InvalidPayloadError([{ path: 'sendAt', message: 'must be a Date or an ISO 8601 date-time with a zone' }]);
    return Math.max(0, at - now);
  }
  return undefined;
}

const isConnectionError = (err: unknown) =>
  /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|Connection is closed|Stream isn't writeable|enableOfflineQueue|Reached the max retries/i.test(
    (err as Error)?.message ?? '',
  );

/**
 * The producer: validates with the same schemas as the workers, then enqueues. Used by
 * other services (the package's public export) and by the HTTP API.
 */
export class NotificationClient {
  readonly connection: RedisClient;
  private readonly ownsConnection: boolean;
  private readonly queues = new Map<QueueName, Queue>();
  private readonly redis: Config['redis'];
  private readonly jobDefaults: JobsOptions;
  private readonly connectTimeoutMs: number;

  constructor(opts: ClientOptions = {}) {
    this.redis = {
      url: opts.redisUrl ?? 'redis://127.0.0.1:6379',
      clusterNodes: opts.clusterNodes,
      prefix: opts.prefix ?? 'notif',
    };
    this.ownsConnection = !opts.connection;
    this.connection = opts.connection ?? createRedis(this.redis, 'producer');
    if (this.ownsConnection) this.connection.on('error', () => {}); // surfaced per call as RedisUnavailableError
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 2_000;
    this.jobDefaults = {
      attempts: opts.attempts ?? 6,
      backoff: { type: 'exponential', delay: opts.backoffMs ?? 5_000, jitter: 0.5 },
    };
  }

  static fromConfig(config: Config, connection?: RedisClient): NotificationClient {
    return new NotificationClient({
      redisUrl: config.redis.url,
      clusterNodes: config.redis.clusterNodes,
      prefix: config.redis.prefix,
      attempts: config.jobs.attempts,
      backoffMs: config.jobs.backoffMs,
      connection,
    });
  }

  sendEmail(payload: EmailPayload, opts: SendOptions = {}): Promise<Enqueued> {
    return this.enqueue('email', 'send', payload, opts);
  }

  sendSms(payload: SmsPayload, opts: SendOptions = {}): Promise<Enqueued> {
    return this.enqueue('sms', 'send', payload, opts);
  }

  sendWhatsApp(payload: WhatsAppPayload, opts: SendOptions = {}): Promise<Enqueued> {
    return this.enqueue('whatsapp', 'send', payload, opts);
  }

  queue(name: QueueName): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.connection, prefix: queuePrefix(this.redis) });
      q.on('error', () => {});
      this.queues.set(name, q);
    }
    return q;
  }

  /** Validates `data` against the (queue, name) schema and adds the job. */
  async enqueue<Q extends keyof typeof PRODUCER_JOBS>(
    queue: Q,
    name: keyof (typeof PRODUCER_JOBS)[Q] & string,
    data: unknown,
    opts: SendOptions & { jobId?: string } = {},
  ): Promise<Enqueued> {
    const schema = (PRODUCER_JOBS[queue] as Record<string, ZodType>)[name];
    if (!schema) throw new InvalidPayloadError([{ path: 'name', message: `unknown job "${name}" on ${queue}` }]);
    const payload = parsePayload(schema, data);
    const delay = delayOf(opts);
    if (opts.idempotencyKey !== undefined) validateIdempotencyKey(opts.idempotencyKey);
    const jobOpts: JobsOptions = {
      ...this.jobDefaults,
      ...(delay !== undefined && { delay }),
      ...((opts.jobId ?? opts.idempotencyKey) !== undefined && { jobId: opts.jobId ?? opts.idempotencyKey }),
    };
    return this.withRedis(async () => {
      if (opts.idempotencyKey === undefined) {
        const job = await this.queue(queue).add(name, payload, jobOpts);
        return { id: job.id!, queue, duplicate: false };
      }
      // The key outlives the job (which may be cleaned up within minutes): a replay within
      // 24 h finds it and adds nothing. Added first, marked second: a crash in between
      // leaves a job and no mark, and the job id itself still deduplicates the replay.
      const mark = key(this.redis, 'idempotency', queue, opts.idempotencyKey);
      const seen = await this.connection.get(mark);
      if (seen) return { id: seen, queue, duplicate: true };
      const job = await this.queue(queue).add(name, payload, jobOpts);
      const first = await this.connection.set(mark, job.id!, 'EX', IDEMPOTENCY_TTL_SECONDS, 'NX');
      return { id: job.id!, queue, duplicate: first === null };
    });
  }

  /** Runs a Redis operation, failing fast with RedisUnavailableError when Redis is away. */
  async withRedis<T>(op: () => Promise<T>): Promise<T> {
    await this.ready();
    try {
      return await op();
    } catch (err) {
      if (isConnectionError(err)) throw new RedisUnavailableError(`Redis is not reachable: ${(err as Error).message}`);
      throw err;
    }
  }

  private async ready(): Promise<void> {
    const c = this.connection;
    if (c.status === 'ready') return;
    if (c.status === 'wait') void c.connect().catch(() => {});
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        c.off('ready', onReady);
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => done();
      const timer = setTimeout(
        () => done(new RedisUnavailableError(`Redis is not reachable (status: ${c.status}) after ${this.connectTimeoutMs} ms`)),
        this.connectTimeoutMs,
      );
      c.on('ready', onReady);
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => {})));
    if (this.ownsConnection) await this.connection.quit().catch(() => this.connection.disconnect());
  }
}

export function createClient(opts: ClientOptions = {}): NotificationClient {
  return new NotificationClient(opts);
}
