/**
 * Enqueue rate of the producer client beside raw BullMQ: one `sendSms` at a time against
 * `Queue.add`, and `sendBulk` against `Queue.addBulk` (chunks of BULK_CHUNK). The client's
 * extra work is validation (zod); with idempotency keys, a read of the deduplication key sent
 * beside the add (one round trip), against `Queue.add` with a `jobId`.
 */
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { NotificationClient } from '../src/producer/client.js';
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

async function raw(redisUrl: string, mode: Mode, n: number): Promise<number> {
  const connection = rawRedis(redisUrl);
  const q = new Queue('sms', { connection, prefix: `bq-${randomUUID().slice(0, 8)}` });
  await q.waitUntilReady();
  const run = randomUUID().slice(0, 8);
  const opts = (i: number) => (mode.endsWith('Keyed') ? { ...OPTS, jobId: `k-${run}-${i}` } : OPTS);
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
  clientPerS: number;
  rawPerS: number;
  ratio: number;
}

/** Each mode: raw, ours, ours, raw; rates are the mean of the two runs of each. */
export async function enqueueRates(redisUrl: string, singleN: number, bulkN: number): Promise<Record<Mode, EnqueueFigure>> {
  const out = {} as Record<Mode, EnqueueFigure>;
  for (const mode of ['single', 'singleKeyed', 'bulk', 'bulkKeyed'] as const) {
    const n = mode.startsWith('bulk') ? bulkN : singleN;
    await ours(redisUrl, mode, Math.min(n, 500)); // warm-up
    const r1 = await raw(redisUrl, mode, n);
    const o1 = await ours(redisUrl, mode, n);
    const o2 = await ours(redisUrl, mode, n);
    const r2 = await raw(redisUrl, mode, n);
    const rawPerS = round((r1 + r2) / 2);
    const clientPerS = round((o1 + o2) / 2);
    out[mode] = { jobs: n, clientPerS, rawPerS, ratio: round(clientPerS / rawPerS, 2) };
    note(`enqueue ${mode}: client ${o1}/${o2} raw ${r1}/${r2} jobs/s -> ${out[mode].ratio}x`);
  }
  return out;
}
