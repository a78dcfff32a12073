import { Queue, type JobsOptions } from 'bullmq';
import type { ZodType } from 'zod';
import type { Config } from '../config.js';
import { InvalidPayloadError } from '../contract/errors.js';
import { PRODUCER_JOBS, parsePayload } from '../contract/registry.js';
import type { EmailPayload, SmsPayload, WhatsAppPayload } from '../contract/schemas.js';
import type { MeetingCreated, MeetingDeleted, MeetingUpdated, Skipped } from '../contract/results.js';
import {
  meetingCreatePayload,
  type MeetingCreatePayload,
  type MeetingDeletePayload,
  type MeetingUpdatePayload,
} from '../contract/schemas.js';
import { ResultWaiter } from './results.js';
import { AppointmentEvents } from './appointments.js';
import type { QueueName } from '../contract/queues.js';
import { createRedis, isConnectionError, key, queuePrefix, type RedisClient } from '../redis.js';

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

/** An enqueued job whose outcome can be awaited. */
export interface EnqueuedJob<R> extends Enqueued {
  /**
   * The job's return value once it finishes; rejects with its failedReason when it fails
   * for good, or with ResultTimeoutError after `timeoutMs` (30 s by default).
   */
  result(timeoutMs?: number): Promise<R>;
}

export interface ClientOptions {
  redisUrl?: string;
  /** Redis Cluster seeds (`host:port`); the prefix is then hash-tagged. */
  clusterNodes?: string[];
  /** Redis Sentinels (`host:port`) and the master group name they monitor (redisUrl then only gives password, db, TLS). */
  sentinels?: { nodes: string[]; name: string };
  prefix?: string;
  /** Retry policy written into every job (the workers apply the same defaults to jobs without one). */
  attempts?: number;
  backoffMs?: number;
  /** How long an operation may wait for Redis before failing with RedisUnavailableError. */
  connectTimeoutMs?: number;
  /** Share an existing ioredis client instead of opening one (it is not closed by close()). */
  connection?: RedisClient;
}

/** The payload of each message queue, for `sendBulk`. */
export interface MessagePayloads {
  email: EmailPayload;
  sms: SmsPayload;
  whatsapp: WhatsAppPayload;
}

/** One message of a `sendBulk` batch and its options. */
export interface BulkItem<P> extends SendOptions {
  payload: P;
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
  private waiter?: ResultWaiter;
  /** Appointment lifecycle events and reminder lookup (CONTRACT §5). */
  readonly appointments: AppointmentEvents;

  constructor(opts: ClientOptions = {}) {
    this.redis = {
      url: opts.redisUrl ?? 'redis://127.0.0.1:6379',
      clusterNodes: opts.clusterNodes,
      sentinels: opts.sentinels,
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
    this.appointments = new AppointmentEvents(this, () => this.redis);
  }

  static fromConfig(config: Config, connection?: RedisClient): NotificationClient {
    return new NotificationClient({
      redisUrl: config.redis.url,
      clusterNodes: config.redis.clusterNodes,
      sentinels: config.redis.sentinels,
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

  /**
   * One meeting per appointment: unless an idempotencyKey is given, the job id is
   * `meeting-create-<appointmentId>`, so a replay adds nothing (a failed one is retried).
   */
  async createMeeting(payload: MeetingCreatePayload, opts: SendOptions = {}): Promise<EnqueuedJob<MeetingCreated | Skipped>> {
    if (opts.idempotencyKey !== undefined) return this.withResult(await this.enqueue('meeting', 'create', payload, opts));
    const p = parsePayload(meetingCreatePayload, payload); // before its id names the job
    const jobId = `meeting-create-${p.appointmentId}`;
    const existing = await this.withRedis(() => this.queue('meeting').getJob(jobId));
    if (existing && (await existing.isFailed())) await this.withRedis(() => existing.retry('failed'));
    const enqueued = await this.enqueue('meeting', 'create', p, { ...opts, jobId });
    return this.withResult({ ...enqueued, duplicate: existing !== undefined });
  }

  /** Moves the meeting the service created for `appointmentId`; skipped when there is none. */
  async updateMeeting(payload: MeetingUpdatePayload, opts: SendOptions = {}): Promise<EnqueuedJob<MeetingUpdated | Skipped>> {
    return this.withResult(await this.enqueue('meeting', 'update', payload, opts));
  }

  /** Deletes the meeting the service created for `appointmentId`; one already gone counts as deleted. */
  async deleteMeeting(payload: MeetingDeletePayload, opts: SendOptions = {}): Promise<EnqueuedJob<MeetingDeleted | Skipped>> {
    return this.withResult(await this.enqueue('meeting', 'delete', payload, opts));
  }

  private withResult<R>(e: Enqueued): EnqueuedJob<R> {
    return {
      ...e,
      result: (timeoutMs = 30_000) => {
        this.waiter ??= new ResultWaiter(this.redis);
        return this.waiter.wait<R>(this.queue(e.queue), e.queue, e.id, timeoutMs);
      },
    };
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

  /**
   * Many messages of one queue in one round trip (one `addBulk`). Every item is validated
   * first: a single ValidationError names each bad field by index (`3.to`) and nothing is
   * added. Idempotency keys work as in `sendSms`; a key repeated within the batch adds one
   * job. Answers in the items' order. Split very large batches (a few thousand per call).
   */
  async sendBulk<Q extends keyof MessagePayloads>(queue: Q, items: readonly BulkItem<MessagePayloads[Q]>[]): Promise<Enqueued[]> {
    const schema = PRODUCER_JOBS[queue].send as ZodType;
    const issues: { path: string; message: string }[] = [];
    const check = <T>(i: number, f: () => T): T | undefined => {
      try {
        return f();
      } catch (err) {
        if (!(err instanceof InvalidPayloadError)) throw err;
        issues.push(...err.issues.map((x) => ({ path: x.path ? `${i}.${x.path}` : String(i), message: x.message })));
        return undefined;
      }
    };
    const prepared = items.map((item, i) => ({
      payload: check(i, () => parsePayload(schema, item?.payload)),
      delay: check(i, () => delayOf(item ?? {})),
      key: check(i, () => {
        if (item?.idempotencyKey !== undefined) validateIdempotencyKey(item.idempotencyKey);
        return item?.idempotencyKey;
      }),
    }));
    if (issues.length > 0) throw new InvalidPayloadError(issues);
    const mark = (k: string) => key(this.redis, 'idempotency', queue, k);
    // The first item of each key is the one that may be added; later ones answer its id.
    const first = new Map<string, number>();
    prepared.forEach((p, i) => p.key !== undefined && !first.has(p.key) && first.set(p.key, i));
    return this.withRedis(async () => {
      const keys = [...first.keys()];
      const seen = keys.length > 0 ? await this.connection.mget(...keys.map(mark)) : [];
      const marked = new Map(keys.map((k, j) => [k, seen[j] ?? undefined]));
      const toAdd = prepared.flatMap((p, i) =>
        p.key === undefined || (first.get(p.key) === i && !marked.get(p.key)) ? [i] : [],
      );
      const jobs = await this.queue(queue).addBulk(
        toAdd.map((i) => {
          const p = prepared[i]!;
          const opts = { ...this.jobDefaults, ...(p.delay !== undefined && { delay: p.delay }), ...(p.key !== undefined && { jobId: p.key }) };
          return { name: 'send', data: p.payload, opts };
        }),
      );
      const ids = new Map(toAdd.map((i, j) => [i, jobs[j]!.id!]));
      // Added first, marked second, as in enqueue(): a key marked meanwhile by another
      // producer means the job id already existed, and nothing new was added.
      const lost = new Set<string>();
      const keyed = toAdd.filter((i) => prepared[i]!.key !== undefined);
      if (keyed.length > 0) {
        const pipeline = this.connection.pipeline();
        for (const i of keyed) pipeline.set(mark(prepared[i]!.key!), ids.get(i)!, 'EX', IDEMPOTENCY_TTL_SECONDS, 'NX');
        const answers = (await pipeline.exec()) ?? [];
        keyed.forEach((i, j) => answers[j]?.[1] !== 'OK' && lost.add(prepared[i]!.key!));
      }
      return prepared.map(({ key: k }, i): Enqueued => {
        const id = ids.get(i);
        if (id !== undefined) return { id, queue, duplicate: k !== undefined && lost.has(k) };
        return { id: marked.get(k!) ?? ids.get(first.get(k!)!)!, queue, duplicate: true };
      });
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
    // One 'ready' listener shared by every waiting call: hundreds of calls during an outage
    // must not pile up listeners (MaxListenersExceededWarning), each keeps its own deadline.
    this.nextReady ??= new Promise<void>((resolve) =>
      c.once('ready', () => {
        this.nextReady = undefined;
        resolve();
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisUnavailableError(`Redis is not reachable (status: ${c.status}) after ${this.connectTimeoutMs} ms`)),
        this.connectTimeoutMs,
      );
    });
    try {
      await Promise.race([this.nextReady, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
  private nextReady?: Promise<void>;

  async close(): Promise<void> {
    await this.waiter?.close();
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => {})));
    if (this.ownsConnection) await this.connection.quit().catch(() => this.connection.disconnect());
  }
}

export function createClient(opts: ClientOptions = {}): NotificationClient {
  return new NotificationClient(opts);
}
