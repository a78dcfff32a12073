/**
 * Delivery throughput: our full worker path (createServiceContext + startWorkers: validation,
 * delivery marker, provider SDK, one info log line per job) against a minimal BullMQ worker
 * calling the same fake with plain fetch. Same Redis, same concurrency, same prefilled jobs.
 * ABBA quads of raw and full runs after an untimed warm-up, so drift on a shared machine
 * cancels out, and an A/A control that shows the harness's own error; CPU time per job
 * (this process, and redis-server) is measured beside wall time.
 */
import { Queue, Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config.js';
import { createService, startWorkers } from '../src/service.js';
import { rawProcessor } from './raw.js';
import { discardLogger, note, rawRedis, redisCpu, round, until, type Fakes } from './util.js';

import type { Channel, Transport } from './raw.js';

export type { Channel };

export interface Case {
  channel: Channel;
  latencyMs: number;
  concurrency: number;
  jobs: number;
}

export interface Run {
  jobsPerS: number;
  /** CPU time of this (the worker's) process per job, user + system. */
  cpuUsPerJob: number;
  /** redis-server CPU time per job. */
  redisCpuUsPerJob: number;
  peakRssBytes: number;
  /**
   * New TCP connections the fake accepted during the run. Keep-alive reuse shows as a count
   * that does not grow with the jobs: up to about twice the concurrency for undici's pool (a
   * connection freed in the same tick as the next request is not yet seen as free), 0 when
   * fetch reuses its global pool from an earlier run.
   */
  providerConnectionsOpened: number;
}

export interface Env {
  redisUrl: string;
  fakes: Fakes;
}

const JOB_OPTS = { attempts: 6, backoff: { type: 'exponential', delay: 5000, jitter: 0.5 } } as const;
const KEEP = { removeOnComplete: { age: 86_400 }, removeOnFail: { age: 604_800 } };

export const payloadFor = (channel: Channel, i: number, text = `bench ${i}`) =>
  channel === 'sms'
    ? { to: '+33612345678', body: text }
    : { to: 'paul.durand@example.com', subject: text, text: 'Bonjour, ceci est un message de test.' };

async function prefill(redisUrl: string, prefix: string, c: Case): Promise<void> {
  const connection = rawRedis(redisUrl);
  const q = new Queue(c.channel, { connection, prefix });
  for (let i = 0; i < c.jobs; i += 1000) {
    const n = Math.min(1000, c.jobs - i);
    await q.addBulk(Array.from({ length: n }, (_, k) => ({ name: 'send', data: payloadFor(c.channel, i + k), opts: JOB_OPTS })));
  }
  await q.close();
  connection.disconnect();
}

/** Runs `start` and waits for `c.jobs` completions, measuring wall time, CPU and RSS. */
async function measure(env: Env, c: Case, start: () => Worker[], stop: () => Promise<void>): Promise<Run> {
  let done = 0;
  let failed = '';
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const cpu0 = process.cpuUsage();
  const r0 = await redisCpu(env.redisUrl);
  const t0 = performance.now();
  for (const w of start()) {
    w.on('completed', () => void done++);
    w.on('failed', (_j, err) => void (failed ||= err.message));
  }
  await until(() => done >= c.jobs || failed !== '', 300_000, `${c.jobs} ${c.channel} jobs`, 5);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const r1 = await redisCpu(env.redisUrl);
  const providerConnectionsOpened = await env.fakes.connections();
  clearInterval(sampler);
  await stop();
  if (failed) throw new Error(`a ${c.channel} job failed: ${failed}`);
  return {
    jobsPerS: round((c.jobs / ms) * 1000),
    cpuUsPerJob: round((cpu.user + cpu.system) / c.jobs),
    redisCpuUsPerJob: round((r1 - r0) / c.jobs),
    peakRssBytes: peakRss,
    providerConnectionsOpened,
  };
}

export async function runFull(env: Env, c: Case): Promise<Run> {
  const prefix = `bf-${randomUUID().slice(0, 8)}`;
  await prefill(env.redisUrl, prefix, c);
  await env.fakes.reset();
  const u = c.channel.toUpperCase();
  const config = loadConfig({
    NODE_ENV: 'production',
    REDIS_URL: env.redisUrl,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'info',
    [`${u}_CONCURRENCY`]: String(c.concurrency),
    [`${u}_RATE_LIMIT`]: 'off',
    ...env.fakes.env(),
  });
  const ctx = createService(config, discardLogger());
  let running: ReturnType<typeof startWorkers> | undefined;
  return measure(
    env,
    c,
    () => (running = startWorkers(ctx, [c.channel])).workers,
    () => running!.close(),
  );
}

export const runRaw = (env: Env, c: Case): Promise<Run> => runBare(env, c, 'fetch');
export const runRawUndici = (env: Env, c: Case): Promise<Run> => runBare(env, c, 'undici');

async function runBare(env: Env, c: Case, transport: Transport): Promise<Run> {
  const prefix = `br-${randomUUID().slice(0, 8)}`;
  await prefill(env.redisUrl, prefix, c);
  await env.fakes.reset();
  const connection = rawRedis(env.redisUrl);
  const worker = new Worker(c.channel, rawProcessor(env.fakes.info, c.channel, transport), {
    connection,
    prefix,
    concurrency: c.concurrency,
    autorun: false,
    ...KEEP,
  });
  return measure(
    env,
    c,
    () => {
      void worker.run();
      return [worker];
    },
    async () => {
      await worker.close();
      connection.disconnect();
    },
  );
}

export interface CaseResult extends Case {
  /** ABBA quads measured (raw, full, full, raw), after `warmup` untimed pairs. */
  quads: number;
  /** Means over the measured runs. */
  raw: Run;
  full: Run;
  /** Median over the quads of √(full₁·full₂ ÷ raw₁·raw₂): ABBA cancels a steady drift. */
  ratio: number;
  ratioRange: [number, number];
  /** Geometric mean of the quad ratios. */
  ratioGeoMean: number;
  /** raw CPU µs/job ÷ full CPU µs/job (median over runs): what a dedicated, CPU-bound core would see. */
  cpuRatio: number;
  /** The bare worker on undici's `request` and a kept-alive pool, the service's own transport. */
  rawUndici: Run;
  /** Like `ratio`, against the undici bare worker. */
  ratioUndici: number;
  ratioUndiciRange: [number, number];
  /** The same quads with raw in both seats (A/A): how far from 1.00 this harness strays by itself. */
  control?: { ratio: number; ratioRange: [number, number] };
}

const mean = (runs: Run[]): Run => {
  const avg = (f: (r: Run) => number) => round(runs.reduce((s, r) => s + f(r), 0) / runs.length);
  return {
    jobsPerS: avg((r) => r.jobsPerS),
    cpuUsPerJob: avg((r) => r.cpuUsPerJob),
    redisCpuUsPerJob: avg((r) => r.redisCpuUsPerJob),
    peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
    providerConnectionsOpened: Math.max(...runs.map((r) => r.providerConnectionsOpened)),
  };
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

type Runner = (env: Env, c: Case) => Promise<Run>;

/**
 * Quads of runs A B B A. Throughput on this machine drifts for tens of seconds (JIT
 * tiers, the fakes' and Redis's own warm-up) and wanders by ±10 % from one run to the
 * next: alternating pairs with a median still leaned 5-10 % towards whichever ran second
 * (an A/A check showed 1.08). ABBA with a geometric ratio per quad cancels a linear drift.
 */
async function quads(env: Env, c: Case, n: number, a: Runner, b: Runner) {
  const { bases, bs, ratios } = await rounds(env, c, n, [a], b);
  return { as: bases[0]!, bs, ratios: ratios[0]! };
}

/**
 * The quads with several baselines: A₁ A₂ B B A₂ A₁, so that each baseline brackets the
 * measured pair symmetrically and the ratio against each cancels a linear drift alike.
 */
async function rounds(env: Env, c: Case, n: number, baselines: Runner[], b: Runner) {
  const bases: Run[][] = baselines.map(() => []);
  const bs: Run[] = [];
  const ratios: number[][] = baselines.map(() => []);
  for (let i = 0; i < n; i++) {
    const before: Run[] = [];
    for (const a of baselines) before.push(await a(env, c));
    const b1 = await b(env, c);
    const b2 = await b(env, c);
    const after: Run[] = [];
    for (const a of [...baselines].reverse()) after.unshift(await a(env, c));
    bs.push(b1, b2);
    baselines.forEach((_, k) => {
      bases[k]!.push(before[k]!, after[k]!);
      ratios[k]!.push(Math.sqrt((b1.jobsPerS * b2.jobsPerS) / (before[k]!.jobsPerS * after[k]!.jobsPerS)));
    });
  }
  return { bases, bs, ratios };
}

export async function throughputCase(env: Env, c: Case, opts: { quads: number; warmup: number; control?: boolean }): Promise<CaseResult> {
  await env.fakes.latency(c.latencyMs);
  // Untimed: JIT, connection pools, the fakes' and Redis's warm-up.
  for (let i = 0; i < opts.warmup; i++) {
    await runRaw(env, c);
    await runRawUndici(env, c);
    await runFull(env, c);
  }
  const { bases, bs: full, ratios: both } = await rounds(env, c, opts.quads, [runRaw, runRawUndici], runFull);
  const [raw, rawUndici] = bases as [Run[], Run[]];
  const [ratios, ratiosUndici] = both as [number[], number[]];
  const result: CaseResult = {
    ...c,
    quads: opts.quads,
    raw: mean(raw),
    rawUndici: mean(rawUndici),
    full: mean(full),
    ratioUndici: round(median(ratiosUndici), 2),
    ratioUndiciRange: [round(Math.min(...ratiosUndici), 2), round(Math.max(...ratiosUndici), 2)],
    ratio: round(median(ratios), 2),
    ratioRange: [round(Math.min(...ratios), 2), round(Math.max(...ratios), 2)],
    ratioGeoMean: round(Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length), 2),
    cpuRatio: round(median(raw.map((r, i) => r.cpuUsPerJob / full[i]!.cpuUsPerJob)), 2),
  };
  if (opts.control) {
    const aa = (await quads(env, c, opts.quads, runRaw, runRaw)).ratios;
    result.control = { ratio: round(median(aa), 2), ratioRange: [round(Math.min(...aa), 2), round(Math.max(...aa), 2)] };
  }
  note(
    `${c.channel} ${c.latencyMs} ms c=${c.concurrency}: raw ${raw.map((x) => x.jobsPerS).join('/')} full ${full.map((x) => x.jobsPerS).join('/')} jobs/s -> ${result.ratio}x [${result.ratioRange.join('-')}]; undici raw (cpu/job ${result.rawUndici.cpuUsPerJob} µs, redis ${result.rawUndici.redisCpuUsPerJob} µs) ${rawUndici.map((x) => x.jobsPerS).join('/')} -> ${result.ratioUndici}x [${result.ratioUndiciRange.join('-')}], geo ${result.ratioGeoMean}x${result.control ? `; A/A control ${result.control.ratio}x [${result.control.ratioRange.join('-')}]` : ''}; cpu/job raw ${result.raw.cpuUsPerJob} full ${result.full.cpuUsPerJob} µs -> ${result.cpuRatio}x; redis cpu/job raw ${result.raw.redisCpuUsPerJob} full ${result.full.redisCpuUsPerJob} µs; provider connections ${result.full.providerConnectionsOpened}`,
  );
  return result;
}
