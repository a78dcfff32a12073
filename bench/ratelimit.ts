/**
 * Rate-limit accuracy: SMS_RATE_LIMIT across several real worker processes (as ops run
 * them: `npm run worker -- sms`), measured where it matters, at the fake provider.
 */
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { parseRateLimit } from '../src/config.js';
import { WorkerProcess } from '../test/support/spawn.js';
import { maxInWindow, note, rawRedis, round, rssOf, until, type Fakes } from './util.js';

export interface RateLimitCase {
  limit: string;
  processes: number;
  jobs: number;
  providerLatencyMs: number;
}

export async function rateLimitAccuracy(redisUrl: string, fakes: Fakes, c: RateLimitCase) {
  const rl = parseRateLimit(c.limit);
  if (rl === 'off') throw new Error('a rate limit is needed');
  await fakes.reset();
  await fakes.latency(c.providerLatencyMs);
  const prefix = `brl-${randomUUID().slice(0, 8)}`;
  const env = {
    NODE_ENV: 'production',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'info', // "workers started" is an info line; the output is kept in memory
    SMS_RATE_LIMIT: c.limit,
    ...fakes.env(),
  };
  const procs = Array.from({ length: c.processes }, () => new WorkerProcess(['sms'], env));
  let peakRss = 0;
  const connection = rawRedis(redisUrl);
  const q = new Queue('sms', { connection, prefix });
  let starts: number[] = [];
  try {
    await Promise.all(procs.map((p) => p.started()));
    await q.addBulk(Array.from({ length: c.jobs }, (_, i) => ({ name: 'send', data: { to: '+33612345678', body: `rl ${i}` } })));
    const budgetMs = (c.jobs / rl.max) * rl.durationMs * 2 + 30_000;
    await until(
      async () => {
        for (const p of procs) peakRss = Math.max(peakRss, await rssOf(p.proc.pid!).catch(() => 0));
        return (await fakes.count()) >= c.jobs;
      },
      budgetMs,
      `${c.jobs} rate-limited deliveries`,
      100,
    );
    // Job starts (processedOn), what the limit counts; arrivals at the fake add the jitter
    // of three processes sharing two loaded cores between a start and its request.
    starts = (await q.getJobs(['completed'], 0, -1)).map((j) => j.processedOn!);
  } finally {
    await Promise.all(procs.map((p) => p.kill('SIGTERM')));
    await q.close();
    connection.disconnect();
  }
  const times = (await fakes.deliveries()).map(([at]) => at).sort((a, b) => a - b);
  const spanS = (times[times.length - 1]! - times[0]!) / 1000;
  const result = {
    ...c,
    delivered: times.length,
    achievedPerS: round((times.length - 1) / spanS, 2),
    configuredPerS: round((rl.max / rl.durationMs) * 1000, 2),
    maxStartsInAnyRollingWindow: maxInWindow(starts, rl.durationMs),
    maxArrivalsInAnyRollingWindow: maxInWindow(times, rl.durationMs),
    allowedMax: rl.max + 1,
    peakWorkerRssBytes: peakRss,
  };
  note(
    `rate limit ${c.limit} over ${c.processes} processes: ${result.delivered} in ${spanS.toFixed(2)} s = ${result.achievedPerS}/s, at most ${result.maxStartsInAnyRollingWindow} starts / ${result.maxArrivalsInAnyRollingWindow} provider arrivals in any rolling window (allowed ${result.allowedMax}; ${starts.length} starts read)`,
  );
  return result;
}
