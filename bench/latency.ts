/**
 * End-to-end latency at a steady moderate load: from the producer's call to the request's
 * arrival at the fake provider. Ours: NotificationClient.sendSms + the full SMS worker.
 * Baseline: Queue.add + the raw BullMQ worker (plain fetch), same load, same Redis.
 * Producer, worker and clock are all in this process; the fake is in its own.
 */
import { Queue, Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config.js';
import { NotificationClient } from '../src/producer/client.js';
import { createService, startWorkers } from '../src/service.js';
import { rawProcessor } from './raw.js';
import type { Env } from './throughput.js';
import { discardLogger, note, rawRedis, sleep, summary, until } from './util.js';

export interface LatencyCase {
  ratePerS: number;
  seconds: number;
  concurrency: number;
  providerLatencyMs: number;
}

/** Calls `add(i, t)` at a steady rate (catching up if the timer is late), never waiting on it. */
async function steady(c: LatencyCase, add: (i: number) => Promise<unknown>): Promise<number> {
  const total = c.ratePerS * c.seconds;
  const interval = 1000 / c.ratePerS;
  const t0 = performance.now();
  const adds: Promise<unknown>[] = [];
  let i = 0;
  while (i < total) {
    const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
    for (; i < due; i++) adds.push(add(i));
    await sleep(Math.max(1, interval - ((performance.now() - t0) % interval)));
  }
  await Promise.all(adds);
  return total;
}

/** Latencies (ms) from the bodies `lat <enqueued ms>` the fake received. */
async function collect(env: Env, total: number): Promise<number[]> {
  await until(async () => (await env.fakes.count()) >= total, 120_000, `${total} deliveries`, 50);
  const got = await env.fakes.deliveries();
  return got.map(([at, text]) => at - Number(text.split(' ')[1]));
}

const text = () => `lat ${Date.now()}`;

export async function latencyOurs(env: Env, c: LatencyCase) {
  await env.fakes.reset();
  await env.fakes.latency(c.providerLatencyMs);
  const config = loadConfig({
    NODE_ENV: 'production',
    REDIS_URL: env.redisUrl,
    QUEUE_PREFIX: `bl-${randomUUID().slice(0, 8)}`,
    LOG_LEVEL: 'info',
    SMS_CONCURRENCY: String(c.concurrency),
    SMS_RATE_LIMIT: 'off',
    ...env.fakes.env(),
  });
  const ctx = createService(config, discardLogger());
  const running = startWorkers(ctx, ['sms']);
  const client = NotificationClient.fromConfig(config);
  try {
    await running.workers[0]!.waitUntilReady();
    await sleep(200);
    const total = await steady(c, () => client.sendSms({ to: '+33612345678', body: text() }));
    return await collect(env, total);
  } finally {
    await client.close();
    await running.close();
  }
}

export async function latencyRaw(env: Env, c: LatencyCase) {
  await env.fakes.reset();
  await env.fakes.latency(c.providerLatencyMs);
  const prefix = `blr-${randomUUID().slice(0, 8)}`;
  const connection = rawRedis(env.redisUrl);
  const worker = new Worker('sms', rawProcessor(env.fakes.info, 'sms'), { connection, prefix, concurrency: c.concurrency });
  const q = new Queue('sms', { connection, prefix });
  try {
    await worker.waitUntilReady();
    await sleep(200);
    const total = await steady(c, () => q.add('send', { to: '+33612345678', body: text() }));
    return await collect(env, total);
  } finally {
    await worker.close();
    await q.close();
    connection.disconnect();
  }
}

/** raw, ours, ours, raw; each side's samples pooled. */
export async function latency(env: Env, c: LatencyCase) {
  const r1 = await latencyRaw(env, c);
  const o1 = await latencyOurs(env, c);
  const o2 = await latencyOurs(env, c);
  const r2 = await latencyRaw(env, c);
  const ours = summary([...o1, ...o2]);
  const raw = summary([...r1, ...r2]);
  note(`e2e latency at ${c.ratePerS}/s: ours p50 ${ours.p50} p99 ${ours.p99} max ${ours.max} ms; raw p50 ${raw.p50} p99 ${raw.p99} max ${raw.max} ms`);
  return { ...c, ours, raw };
}
