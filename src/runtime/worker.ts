import { UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import type { Config, RateLimit } from '../config.js';
import { InvalidPayloadError, ProviderError } from '../contract/errors.js';
import type { JobOutcome, JobResult, Outcome } from '../contract/outcome.js';
import type { QueueName } from '../contract/queues.js';
import { retryPolicy } from '../contract/retry.js';
import { flatLineLogger, scrub, type Logger } from '../logger.js';
import { isConnectionError, queuePrefix, scriptCommand, type RedisClient } from '../redis.js';
import type { OutcomeListener, QueueHandler } from './types.js';

const OUTCOME_MESSAGES: Record<Outcome, string> = {
  completed: 'job completed',
  skipped: 'job skipped',
  replayed: 'job replayed',
  retrying: 'job retrying',
  rate_limited: 'job rate_limited',
  failed: 'job failed',
};

export interface RuntimeDeps {
  config: Config;
  connection: RedisClient;
  logger: Logger;
  /** Queue handles of this process, for manual rate limits and follow-up jobs. */
  queue(name: QueueName): Queue;
  /** Metrics, webhooks: called once per attempt outcome, never allowed to fail the job. */
  onOutcome?: OutcomeListener;
  /** Masks recipients for logs. */
  mask(to: string | string[]): string;
}

/**
 * BullMQ counts starts in fixed windows, so MAX per DURATION can let 2×MAX through around
 * a window edge. One start per DURATION/MAX instead bounds any rolling window of DURATION
 * to MAX + 1 starts. "off" still needs a limiter: BullMQ ignores a manual rate limit
 * (our 429 pause) on a queue without one.
 */
export function limiterFor(rl: RateLimit | 'off'): { max: number; duration: number } {
  if (rl === 'off') return { max: 2 ** 31 - 1, duration: 1000 };
  return { max: 1, duration: Math.max(1, Math.ceil(rl.durationMs / rl.max)) };
}

/** Jobs pushed by other-language producers carry no retry options: the worker supplies them. */
export function applyRetryPolicy(job: Job, jobs: Config['jobs']): void {
  const policy = retryPolicy(jobs.attempts, jobs.backoffMs);
  if (!job.opts.attempts || job.opts.attempts < 1) job.opts.attempts = policy.attempts;
  if (!job.opts.backoff) job.opts.backoff = policy.backoff;
}

/** The result an earlier run of this job delivered, if any (see QueueHandler.deliverOnce). */
export function priorDelivery(job: Job): JobResult | undefined {
  const p = job.progress as { delivered?: JobResult } | number | string | boolean | null | undefined;
  return typeof p === 'object' && p !== null && typeof p.delivered === 'object' ? p.delivered : undefined;
}

export function createWorker(handler: QueueHandler, deps: RuntimeDeps): Worker {
  const { config, connection, logger } = deps;
  const settings = config.queues[handler.queue];
  const log = logger.child({ queue: handler.queue });
  const keyPrefix = `${queuePrefix(config.redis)}:${handler.queue}:`;
  // The outcome line below is flat: top-level redaction is all it needs, and much cheaper.
  const outcomeLog = flatLineLogger(log);

  const report = (job: Job, started: number, o: Omit<JobOutcome, 'queue' | 'name' | 'jobId' | 'provider' | 'attempt' | 'durationMs' | 'enqueuedAt'>): void | Promise<void> => {
    const outcome: JobOutcome = {
      queue: handler.queue,
      name: job.name,
      jobId: job.id!,
      provider: safe(() => handler.provider(job)) ?? 'unknown',
      attempt: job.attemptsMade + 1,
      durationMs: Date.now() - started,
      enqueuedAt: job.timestamp,
      ...o,
    };
    // Payloads may be anything (other-language producers, INVALID_PAYLOAD jobs): masking must not throw.
    const to = safe(() => {
      const r = handler.recipient?.(job);
      return r ? deps.mask(r) : undefined;
    });
    const level = o.outcome === 'failed' || o.outcome === 'skipped' ? 'warn' : 'info';
    // Always the same keys in the same order (pino leaves out undefined ones): one object
    // shape for every line keeps this per-job path monomorphic.
    outcomeLog[level](
      {
        jobId: outcome.jobId,
        job: outcome.name,
        provider: outcome.provider,
        attempt: outcome.attempt,
        durationMs: outcome.durationMs,
        outcome: outcome.outcome,
        code: o.code,
        reason: o.outcome === 'skipped' ? String((o.result as { reason?: string } | undefined)?.reason ?? '') : o.failedReason,
        to,
      },
      OUTCOME_MESSAGES[o.outcome],
    );
    let hooks: void | Promise<void> = undefined;
    try {
      hooks = deps.onOutcome?.(outcome, job);
    } catch (err) {
      log.error({ err, jobId: job.id }, 'outcome hook failed');
    }
    // Most processes have no hook to wait for (no webhooks, no metrics server): no extra tick.
    if (hooks) return hooks.catch((err: unknown) => void log.error({ err, jobId: job.id }, 'outcome hook failed'));
  };

  const processor = async (job: Job): Promise<JobResult> => {
    const started = Date.now();
    applyRetryPolicy(job, config.jobs);
    const deliveryKey = `${handler.queue}-${job.id}-${job.timestamp}`;
    const once = handler.deliverOnce?.(job) ?? false;
    try {
      const previous = once ? priorDelivery(job) : undefined;
      if (previous) {
        await report(job, started, { outcome: 'replayed', result: previous });
        return previous;
      }
      let jobLog: Logger | undefined;
      const result = await handler.run(job, {
        deliveryKey,
        attempt: job.attemptsMade + 1,
        // Made on first use: most handlers never log.
        get logger() {
          return (jobLog ??= log.child({ jobId: job.id }));
        },
      });
      if (once && result.status !== 'skipped') await markDelivered(job, result);
      await report(job, started, { outcome: result.status === 'skipped' ? 'skipped' : 'completed', result });
      return result;
    } catch (err) {
      throw await translate(err, job, started);
    }
  };

  /**
   * Sent: record it before completing. If Redis refuses, the job is not failed for it: that
   * would retry, and re-send, a message that went out. The completion that follows carries
   * the result; only a re-run of this very job would miss the marker.
   */
  const marker = scriptCommand<Marker>(connection, 'markDelivered', MARK_DELIVERED, 1);
  const markDelivered = async (job: Job, result: JobResult) => {
    try {
      const progress = { delivered: result };
      await marker.markDelivered(`${keyPrefix}${job.id}`, JSON.stringify(progress));
      job.progress = progress;
    } catch (err) {
      log.error({ jobId: job.id, err: { message: (err as Error).message } }, 'delivery marker not written');
    }
  };

  /** Maps our errors onto BullMQ's three behaviours: fail now, retry with backoff, wait. */
  const translate = async (err: unknown, job: Job, started: number): Promise<Error> => {
    if (err instanceof InvalidPayloadError) {
      await report(job, started, { outcome: 'failed', code: 'INVALID_PAYLOAD', failedReason: err.message });
      return new UnrecoverableError(err.message);
    }
    const perr =
      err instanceof ProviderError
        ? err
        : new ProviderError('PROVIDER_UNAVAILABLE', (err as Error)?.message ?? String(err), 'transient');
    // Vendors echo recipients in their messages; failedReason is shown on the dashboard and logged.
    const message = scrub(perr.message, []);
    if (perr.kind === 'permanent') {
      await report(job, started, { outcome: 'failed', code: perr.code, failedReason: message });
      return new UnrecoverableError(message);
    }
    const attempts = job.opts.attempts ?? config.jobs.attempts;
    // A 429 does not consume an attempt, but a job must not loop on 429s forever.
    const startsLeft = job.attemptsStarted < attempts + config.jobs.maxRateLimitedStarts;
    if (perr.kind === 'rate_limited' && startsLeft) {
      const waitMs = perr.retryAfterMs ?? config.jobs.rateLimitDefaultWaitMs;
      await deps.queue(handler.queue).rateLimit(Math.max(1, waitMs));
      await report(job, started, { outcome: 'rate_limited', code: perr.code, failedReason: `${message} (waiting ${waitMs} ms)` });
      return Worker.RateLimitError();
    }
    const last = job.attemptsMade + 1 >= attempts;
    await report(job, started, { outcome: last ? 'failed' : 'retrying', code: perr.code, failedReason: message });
    return new Error(message);
  };

  const worker = new Worker(handler.queue, processor, {
    connection,
    prefix: queuePrefix(config.redis),
    concurrency: settings.concurrency,
    limiter: limiterFor(settings.rateLimit),
    removeOnComplete: { age: config.jobs.keepCompletedSeconds },
    removeOnFail: { age: config.jobs.keepFailedSeconds },
    lockDuration: config.jobs.lockDurationMs,
    stalledInterval: config.jobs.lockDurationMs,
    // A worker killed mid-job leaves it stalled; re-running it is safe (delivery markers).
    maxStalledCount: 5,
    autorun: false,
  });
  worker.on('error', (err) => {
    // Redis being away is said once per outage by the shared connection's watcher
    // (process.ts); repeating it for every worker on every reconnect attempt buries it.
    if (isConnectionError(err)) return;
    log.error({ err: { message: err.message } }, 'worker error');
  });
  return worker;
}

/**
 * The delivery marker goes where BullMQ keeps a job's progress, so that it comes back with
 * the job on every fetch (see QueueHandler.deliverOnce). Written by a two-command script
 * (EXISTS, HSET) rather than BullMQ's updateProgress, which also appends a `progress` event
 * to the queue's event stream that nothing here reads, on every message sent. Only an
 * existing job is written: a job removed meanwhile stays removed.
 */
const MARK_DELIVERED = `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'progress', ARGV[1]) return 1 end return 0`;

type Marker = { markDelivered(jobKey: string, progressJson: string): Promise<number> };

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
