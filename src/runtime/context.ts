import type { Worker } from 'bullmq';
import { integrations, type Config } from '../config.js';
import type { QueueName } from '../contract/queues.js';
import { settlesWithin } from '../deadline.js';
import { createLogger, isPretty, maskRecipients, textBlock, type Logger } from '../logger.js';
import { createProviders } from '../providers/index.js';
import { createRedis, type RedisClient } from '../redis.js';
import { startDueWaker, type DueWaker } from './due-waker.js';
import { QueueRegistry } from './queues.js';
import type { DeliveryListener, Feature, OutcomeListener, ServiceContext } from './types.js';
import { createWorker } from './worker.js';

/** A process's context, with the outcome listeners of its features installed (once). */
export interface Runtime {
  ctx: ServiceContext;
  features: readonly Feature[];
  listeners: OutcomeListener[];
  queues: QueueRegistry;
}

export function createRuntime(config: Config, features: readonly Feature[], logger = createLogger(config.logLevel, undefined, config.logFormat)): Runtime {
  const connection = createRedis(config.redis, 'worker');
  watchRedis(connection, config, logger);
  const queues = new QueueRegistry(config, connection);
  let delivery: DeliveryListener[] = [];
  const ctx: ServiceContext = {
    config,
    logger,
    connection,
    queue: (n) => queues.get(n),
    providers: createProviders(config),
    tellDelivery: async (change) => void (await Promise.all(delivery.map((l) => l(change)))),
  };
  delivery = features.flatMap((f) => f.deliveryListeners?.(ctx) ?? []);
  return { ctx, features, queues, listeners: features.flatMap((f) => f.listeners?.(ctx) ?? []) };
}

/** Says plainly when Redis is away (once per outage), while ioredis keeps reconnecting. */
function watchRedis(connection: RedisClient, config: Config, logger: Logger) {
  let down = false;
  // On a cluster or behind Sentinels, REDIS_URL's host is not where the service connects.
  const where = config.redis.clusterNodes
    ? `cluster ${config.redis.clusterNodes.join(',')}`
    : config.redis.sentinels
      ? `sentinels ${config.redis.sentinels.nodes.join(',')} (${config.redis.sentinels.name})`
      : redactUrl(config.redis.url);
  connection.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger.error(
      { redis: where, err: err.message },
      'Redis cannot be reached; retrying. Start one with `redis-server` (or `docker run -p 6379:6379 redis:7`) or set REDIS_URL',
    );
  });
  connection.on('ready', () => {
    if (down) logger.info({ redis: where }, 'Redis is back');
    down = false;
  });
}

export const redactUrl = (url: string) => url.replace(/\/\/([^@/]*)@/, '//***@');

/** One start-up line: what is on, and why the rest is off (a short block at a terminal). */
export function logIntegrations(config: Config, logger: Logger) {
  const all = integrations(config);
  if (isPretty(config.logFormat)) {
    const rows = all.map((i): [string, string] => [i.name, i.enabled ? 'on' : `off: ${i.reason}`]);
    logger.info(`integrations (npm run doctor checks them)\n${textBlock(rows)}`);
    return;
  }
  logger.info(
    {
      enabled: all.filter((i) => i.enabled).map((i) => i.name),
      disabled: Object.fromEntries(all.filter((i) => !i.enabled).map((i) => [i.name, i.reason])),
    },
    'integrations',
  );
}

export interface RunningWorkers {
  ctx: ServiceContext;
  workers: Worker[];
  /** Stops taking jobs, lets active ones finish within the timeout, closes Redis. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Wake workers at each delayed job's due time (see due-waker.ts). Off only to measure without it. */
  wakeOnDue?: boolean;
}

export function startWorkers(rt: Runtime, names: readonly QueueName[], opts: StartOptions = {}): RunningWorkers {
  const { ctx, listeners } = rt;
  const handlers = rt.features.flatMap((f) => f.handlers(ctx)).filter((h) => names.includes(h.queue));
  const workers = handlers.map((h) =>
    createWorker(h, {
      config: ctx.config,
      connection: ctx.connection,
      logger: ctx.logger,
      queue: ctx.queue,
      mask: maskRecipients,
      onOutcome: (o, job) => {
        // Listeners with nothing to do for this outcome return nothing: then there is no
        // promise to wait for, and the job completes without an extra tick.
        let pending: Promise<void>[] | undefined;
        for (const l of listeners) {
          const r = l(o, job);
          if (r) (pending ??= []).push(r);
        }
        return pending && Promise.all(pending).then(() => undefined);
      },
    }),
  );
  for (const w of workers) void w.run().catch((err) => ctx.logger.error({ err }, 'worker stopped'));
  const wakers: DueWaker[] =
    opts.wakeOnDue === false
      ? []
      : handlers.map((h) => startDueWaker(ctx.queue(h.queue), ctx.connection, (err) => ctx.logger.debug({ err: err.message, queue: h.queue }, 'due waker')));
  ctx.logger.info({ queues: handlers.map((h) => h.queue) }, 'workers started');
  let closing: Promise<void> | undefined;
  return {
    ctx,
    workers,
    close: () => {
      for (const w of wakers) w.stop();
      return (closing ??= closeWorkers(rt, workers));
    },
  };
}

async function closeWorkers(rt: Runtime, workers: Worker[]): Promise<void> {
  const { ctx } = rt;
  if (!(await settlesWithin(Promise.all(workers.map((w) => w.close())), ctx.config.shutdownTimeoutMs))) {
    ctx.logger.warn({ timeoutMs: ctx.config.shutdownTimeoutMs }, 'active jobs did not finish in time; they will be re-run');
    await Promise.all(workers.map((w) => w.close(true)));
  }
  await rt.queues.close();
  await ctx.connection.quit().catch(() => ctx.connection.disconnect());
}

/** SIGTERM/SIGINT (and any `also`): drain, bounded by SHUTDOWN_TIMEOUT_MS, then exit 0. */
export function exitOnSignals(logger: Logger, close: () => Promise<void>, also: readonly NodeJS.Signals[] = []): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    close()
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  for (const signal of ['SIGTERM', 'SIGINT', ...also] as const) process.once(signal, () => stop(signal));
}
