import type { Job, Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { QUEUES, type QueueName } from '../contract/queues.js';
import type { Config } from '../config.js';
import { droppedCounts } from '../delivery/view.js';
import type { NotificationClient } from '../producer/client.js';
import type { RedisClient } from '../redis.js';
import type { JobOutcome } from '../contract/outcome.js';
import { withDeadline } from '../deadline.js';

export interface MetricsOptions {
  /** Queue handles to count (the server's producer-side ones). */
  queue(name: QueueName): Queue;
  /** The connection those queues use, for two reads BullMQ has no getter for. */
  connection: RedisClient;
  /** Delivery events the workers dropped (unknown message id), per provider, read on scrape. */
  droppedEvents?: () => Promise<Record<string, number>>;
  /** A queue with waiting jobs, none active and nothing finished for this long is "stuck". */
  stuckAfterMs: number;
  /** Scrapes within this window share one round of Redis calls. */
  cacheMs?: number;
  /** Bound on the Redis calls of one scrape, so a hung Redis cannot hang Prometheus. */
  timeoutMs?: number;
  now?: () => number;
}

interface QueueSnapshot {
  counts: Record<'waiting' | 'delayed' | 'active' | 'failed', number>;
  stuck: boolean;
}

const TERMINAL = new Set<JobOutcome['outcome']>(['completed', 'skipped', 'replayed', 'failed']);
const STATES = ['waiting', 'delayed', 'active', 'failed'] as const;

/**
 * The service's Prometheus metrics, on a registry of its own (tests and embedders can run
 * several). Counters and histograms move when a worker in this process reports an outcome
 * (see `observe`); queue gauges are read from Redis on scrape, so they are right in every
 * process, including a server with no workers.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly jobs: Counter<'queue' | 'provider' | 'outcome'>;
  private readonly failures: Counter<'queue' | 'code'>;
  private readonly processing: Histogram<'queue'>;
  private readonly endToEnd: Histogram<'queue'>;
  private readonly deliveryEvents: Counter<'channel' | 'provider' | 'status'>;
  private readonly refusedEvents: Counter<'provider' | 'reason'>;
  private cached?: { at: number; value: Promise<Map<QueueName, QueueSnapshot> | undefined> };
  private readonly now: () => number;

  constructor(private readonly opts: MetricsOptions) {
    this.now = opts.now ?? Date.now;
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.jobs = new Counter({
      name: 'notification_jobs_total',
      help: 'Job attempts by queue, provider and outcome (completed, skipped, replayed, retrying, rate_limited, failed)',
      labelNames: ['queue', 'provider', 'outcome'],
      registers,
    });
    this.failures = new Counter({
      name: 'notification_job_failures_total',
      help: 'Failed attempts by queue and failure code (INVALID_PAYLOAD, PROVIDER_AUTH, PROVIDER_UNAVAILABLE...)',
      labelNames: ['queue', 'code'],
      registers,
    });
    this.processing = new Histogram({
      name: 'notification_job_processing_seconds',
      help: 'Time one attempt spent in the worker (provider call included)',
      labelNames: ['queue'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.endToEnd = new Histogram({
      name: 'notification_job_end_to_end_seconds',
      help: 'From when the job was due (added, plus any requested delay) to its final outcome, retries included',
      labelNames: ['queue'],
      buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    this.deliveryEvents = new Counter({
      name: 'notification_delivery_events_total',
      help: 'Provider delivery events accepted, by channel, provider and normalised status (sent, delivered, bounced...)',
      labelNames: ['channel', 'provider', 'status'],
      registers,
    });
    this.refusedEvents = new Counter({
      name: 'notification_delivery_events_refused_total',
      help: 'Provider requests refused or ignored, by provider and reason (invalid_signature, not_configured, malformed, other_account)',
      labelNames: ['provider', 'reason'],
      registers,
    });
    const self = this;
    if (opts.droppedEvents) {
      const read = opts.droppedEvents;
      new Counter({
        name: 'notification_delivery_events_dropped_total',
        help: 'Provider events given up on after 10 minutes because their message id was never recorded, by provider (read from Redis on scrape: every worker process counts there)',
        labelNames: ['provider'],
        registers,
        async collect() {
          this.reset();
          const counts = await read().catch(() => ({}) as Record<string, number>);
          for (const [provider, n] of Object.entries(counts)) this.inc({ provider }, n);
        },
      });
    }
    new Gauge({
      name: 'notification_queue_jobs',
      help: 'Jobs per queue and state (waiting, delayed, active, failed), read from Redis on scrape',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        const snap = await self.snapshot();
        for (const [queue, s] of snap ?? []) for (const state of STATES) this.set({ queue, state }, s.counts[state]);
      },
    });
    new Gauge({
      name: 'notification_queue_stuck',
      help: 'Set to 1 when a queue has had waiting jobs, none active and none finished for longer than STUCK_AFTER_MS',
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        const snap = await self.snapshot();
        for (const [queue, s] of snap ?? []) this.set({ queue }, s.stuck ? 1 : 0);
      },
    });
    new Gauge({
      name: 'notification_redis_up',
      help: 'Set to 1 when Redis answered the last scrape',
      registers,
      async collect() {
        this.set((await self.snapshot()) ? 1 : 0);
      },
    });
  }

  /** An `outcomeListeners` entry: call once per attempt outcome. */
  observe = (o: JobOutcome, job?: Job): void => {
    this.jobs.inc({ queue: o.queue, provider: o.provider, outcome: o.outcome });
    if (o.code && (o.outcome === 'failed' || o.outcome === 'retrying')) this.failures.inc({ queue: o.queue, code: o.code });
    this.processing.observe({ queue: o.queue }, o.durationMs / 1000);
    if (TERMINAL.has(o.outcome)) {
      const due = o.enqueuedAt + (job?.opts.delay ?? 0);
      this.endToEnd.observe({ queue: o.queue }, Math.max(0, this.now() - due) / 1000);
    }
  };

  /** A provider event accepted by its route (README "Delivery status"). */
  deliveryEvent(channel: string, provider: string, status: string): void {
    this.deliveryEvents.inc({ channel, provider, status });
  }

  /** A provider request refused (403, 404, 400) or acknowledged and ignored (another account). */
  refusedEvent(provider: string, reason: string): void {
    this.refusedEvents.inc({ provider, reason });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** One round of Redis reads per cache window, shared by every gauge; undefined when Redis is away. */
  private snapshot(): Promise<Map<QueueName, QueueSnapshot> | undefined> {
    const now = this.now();
    if (this.cached && now - this.cached.at < (this.opts.cacheMs ?? 2_000)) return this.cached.value;
    const value = withTimeout(this.read(now), this.opts.timeoutMs ?? 2_000).catch(() => undefined);
    this.cached = { at: now, value };
    return value;
  }

  private async read(now: number): Promise<Map<QueueName, QueueSnapshot>> {
    const entries = await Promise.all(
      QUEUES.map(async (name) => [name, await this.readQueue(this.opts.queue(name), now)] as const),
    );
    return new Map(entries);
  }

  private async readQueue(q: Queue, now: number): Promise<QueueSnapshot> {
    const c = await q.getJobCounts('wait', 'prioritized', 'delayed', 'active', 'failed');
    const counts = {
      waiting: (c.wait ?? 0) + (c.prioritized ?? 0),
      delayed: c.delayed ?? 0,
      active: c.active ?? 0,
      failed: c.failed ?? 0,
    };
    const stuck = counts.waiting > 0 && counts.active === 0 && now - (await lastProgress(q, this.opts.connection)) > this.opts.stuckAfterMs;
    return { counts, stuck };
  }
}

/**
 * The latest sign of life of a queue, from Redis itself so every server replica agrees and
 * a restart loses nothing: the newest finish (completed and failed sets are scored by
 * finishedOn), or the moment the oldest waiting job became due, whichever is later. A queue
 * that just received work after a quiet week is therefore not stuck until that work waits.
 */
async function lastProgress(q: Queue, client: RedisClient): Promise<number> {
  const [completed, failed, oldest] = await Promise.all([
    client.zrevrange(q.toKey('completed'), 0, 0, 'WITHSCORES'),
    client.zrevrange(q.toKey('failed'), 0, 0, 'WITHSCORES'),
    q.getJobs(['wait'], 0, 0, true),
  ]);
  const job = oldest[0];
  const dueAt = job ? job.timestamp + (job.opts.delay ?? 0) : 0;
  return Math.max(Number(completed[1] ?? 0), Number(failed[1] ?? 0), dueAt);
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> => withDeadline(p, ms, () => new Error(`timed out after ${ms} ms`));

/** The service's metrics over a producer client's queues and connection (the server's). */
export function metricsFor(config: Config, client: NotificationClient): ServiceMetrics {
  return new ServiceMetrics({
    queue: (q) => client.queue(q),
    connection: client.connection,
    stuckAfterMs: config.metrics.stuckAfterMs,
    droppedEvents: () => client.withRedis(() => droppedCounts({ connection: client.connection, redis: config.redis })),
  });
}
