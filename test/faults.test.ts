import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PRODUCER_JOBS } from '../src/contract/registry.js';
import { NotificationClient, RedisUnavailableError } from '../src/producer/client.js';
import { FakeTwilio } from './fakes/twilio.js';
import { testEnv } from './support/config.js';
import { FUZZ_QUEUES, FuzzGenerator, type FuzzJob, type FuzzQueue } from './support/fuzz.js';
import { startHarness, until } from './support/harness.js';
import { PrivateRedis } from './support/redis.js';
import { WorkerProcess } from './support/spawn.js';

/**
 * Proof under faults: each test runs on a redis-server of its own, with real worker
 * processes (or in-process workers) and the Twilio fake.
 */
describe('faults', () => {
  const twilio = new FakeTwilio();
  const procs: WorkerProcess[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    await twilio.start();
  });
  afterAll(async () => {
    await twilio.stop();
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
    twilio.reset();
    twilio.delivered.length = 0;
  });

  const privateRedis = async (opts: { appendonly?: boolean } = {}) => {
    const r = await PrivateRedis.start(opts);
    cleanup.push(() => r.stop());
    return r;
  };

  const envFor = (redis: PrivateRedis, extra: Record<string, string> = {}) =>
    testEnv({
      REDIS_URL: redis.url,
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_PHONE_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: twilio.url,
      LOG_LEVEL: 'info',
      SMS_RATE_LIMIT: 'off',
      ...extra,
    });

  const spawnWorker = async (env: Record<string, string | undefined>, queues = ['sms']) => {
    const p = new WorkerProcess(queues, env);
    procs.push(p);
    return p.started();
  };

  const producer = (env: Record<string, string | undefined>, extra: { connectTimeoutMs?: number } = {}) => {
    const c = new NotificationClient({ redisUrl: env.REDIS_URL, prefix: env.QUEUE_PREFIX, backoffMs: 50, ...extra });
    cleanup.push(() => c.close());
    return c;
  };

  /** Every body the fake delivered, with the time of each delivery (two or more: a duplicate). */
  const deliveriesByBody = () => {
    const m = new Map<string, number[]>();
    for (const d of twilio.delivered) m.set(d.body!, [...(m.get(d.body!) ?? []), d.at]);
    return m;
  };

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('loses nothing when worker processes are SIGKILLed again and again during a 2,000-SMS burst', async () => {
    const redis = await privateRedis();
    const CONCURRENCY = 10;
    const env = envFor(redis, { SMS_CONCURRENCY: String(CONCURRENCY), LOCK_DURATION_MS: '2000' });
    // Paced by the provider (2 processes x 10 at 100 ms: at most 200/s, 10 s for the burst),
    // not by CPU, so the four kills land mid-burst however fast the machine or the path is.
    twilio.latencyMs = 100;
    // Two processes share the queue; each kill takes out the older one and starts a new one.
    const live = await Promise.all([spawnWorker(env), spawnWorker(env)]);
    const c = producer(env);
    const N = 2000;
    const KILLS = 4;
    const enqueueing = (async () => {
      for (let i = 0; i < N; i += 50)
        await Promise.all(Array.from({ length: Math.min(50, N - i) }, (_, j) => c.sendSms({ to: '+33612345678', body: `kill ${i + j}` })));
    })();

    const kills: { at: number; deliveredAtKill: number }[] = [];
    for (let k = 1; k <= KILLS; k++) {
      // The replacement boots while the doomed process works, as a restarting pod would.
      const replacement = spawnWorker(env);
      await until(() => twilio.delivered.length >= (k * N) / (KILLS + 2), 90_000, `${(k * N) / (KILLS + 2)} deliveries`);
      const victim = live.shift()!;
      await victim.kill('SIGKILL');
      kills.push({ at: Date.now(), deliveredAtKill: twilio.delivered.length });
      live.push(await replacement);
    }
    await enqueueing;
    await until(async () => (await c.queue('sms').getJobCounts('completed')).completed! >= N, 120_000, 'all jobs completed');

    const byBody = deliveriesByBody();
    const duplicates = [...byBody.values()].reduce((n, times) => n + times.length - 1, 0);
    // A duplicate belongs to the first kill between its first and its last delivery.
    const perKill = kills.map(() => 0);
    let unattributed = 0;
    for (const times of byBody.values()) {
      if (times.length < 2) continue;
      const k = kills.findIndex((kill) => kill.at >= times[0]! && kill.at <= times[times.length - 1]!);
      if (k >= 0) perKill[k]! += times.length - 1;
      else unattributed += times.length - 1;
    }
    const counts = await c.queue('sms').getJobCounts('completed', 'failed');
    console.log(
      `SIGKILL x${KILLS} during ${N} SMS (2 processes, concurrency ${CONCURRENCY}): ` +
        `killed at ${kills.map((k) => k.deliveredAtKill).join(', ')} deliveries; ${byBody.size} distinct delivered, ` +
        `${duplicates} duplicate(s) [per kill: ${perKill.join(', ')}; unattributed: ${unattributed}], ` +
        `${counts.completed} completed, ${counts.failed} failed`,
    );
    expect(kills.every((k) => k.deliveredAtKill < N), 'every kill happened mid-burst').toBe(true);
    for (let i = 0; i < N; i++) expect(byBody.has(`kill ${i}`), `kill ${i} delivered`).toBe(true);
    expect(byBody.size).toBe(N);
    expect(counts.failed).toBe(0);
    // Only messages in flight at a kill may go out twice: at most the concurrency per kill.
    expect(duplicates).toBeLessThanOrEqual(KILLS * CONCURRENCY);
  });

  it('recovers from a Redis restart mid-burst: workers and producer reconnect by themselves, nothing lost', async () => {
    const redis = await privateRedis({ appendonly: true });
    const env = envFor(redis, { SMS_CONCURRENCY: '10', LOCK_DURATION_MS: '2000' });
    twilio.latencyMs = 5;
    const worker = await spawnWorker(env);
    const c = producer(env, { connectTimeoutMs: 500 });
    const N = 600;
    const DOWN_MS = 2_500;
    let next = 0;
    let unavailable = 0;
    const otherErrors: string[] = [];
    const enqueued = new Set<string>();
    let restart: { killedAt: number; startedAt: number } | undefined;
    let firstEnqueueAfter: number | undefined;

    // A caller as it should be written: an idempotency key per message, retried while Redis is away.
    const lane = async () => {
      for (;;) {
        const i = next++;
        if (i >= N) return;
        const deadline = Date.now() + 30_000;
        for (;;) {
          try {
            await c.sendSms({ to: '+33612345678', body: `restart ${i}` }, { idempotencyKey: `restart-${i}` });
            enqueued.add(`restart ${i}`);
            if (restart && firstEnqueueAfter === undefined) firstEnqueueAfter = Date.now();
            break;
          } catch (err) {
            if (err instanceof RedisUnavailableError) unavailable++;
            else otherErrors.push(`${(err as Error).name}: ${(err as Error).message}`);
            if (Date.now() > deadline) throw err;
            await sleep(100);
          }
        }
        await sleep(10); // a steady stream, not one burst
      }
    };
    const lanes = Promise.all(Array.from({ length: 4 }, lane));

    await until(() => twilio.delivered.length >= 150, 30_000, '150 deliveries before the restart');
    const killedAt = Date.now();
    await redis.kill();
    await sleep(DOWN_MS);
    await redis.start();
    restart = { killedAt, startedAt: Date.now() };
    const deliveredAtRestart = twilio.delivered.length;
    const firstDeliveryAfter = await until(
      () => twilio.delivered.find((d) => d.at > restart!.startedAt)?.at,
      30_000,
      'a delivery after the restart',
    );
    await lanes;
    await until(() => [...enqueued].every((b) => twilio.delivered.some((d) => d.body === b)), 60_000, 'every enqueued job delivered');
    await until(async () => (await c.queue('sms').getJobCounts('completed')).completed! >= N, 30_000, 'every job completed');

    const byBody = deliveriesByBody();
    const duplicates = [...byBody.values()].reduce((n, times) => n + times.length - 1, 0);
    const counts = await c.queue('sms').getJobCounts('completed', 'failed', 'wait', 'active', 'delayed');
    console.log(
      `Redis down ${DOWN_MS} ms after ${deliveredAtRestart} deliveries: producer got ${unavailable} RedisUnavailableError(s) (retried), ` +
        `first enqueue ${firstEnqueueAfter! - restart.startedAt} ms and first delivery ${firstDeliveryAfter - restart.startedAt} ms after Redis was back; ` +
        `${enqueued.size}/${N} enqueued, ${byBody.size} distinct delivered, ${duplicates} duplicate(s), counts ${JSON.stringify(counts)}`,
    );
    expect(otherErrors).toEqual([]);
    expect(enqueued.size).toBe(N);
    for (const b of enqueued) expect(byBody.has(b), `${b} delivered`).toBe(true);
    expect(counts.failed).toBe(0);
    // The worker process lived through it and said so in its log.
    expect(worker.proc.exitCode).toBeNull();
    expect(worker.text).toMatch(/Redis cannot be reached/);
    expect(worker.text).toMatch(/Redis is back/);
  });

  it('rides out a provider outage: every message delivered after recovery, none failed while attempts remain', async () => {
    const redis = await privateRedis();
    const OUTAGE_MS = 3_000;
    const h = await startHarness(
      { REDIS_URL: redis.url, ...twilioEnv(), SMS_CONCURRENCY: '10', JOB_ATTEMPTS: '8', JOB_BACKOFF_MS: '200' },
      ['sms'],
    );
    cleanup.push(() => h.close());
    const outageStart = Date.now();
    twilio.outage(OUTAGE_MS);
    const N = 200;
    const ids: string[] = [];
    for (let i = 0; i < N; i += 50)
      ids.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => h.client.sendSms({ to: '+33612345678', body: `outage ${i + j}` })))).map((e) => e.id));
    await until(async () => (await h.queue('sms').getJobCounts('completed')).completed! >= N, 60_000, 'all delivered after the outage');
    const doneAt = Date.now();

    const refused = twilio.requests.filter((r) => r.at < outageStart + OUTAGE_MS).length;
    const jobs = (await Promise.all(ids.map((id) => h.queue('sms').getJob(id)))) as Job[];
    const retried = jobs.filter((j) => j.attemptsMade > 1).length;
    const maxAttempts = Math.max(...jobs.map((j) => j.attemptsMade));
    const counts = await h.queue('sms').getJobCounts('completed', 'failed');
    console.log(
      `provider outage ${OUTAGE_MS} ms: ${refused} request(s) answered 503, ${retried}/${N} jobs retried (max ${maxAttempts} attempts), ` +
        `all delivered ${doneAt - outageStart - OUTAGE_MS} ms after recovery; ${counts.failed} failed`,
    );
    expect(refused).toBeGreaterThan(0);
    expect(retried).toBeGreaterThan(0);
    expect(counts.failed).toBe(0);
    expect(new Set(twilio.delivered.map((d) => d.body)).size).toBe(N);
    expect(jobs.every((j) => j.returnvalue?.status === 'sent')).toBe(true);
  });

  function twilioEnv() {
    return {
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_PHONE_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: twilio.url,
    };
  }

  it('fails thousands of random and malformed payloads cleanly, without crashing or growing', async () => {
    const redis = await privateRedis();
    // No provider configured: a payload valid by chance completes as skipped, nothing is sent.
    const env = testEnv({ REDIS_URL: redis.url, LOG_LEVEL: 'info', JOB_BACKOFF_MS: '50' });
    // A test-only preload: on SIGUSR2 the worker collects garbage and prints its memory figures.
    const probeFile = fileURLToPath(new URL('./support/memory-probe.mjs', import.meta.url));
    const worker = await spawnWorker({ ...env, NODE_OPTIONS: `--expose-gc --import=${pathToFileURL(probeFile).href}` }, [...FUZZ_QUEUES]);
    // Only queues with a handler in this build (meetings, appointments are being added).
    const started = JSON.parse(await worker.waitFor(/workers started/)) as { queues: string[] };
    const queues = FUZZ_QUEUES.filter((q) => started.queues.includes(q));
    const missing = FUZZ_QUEUES.filter((q) => !queues.includes(q));
    if (missing.length) console.log(`fuzz: no handler yet for ${missing.join(', ')}; fuzzing ${queues.join(', ')}`);
    expect(queues).toEqual(expect.arrayContaining(['email', 'sms', 'whatsapp']));

    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    cleanup.push(() => connection.quit());
    const handles = new Map<FuzzQueue, Queue>();
    const q = (name: FuzzQueue) => {
      let h = handles.get(name);
      if (!h) {
        h = new Queue(name, { connection, prefix: env.QUEUE_PREFIX });
        handles.set(name, h);
        cleanup.push(() => h!.close());
      }
      return h;
    };
    /** After a full GC in the worker: its RSS (as /proc/<pid>/status VmRSS says) and V8 heap in use, in MB. */
    const memory = async () => {
      const seen = worker.output.filter((l) => l.includes('memory probe')).length;
      worker.proc.kill('SIGUSR2');
      const line = await until(() => worker.output.filter((l) => l.includes('memory probe'))[seen], 10_000, 'the memory probe');
      const { heapUsed } = JSON.parse(line) as { heapUsed: number };
      const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${worker.proc.pid}/status`, 'utf8'))![1]) * 1024;
      return { rss: rss / 2 ** 20, heap: heapUsed / 2 ** 20 };
    };

    const SEED = 20240115;
    const ROUND = 3000; // jobs per round, spread over the queues
    const jobsById = new Map<string, FuzzJob & { id: string }>();
    const round = async (seed: number) => {
      const gen = new FuzzGenerator(seed);
      const batch = Array.from({ length: ROUND }, () => gen.job(queues));
      for (const name of queues) {
        const mine = batch.filter((j) => j.queue === name);
        for (let i = 0; i < mine.length; i += 100) {
          const slice = mine.slice(i, i + 100);
          // Raw BullMQ, as a producer in another language would write: addBulk, and add one by one.
          const added =
            i % 200 === 0
              ? await q(name).addBulk(slice.map((j) => ({ name: j.name, data: j.data, opts: j.withOptions ? { attempts: 3, backoff: 50 } : {} })))
              : await Promise.all(slice.map((j) => q(name).add(j.name, j.data, j.withOptions ? { attempts: 3, backoff: 50 } : {})));
          added.forEach((job, k) => jobsById.set(`${name}:${job.id}`, { ...slice[k]!, id: job.id! }));
        }
      }
      await until(
        async () => {
          let done = 0;
          for (const name of queues) {
            const c = await q(name).getJobCounts('completed', 'failed', 'wait', 'active', 'delayed', 'prioritized', 'waiting-children');
            if (c.wait! + c.active! + c.delayed! + c.prioritized! + c['waiting-children']! > 0) return false;
            done += c.completed! + c.failed!;
          }
          return done >= jobsById.size;
        },
        120_000,
        `fuzz round ${seed} processed`,
      );
    };

    // Round 1 warms the heap up (V8 grows it to its working size); rounds 2 and 3 must not grow it further.
    const atStart = await memory();
    await round(SEED);
    const warm = await memory();
    await round(SEED + 1);
    const afterSecond = await memory();
    await round(SEED + 2);
    const afterThird = await memory();

    const outcomes = { invalid: 0, skipped: 0, completedOther: 0, derived: 0 };
    const unexpected: string[] = [];
    for (const name of queues) {
      const finished = [
        ...(await q(name).getJobs(['failed'], 0, -1)).map((job) => ({ job, state: 'failed' })),
        ...(await q(name).getJobs(['completed'], 0, -1)).map((job) => ({ job, state: 'completed' })),
      ];
      for (const { job, state } of finished) {
        const spec = jobsById.get(`${name}:${job.id}`);
        const show = () => `${name}/${JSON.stringify(job.name)} #${job.id} (${state}, attemptsMade ${job.attemptsMade}): ${job.failedReason ?? JSON.stringify(job.returnvalue)}`;
        if (!spec) {
          // Follow-up jobs of a booking valid by chance (confirmation, meeting): skipped, nothing configured.
          if (String(job.id).startsWith('apt-') && state === 'completed') outcomes.derived++;
          else unexpected.push(`unknown job ${show()}`);
        }
        else if (state === 'failed') {
          if (!job.failedReason.startsWith('INVALID_PAYLOAD') || job.attemptsMade !== 1) unexpected.push(show());
          else outcomes.invalid++;
        } else {
          // Completed: the payload really was valid for its job name, and nothing was sent.
          const schema = (PRODUCER_JOBS[name] as Record<string, { safeParse(d: unknown): { success: boolean } }>)[spec.name];
          const valid = Object.hasOwn(PRODUCER_JOBS[name], spec.name) && schema!.safeParse(job.data).success;
          if (!valid) unexpected.push(`completed although invalid: ${show()}`);
          else if (job.returnvalue?.status === 'skipped') outcomes.skipped++;
          else if (name === 'appointment') outcomes.completedOther++; // stored and scheduled: a valid booking
          else unexpected.push(show());
        }
      }
    }

    // Still alive, and still doing its job.
    const c = producer(env);
    const probe = await c.sendSms({ to: '+33612345678', body: 'after the fuzz' });
    const probeJob = await until(async () => {
      const j = await c.queue('sms').getJob(probe.id);
      return j?.finishedOn ? j : undefined;
    }, 15_000, 'the probe job');

    const growth = afterThird.rss - afterSecond.rss;
    const heapGrowth = afterThird.heap - afterSecond.heap;
    const mb = (m: { rss: number; heap: number }) => `${m.rss.toFixed(1)} MB (heap ${m.heap.toFixed(1)})`;
    const signed = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(1)} MB`;
    console.log(
      `fuzz (seed ${SEED}, ${jobsById.size} jobs on ${queues.join('/')}): ${outcomes.invalid} INVALID_PAYLOAD, ${outcomes.skipped} skipped, ` +
        `${outcomes.completedOther} bookings completed (+${outcomes.derived} follow-up jobs, skipped), ${unexpected.length} unexpected; worker RSS after GC ${mb(atStart)} at start, ${mb(warm)} after warm-up round 1, ` +
        `${mb(afterSecond)} after round 2, ${mb(afterThird)} after round 3: RSS ${signed(growth)}, heap ${signed(heapGrowth)}`,
    );
    expect(unexpected.slice(0, 20)).toEqual([]);
    expect(outcomes.invalid + outcomes.skipped + outcomes.completedOther + outcomes.derived).toBe(jobsById.size + outcomes.derived);
    expect(outcomes.invalid).toBeGreaterThan(jobsById.size * 0.6);
    expect(worker.proc.exitCode).toBeNull();
    expect(worker.text).not.toMatch(/worker stopped|uncaught|unhandled/i);
    expect(probeJob.returnvalue).toMatchObject({ status: 'skipped' });
    // Flat: another 3,000 jobs (about 40 MB of payloads) may not grow the warmed-up process
    // by more than generous bounds; retaining the payloads would exceed both.
    expect(growth).toBeLessThan(48);
    expect(heapGrowth).toBeLessThan(16);
  });
});
