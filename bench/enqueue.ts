/**
 * Enqueue rate of the producer client beside raw BullMQ: one `sendSms` at a time against
 * `Queue.add`, and `sendBulk` against `Queue.addBulk` (chunks of BULK_CHUNK). The client's
 * extra work is validation (zod); with idempotency keys, two digests and BullMQ's
 * `deduplication` option in the same add, against `Queue.add` with a `jobId`.
 */
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { idempotentIds, jobIdFor } from '../src/contract/job-ids.js';
import { NotificationClient } from '../src/producer/client.js';
import { IDEMPOTENCY_TTL_MS } from '../src/producer/idempotency.js';
import { note, rawRedis, round } from './util.js';

const BULK_CHUNK = 1000;
const OPTS = { attempts: 6, backoff: { type: 'exponential', delay: 5000, jitter: 0.5 } } as const;
const sms = (i: number) => ({ to: '+33612345678', body: `enqueue ${i}` });

type Mode = 'single' | 'singleKeyed' | 'bulk' | 'bulkKeyed';

async function timed(n: number, f: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await f();
  return round((n / (performance.now() - t0)) * 1000);
}

async function ours(redisUrl: string, mode: Mode, n: number): Promise<number> {
  const client = new NotificationClient({ redisUrl, prefix: `be-${randomUUID().slice(0, 8)}` });
  await client.queue('sms').waitUntilReady();
  const run = randomUUID().slice(0, 8);
  try {
    return await timed(n, async () => {
      if (mode === 'single' || mode === 'singleKeyed')
        for (let i = 0; i < n; i++) await client.sendSms(sms(i), mode === 'singleKeyed' ? { idempotencyKey: `k-${run}-${i}` } : {});
      else
        for (let i = 0; i < n; i += BULK_CHUNK)
          await client.sendBulk(
            'sms',
            Array.from({ length: Math.min(BULK_CHUNK, n - i) }, (_, k) => ({
              payload: sms(i + k),
              ...(mode === 'bulkKeyed' && { idempotencyKey: `k-${run}-${i + k}` }),
            })),
          );
    });
  } finally {
    await client.close();
  }
}

/**
 * Raw BullMQ. Keyed modes add with a `jobId`; with `dedup`, also with BullMQ's
 * `deduplication` option and the ids our client derives (what that option costs alone).
 */
async function raw(redisUrl: string, mode: Mode, n: number, dedup = false): Promise<number> {
  const connection = rawRedis(redisUrl);
  const q = new Queue('sms', { connection, prefix: `bq-${randomUUID().slice(0, 8)}` });
  await q.waitUntilReady();
  const run = randomUUID().slice(0, 8);
  const opts = (i: number) => {
    if (!mode.endsWith('Keyed')) return OPTS;
    if (!dedup) return { ...OPTS, jobId: `k-${run}-${i}` };
    const { dedupId, prefix } = idempotentIds(`k-${run}-${i}`, JSON.stringify(sms(i)));
    return { ...OPTS, jobId: jobIdFor(prefix), deduplication: { id: dedupId, ttl: IDEMPOTENCY_TTL_MS } };
  };
  try {
    return await timed(n, async () => {
      if (mode === 'single' || mode === 'singleKeyed') for (let i = 0; i < n; i++) await q.add('send', sms(i), opts(i));
      else
        for (let i = 0; i < n; i += BULK_CHUNK)
          await q.addBulk(Array.from({ length: Math.min(BULK_CHUNK, n - i) }, (_, k) => ({ name: 'send', data: sms(i + k), opts: opts(i + k) })));
    });
  } finally {
    await q.close();
    connection.disconnect();
  }
}

export interface EnqueueFigure {
  jobs: number;
  quads: number;
  clientPerS: number;
  rawPerS: number;
  /** Median over quads of (ours, ours) / (raw, raw). */
  ratio: number;
  quadRatios: number[];
  /** Keyed modes: raw BullMQ with its `deduplication` option and our ids, against the same raw baseline. */
  bullmqDedupRatio?: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * Each mode: an untimed warm-up of both sides (so neither pays the JIT), then ABBA quads
 * (raw, ours, ours, raw): drift on a shared machine hits both sides of a quad alike. The
 * ratio is the median of the quads' ratios.
 */
export async function enqueueRates(redisUrl: string, singleN: number, bulkN: number, quads = 9): Promise<Record<Mode, EnqueueFigure>> {
  const out = {} as Record<Mode, EnqueueFigure>;
  for (const mode of ['single', 'singleKeyed', 'bulk', 'bulkKeyed'] as const) {
    const n = mode.startsWith('bulk') ? bulkN : singleN;
    await raw(redisUrl, mode, Math.min(n, 1000));
    await ours(redisUrl, mode, Math.min(n, 1000));
    const rawRates: number[] = [];
    const ourRates: number[] = [];
    const quadRatios: number[] = [];
    for (let q = 0; q < quads; q++) {
      const r1 = await raw(redisUrl, mode, n);
      const o1 = await ours(redisUrl, mode, n);
      const o2 = await ours(redisUrl, mode, n);
      const r2 = await raw(redisUrl, mode, n);
      rawRates.push(r1, r2);
      ourRates.push(o1, o2);
      quadRatios.push(round((o1 + o2) / (r1 + r2), 2));
    }
    out[mode] = { jobs: n, quads, clientPerS: round(median(ourRates)), rawPerS: round(median(rawRates)), ratio: median(quadRatios), quadRatios };
    note(`enqueue ${mode}: client ${out[mode].clientPerS} raw ${out[mode].rawPerS} jobs/s; quads ${quadRatios.join(' ')} -> ${out[mode].ratio}x`);
    if (mode.endsWith('Keyed')) {
      const dedupQuads: number[] = [];
      for (let q = 0; q < quads; q++) {
        const r1 = await raw(redisUrl, mode, n);
        const d = (await raw(redisUrl, mode, n, true)) + (await raw(redisUrl, mode, n, true));
        dedupQuads.push(round(d / (r1 + (await raw(redisUrl, mode, n))), 2));
      }
      out[mode].bullmqDedupRatio = median(dedupQuads);
      note(`enqueue ${mode}: raw BullMQ with deduplication, quads ${dedupQuads.join(' ')} -> ${out[mode].bullmqDedupRatio}x`);
    }
  }
  return out;
}
