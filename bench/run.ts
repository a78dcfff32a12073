/**
 * `npm run bench`: every figure beside its own baseline, measured in this one run, on a
 * private redis-server and provider fakes in a child process. Progress and a table go to
 * stderr; stdout carries one JSON summary.
 *
 * Knobs: BENCH_REMINDERS (pending reminders, default 1000000), BENCH_JOBS (jobs per
 * 0 ms throughput run, default 4000), BENCH_QUADS (ABBA quads per 0 ms throughput case,
 * default 6), BENCH_MEMORY_SAMPLE (reminders for the bytes-per-reminder
 * comparison, default 20000), BENCH_ONLY (comma list of sections:
 * throughput,enqueue,latency,rss,ratelimit,memory,reminders,delivery), BENCH_OUTPUT (also write the
 * JSON to this file). `npm run -s bench > out.json` keeps npm's banner out of the JSON.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { PrivateRedis } from '../test/support/redis.js';
import { deliveryIngestion } from './delivery.js';
import { enqueueRates } from './enqueue.js';
import { latency } from './latency.js';
import { spawnedWorkerRss } from './memory.js';
import { rateLimitAccuracy } from './ratelimit.js';
import { reminderLateness, reminderMemory } from './reminders.js';
import { printTable } from './table.js';
import { throughputCase, type Case } from './throughput.js';
import { Fakes, knob, mib, note, round } from './util.js';

const SECTIONS = ['throughput', 'enqueue', 'latency', 'rss', 'ratelimit', 'memory', 'reminders', 'delivery'] as const;
const only = (process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const wanted = (s: (typeof SECTIONS)[number]) => only.length === 0 || only.includes(s);

const JOBS = knob('BENCH_JOBS', 4000);
const QUADS = knob('BENCH_QUADS', 6);
const REMINDERS = knob('BENCH_REMINDERS', 1_000_000);
const MEMORY_SAMPLE = knob('BENCH_MEMORY_SAMPLE', 20_000);

function machine() {
  const version = (pkg: string) => (createRequire(import.meta.url)(`${pkg}/package.json`) as { version: string }).version;
  let redis = 'unknown';
  try {
    redis = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    /* reported as unknown */
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    totalMemGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    redisServer: redis,
    bullmq: version('bullmq'),
    ioredis: version('ioredis'),
    loadavgAtStart: loadavg().map((l) => round(l, 2)),
  };
}

const started = performance.now();
const summary: Record<string, unknown> = { machine: machine() };
const elapsed: Record<string, number> = {};
const redis = await PrivateRedis.start();
const fakes = await Fakes.start();
const env = { redisUrl: redis.url, fakes };
note(`private redis-server at ${redis.url}; fake providers in pid ${fakes.pid()}`);

async function section<T>(name: (typeof SECTIONS)[number], f: () => Promise<T>): Promise<void> {
  if (!wanted(name)) return;
  const t0 = performance.now();
  note(`— ${name}`);
  summary[name] = await f();
  elapsed[name] = round((performance.now() - t0) / 1000);
}

try {
  await section('throughput', async () => {
    // 0 ms: CPU-bound, noisy, so more and longer runs; 50 ms: bound by concurrency ÷ latency.
    const cases: [Case, { quads: number; warmup: number; control?: boolean }][] = [
      [{ channel: 'email', latencyMs: 0, concurrency: 20, jobs: JOBS }, { quads: QUADS, warmup: 4, control: true }],
      [{ channel: 'sms', latencyMs: 0, concurrency: 20, jobs: JOBS }, { quads: QUADS, warmup: 4 }],
      [{ channel: 'sms', latencyMs: 50, concurrency: 50, jobs: 2500 }, { quads: 2, warmup: 1 }],
      [{ channel: 'email', latencyMs: 50, concurrency: 50, jobs: 2500 }, { quads: 2, warmup: 1 }],
    ];
    const results = [];
    for (const [c, o] of cases) results.push(await throughputCase(env, c, o));
    return {
      note: 'in-process workers (createService + startWorkers, logs at info to /dev/null) vs raw BullMQ Workers calling the fake with fetch and with undici request on a kept-alive pool; ABBA quads after an untimed warm-up, ratio = median over quads of the geometric quad ratio; A/A control on the first case; rate limits off; fakes in a child process',
      cases: results,
      inProcessPeakRssMiB: mib(Math.max(...results.flatMap((r) => [r.full.peakRssBytes, r.raw.peakRssBytes]))),
    };
  });
  await section('enqueue', () => enqueueRates(redis.url, Math.max(1000, JOBS), Math.max(5000, JOBS * 2)));
  await section('latency', () => latency(env, { ratePerS: 200, seconds: 10, concurrency: 50, providerLatencyMs: 50 }));
  await section('rss', () => spawnedWorkerRss(redis.url, fakes, { jobs: Math.max(5000, JOBS), concurrency: 50, providerLatencyMs: 50 }));
  await section('ratelimit', () => rateLimitAccuracy(redis.url, fakes, { limit: '50/1s', processes: 3, jobs: 400, providerLatencyMs: 20 }));
  await section('memory', async () => {
    const atDefaults = await reminderMemory(redis.url, fakes, MEMORY_SAMPLE);
    // Job hashes hold values over 64 bytes (data, options): with a higher limit Redis keeps
    // them in the compact listpack encoding. An ops setting; measured here to show the gain.
    const admin = new Redis(redis.url);
    await admin.config('SET', 'hash-max-listpack-value', '256');
    const compactHashes = await reminderMemory(redis.url, fakes, MEMORY_SAMPLE);
    await admin.config('SET', 'hash-max-listpack-value', '64');
    admin.disconnect();
    return { ...atDefaults, withHashMaxListpackValue256: compactHashes };
  });
  await section('delivery', () => deliveryIngestion(env, { callbacks: knob('BENCH_CALLBACKS', 4000), ratePerS: 200, seconds: 10, sms: 2000 }));
  await section('reminders', () => reminderLateness(redis.url, fakes, { pending: REMINDERS, chunk: 5000, due: 200, leadMs: 3000, spacingMs: 50 }));
} finally {
  fakes.stop();
  await redis.stop();
}

summary.elapsedSeconds = { ...elapsed, total: round((performance.now() - started) / 1000) };
(summary.machine as Record<string, unknown>).loadavgAtEnd = loadavg().map((l) => round(l, 2));
printTable(summary);
const json = JSON.stringify(summary, null, 2) + '\n';
// `npm run bench` prints npm's own banner on stdout first: `npm run -s bench`, or BENCH_OUTPUT=file.
if (process.env.BENCH_OUTPUT) writeFileSync(process.env.BENCH_OUTPUT, json);
process.stdout.write(json);
process.exit(0);
