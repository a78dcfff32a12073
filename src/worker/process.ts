import type { Job, Worker } from 'bullmq';
import { integrations, type Config } from '../config.js';
import { createLogger, maskRecipients, type Logger } from '../logger.js';
import { createProviders, type Providers } from '../providers/index.js';
import type { QueueName } from '../queues.js';
import { createRedis, type RedisClient } from '../redis.js';
import { meetingHandlers } from '../meetings/handler.js';
import { webhookHandlers } from '../webhooks/handler.js';
import { appointmentHandlers } from '../appointments/handlers.js';
import { messageHandlers } from './handlers.js';
import { QueueRegistry } from './queues.js';
import { startDueWaker, type DueWaker } from './due-waker.js';
import { createWorker, type JobOutcome, type QueueHandler } from './runtime.js';

/** Everything a process shares between its workers: one Redis client, one set of providers. */
export interface ServiceContext {
  config: Config;
  logger: Logger;
  connection: RedisClient;
  queues: QueueRegistry;
  providers: Providers;
  /** Outcome listeners (metrics, webhooks) register here. */
  outcomeListeners: ((o: JobOutcome, job: Job) => void | Promise<void>)[];
}

export type HandlerFactory = (ctx: ServiceContext) => QueueHandler[];

/** Queue handlers by module; later modules (meetings, appointments, webhooks) add theirs. */
export const handlerFactories: HandlerFactory[] = [(ctx) => messageHandlers(ctx.config, ctx.providers)];
handlerFactories.push(meetingHandlers);
// Also installs the outcome listener that emits webhook events, in every worker process.
handlerFactories.push(webhookHandlers);
handlerFactories.push((ctx) => appointmentHandlers(ctx));

export function createServiceContext(config: Config, logger = createLogger(config.logLevel)): ServiceContext {
  const connection = createRedis(config.redis, 'worker');
  watchRedis(connection, config, logger);
  return {
    config,
    logger,
    connection,
    queues: new QueueRegistry(config, connection),
    providers: createProviders(config),
    outcomeListeners: [],
  };
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

export function logIntegrations(config: Config, logger: Logger) {
  const all = integrations(config);
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

export function startWorkers(ctx: ServiceContext, names: readonly QueueName[], opts: StartOptions = {}): RunningWorkers {
  const handlers = handlerFactories.flatMap((f) => f(ctx)).filter((h) => names.includes(h.queue));
  const workers = handlers.map((h) =>
    createWorker(h, {
      config: ctx.config,
      connection: ctx.connection,
      logger: ctx.logger,
      queue: (n) => ctx.queues.get(n),
      mask: maskRecipients,
      onOutcome: (o, job) =>
        ctx.outcomeListeners.length === 0 ? undefined : Promise.all(ctx.outcomeListeners.map((l) => l(o, job))).then(() => undefined),
    }),
  );
  for (const w of workers) void w.run().catch((err) => ctx.logger.error({ err }, 'worker stopped'));
  const wakers: DueWaker[] =
    opts.wakeOnDue === false
      ? []
      : handlers.map((h) => startDueWaker(ctx.queues.get(h.queue), ctx.connection, (err) => ctx.logger.debug({ err: err.message, queue: h.queue }, 'due waker')));
  ctx.logger.info({ queues: handlers.map((h) => h.queue) }, 'workers started');
  let closing: Promise<void> | undefined;
  return {
    ctx,
    workers,
    close: () => {
      for (const w of wakers) w.stop();
      return (closing ??= closeWorkers(ctx, workers));
    },
  };
}

async function closeWorkers(ctx: ServiceContext, workers: Worker[]): Promise<void> {
  const graceful = Promise.all(workers.map((w) => w.close())).then(() => true);
  const timedOut = new Promise<false>((r) => setTimeout(() => r(false), ctx.config.shutdownTimeoutMs).unref());
  if (!(await Promise.race([graceful, timedOut]))) {
    ctx.logger.warn({ timeoutMs: ctx.config.shutdownTimeoutMs }, 'active jobs did not finish in time; they will be re-run');
    await Promise.all(workers.map((w) => w.close(true)));
  }
  await ctx.queues.close();
  await ctx.connection.quit().catch(() => ctx.connection.disconnect());
}

/** SIGTERM/SIGINT: drain, bounded by SHUTDOWN_TIMEOUT_MS, then exit 0. */
export function exitOnSignals(logger: Logger, close: () => Promise<void>): void {
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
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
