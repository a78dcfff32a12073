import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DUE_WAKER_POLL_MS, startDueWaker, type DueWaker } from '../src/runtime/due-waker.js';
import { until } from './support/harness.js';
import { PrivateRedis } from './support/redis.js';

/**
 * Redis at hz 1 checks blocked clients' timeouts once a second, so a delayed job on an idle
 * worker starts up to 1 s late unless something wakes the worker at its due time.
 */
describe('due waker', () => {
  let redis: PrivateRedis;
  let conn: Redis;
  beforeAll(async () => {
    redis = await PrivateRedis.start({ args: ['--hz', '1'] });
    conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    conn.disconnect();
    await redis.stop();
  });

  let n = 0;
  async function setup(withWaker: boolean, pollMs = DUE_WAKER_POLL_MS) {
    const prefix = `waker${++n}`;
    const queue = new Queue('reminder', { connection: conn, prefix });
    const started = new Map<string, number>();
    const worker = new Worker(
      'reminder',
      async (job: Job) => {
        started.set(job.id!, job.processedOn!);
      },
      { connection: conn, prefix, concurrency: 5 },
    );
    await worker.waitUntilReady();
    const errors: Error[] = [];
    const waker: DueWaker | undefined = withWaker ? startDueWaker(queue, conn, (e) => errors.push(e), pollMs) : undefined;
    return {
      queue,
      started,
      errors,
      async close() {
        waker?.stop();
        await worker.close();
        await queue.close();
      },
    };
  }

  /** Six jobs due 300 ms apart, the first a poll interval ahead; returns how late each started. */
  async function lateness(withWaker: boolean) {
    const s = await setup(withWaker);
    try {
      // Let the worker settle into its blocking wait first.
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      const due = new Map<string, number>();
      for (let i = 1; i <= 6; i++) {
        const job = await s.queue.add('H-1', { i }, { delay: t0 + DUE_WAKER_POLL_MS + i * 300 - Date.now() });
        due.set(job.id!, job.timestamp + job.delay);
      }
      await until(() => s.started.size === 6, 10_000, 'six delayed jobs');
      expect(s.errors).toEqual([]);
      return [...due].map(([id, at]) => s.started.get(id)! - at);
    } finally {
      await s.close();
    }
  }

  it('starts delayed jobs at their due time, never before, whatever Redis hz is', async () => {
    const late = await lateness(true);
    console.log(`hz 1 with the waker: lateness ${late.join(', ')} ms`);
    for (const l of late) {
      expect(l).toBeGreaterThanOrEqual(0);
      expect(l).toBeLessThan(150);
    }
  });

  it('without it, the same jobs wait for Redis (the control that shows the test can fail)', async () => {
    const late = await lateness(false);
    console.log(`hz 1 without the waker: lateness ${late.join(', ')} ms`);
    expect(Math.max(...late)).toBeGreaterThan(150);
  });

  it('a job moved later after its wake was armed starts at its new time, not the old one', async () => {
    const s = await setup(true, 50);
    try {
      const job = await s.queue.add('J-1', {}, { delay: 400 });
      // A poll has seen it and armed a wake for the old time.
      await new Promise((r) => setTimeout(r, 150));
      const movedAt = Date.now();
      await job.changeDelay(1200);
      await until(() => s.started.has(job.id!), 10_000, 'the moved job');
      expect(s.started.get(job.id!)!).toBeGreaterThanOrEqual(movedAt + 1200);
      expect(s.errors).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('an overdue backlog gets one wake, not one per due time', async () => {
    const prefix = `waker${++n}`;
    const queue = new Queue('reminder', { connection: conn, prefix });
    try {
      const now = Date.now();
      // 500 jobs that fell due over the last 500 ms, no worker running.
      await queue.addBulk(Array.from({ length: 500 }, (_, i) => ({ name: 'H-1', data: { i }, opts: { delay: 1 + i } })));
      await new Promise((r) => setTimeout(r, Math.max(0, now + 520 - Date.now())));
      const zadds = async () => Number(/cmdstat_zadd:calls=(\d+)/.exec(await conn.info('commandstats'))?.[1] ?? 0);
      const before = await zadds();
      const errors: Error[] = [];
      const waker = startDueWaker(queue, conn, (e) => errors.push(e), 200);
      await new Promise((r) => setTimeout(r, 1000));
      waker.stop();
      expect(errors).toEqual([]);
      expect((await zadds()) - before).toBe(1);
    } finally {
      await queue.close();
    }
  });
});
