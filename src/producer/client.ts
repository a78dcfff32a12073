import { Queue, type JobsOptions } from 'bullmq';
import type { ZodType } from 'zod';
import type { Config } from '../config.js';
import { InvalidPayloadError } from '../contract/errors.js';
import { jobIdFor, meetingCreateJobId } from '../contract/job-ids.js';
import type { QueueName } from '../contract/queues.js';
import { PRODUCER_JOBS, parsePayload } from '../contract/registry.js';
import type { MeetingCreated, MeetingDeleted, MeetingUpdated, Skipped } from '../contract/results.js';
import { retryPolicy } from '../contract/retry.js';
import {
  meetingCreatePayload,
  type EmailPayload,
  type MeetingCreatePayload,
  type MeetingDeletePayload,
  type MeetingUpdatePayload,
  type SmsPayload,
  type WhatsAppPayload,
} from '../contract/schemas.js';
import { withDeadline } from '../deadline.js';
import { createRedis, isConnectionError, queuePrefix, type RedisClient } from '../redis.js';
import { AppointmentEvents } from './appointments.js';
import { IDEMPOTENCY_TTL_MS, dedupFor, validateIdempotencyKey } from './idempotency.js';
import { ResultWaiter } from './results.js';
import { IdempotencyKeyReusedError, RedisUnavailableError, type AddOptions, type Enqueued, type Enqueuer, type SendOptions } from './types.js';

export { InvalidPayloadError as ValidationError, IdempotencyKeyReusedError, RedisUnavailableError };
export type { Enqueued, SendOptions };

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
export class NotificationClient implements Enqueuer {
  readonly connection: RedisClient;
  private readonly ownsConnection: boolean;
  private readonly queues = new Map<QueueName, Queue>();
  readonly redis: Config['redis'];
  private readonly jobDefaults: JobsOptions;
  private readonly connectTimeoutMs: number;
  private waiter?: ResultWaiter;
  /** Appointment lifecycle events and reminder lookup (README "Appointment lifecycle"). */
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
    this.jobDefaults = retryPolicy(opts.attempts ?? 6, opts.backoffMs ?? 5_000);
    this.appointments = new AppointmentEvents(this);
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
    const p = parsePayload(meetingCreatePayload, payload);
    const jobId = meetingCreateJobId(p.appointmentId);
    const existing = await this.withRedis(() => this.queue('meeting').getJob(jobId));
    if (existing && (await existing.isFailed())) await this.withRedis(() => existing.retry('failed'));
    const enqueued = await this.add('meeting', 'create', p, { delay: delayOf(opts), jobId });
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
    opts: SendOptions = {},
  ): Promise<Enqueued> {
    const schema = (PRODUCER_JOBS[queue] as Record<string, ZodType>)[name];
    if (!schema) throw new InvalidPayloadError([{ path: 'name', message: `unknown job "${name}" on ${queue}` }]);
    const payload = parsePayload(schema, data);
    const delay = delayOf(opts);
    if (opts.idempotencyKey === undefined) return this.add(queue, name, payload, { delay });
    validateIdempotencyKey(opts.idempotencyKey);
    return this.add(queue, name, payload, { delay, dedup: dedupFor(opts.idempotencyKey, name, payload) });
  }

  /**
   * Adds an already validated payload. With `dedup`, in one command: BullMQ's own
   * `deduplication` option (24 h) adds nothing when the key was seen and answers the first
   * job's id; its key survives the job's clean-up (removeOnComplete/removeOnFail). The id we
   * propose ends with a nonce, so the answer tells a new job (our id) from a replay (the
   * first one's), and a first id with another payload digest from a reused key.
   */
  async add(queue: QueueName, name: string, payload: unknown, opts: AddOptions): Promise<Enqueued> {
    const q = this.queue(queue);
    const { dedup } = opts;
    const proposed = dedup ? jobIdFor(dedup.prefix) : opts.jobId;
    const jobOpts: JobsOptions = { ...this.jobDefaults };
    if (opts.delay !== undefined) jobOpts.delay = opts.delay;
    if (proposed !== undefined) jobOpts.jobId = proposed;
    if (dedup) jobOpts.deduplication = { id: dedup.id, ttl: IDEMPOTENCY_TTL_MS };
    const job = await this.withRedis(() => q.add(name, payload, jobOpts));
    if (dedup) return answerFor(job.id!, proposed!, dedup.prefix, queue);
    return { id: job.id!, queue, duplicate: false };
  }

  /**
   * Many messages of one queue in one round trip (one `addBulk`). Every item is validated
   * first: a single ValidationError names each bad field by index (`3.to`) and nothing is
   * added; so does a key repeated within the batch with another payload. Idempotency keys
   * work as in `sendSms`: a key repeated with the same payload adds one job; an item whose
   * key an earlier job used for another payload adds nothing and answers that job's id with
   * `keyReused: true`. Answers in the items' order. Split very large batches (a few
   * thousand per call).
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
    const prepared = items.map((item, i) => {
      const payload = check(i, () => parsePayload(schema, item?.payload));
      const delay = check(i, () => delayOf(item ?? {}));
      const key = check(i, () => {
        if (item?.idempotencyKey !== undefined) validateIdempotencyKey(item.idempotencyKey);
        return item?.idempotencyKey;
      });
      return { payload, delay, dedup: key === undefined ? undefined : dedupFor(key, 'send', payload) };
    });
    // The first item of each key is the one that may be added; later ones answer its id.
    const first = new Map<string, number>();
    prepared.forEach(({ dedup }, i) => {
      if (!dedup || issues.length > 0) return;
      const f = first.get(dedup.id);
      if (f === undefined) first.set(dedup.id, i);
      else if (prepared[f]!.dedup!.prefix !== dedup.prefix)
        issues.push({ path: `${i}.idempotencyKey`, message: `already used by item ${f} of this batch with another payload` });
    });
    if (issues.length > 0) throw new InvalidPayloadError(issues);
    const toAdd = prepared.flatMap(({ dedup }, i) => (!dedup || first.get(dedup.id) === i ? [i] : []));
    const proposed = new Map(toAdd.flatMap((i) => (prepared[i]!.dedup ? [[i, jobIdFor(prepared[i]!.dedup!.prefix)] as const] : [])));
    const q = this.queue(queue);
    return this.withRedis(async () => {
      const jobs = await q.addBulk(
        toAdd.map((i) => {
          const { payload, delay, dedup } = prepared[i]!;
          const opts: JobsOptions = {
            ...this.jobDefaults,
            ...(delay !== undefined && { delay }),
            ...(dedup && { jobId: proposed.get(i)!, deduplication: { id: dedup.id, ttl: IDEMPOTENCY_TTL_MS } }),
          };
          return { name: 'send', data: payload, opts };
        }),
      );
      const idOf = new Map(toAdd.map((i, j) => [i, jobs[j]!.id!]));
      return prepared.map(({ dedup }, i): Enqueued => {
        if (!dedup) return { id: idOf.get(i)!, queue, duplicate: false };
        const f = first.get(dedup.id)!;
        const answer = answerFor(idOf.get(f)!, proposed.get(f)!, dedup.prefix, queue, true);
        return f === i ? answer : { ...answer, duplicate: true };
      });
    });
  }

  /** Runs a Redis operation, failing fast with RedisUnavailableError when Redis is away. */
  async withRedis<T>(op: () => Promise<T>): Promise<T> {
    if (this.connection.status !== 'ready') await this.ready();
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
    await withDeadline(
      this.nextReady,
      this.connectTimeoutMs,
      () => new RedisUnavailableError(`Redis is not reachable (status: ${c.status}) after ${this.connectTimeoutMs} ms`),
    );
  }
  private nextReady?: Promise<void>;

  async close(): Promise<void> {
    await this.waiter?.close();
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => {})));
    if (this.ownsConnection) await this.connection.quit().catch(() => this.connection.disconnect());
  }
}

/**
 * What an add with an idempotency key made of BullMQ's answer: our proposed id (a new
 * job), the first job's id with our prefix (a replay), or another prefix (the key was used
 * for another payload: an error, or `keyReused` in a batch).
 */
function answerFor(id: string, proposed: string, prefix: string, queue: QueueName, inBatch = false): Enqueued {
  if (id === proposed) return { id, queue, duplicate: false };
  if (id.startsWith(`${prefix}-`)) return { id, queue, duplicate: true };
  if (inBatch) return { id, queue, duplicate: true, keyReused: true };
  throw new IdempotencyKeyReusedError(id);
}

export function createClient(opts: ClientOptions = {}): NotificationClient {
  return new NotificationClient(opts);
}
