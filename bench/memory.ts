/**
 * Worker RSS under load, in spawned processes: ours (`npm run worker -- sms`, node with the
 * tsx loader) beside a bare BullMQ worker process (bench/raw-worker.ts, same loader), each
 * draining the same prefilled jobs. RSS is read from /proc/<pid>/status (VmRSS, what
 * process.memoryUsage().rss reports inside the process).
 */
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { WorkerProcess } from '../test/support/spawn.js';
import { payloadFor } from './throughput.js';
import { mib, note, rawRedis, round, rssOf, sleep, until, type Fakes } from './util.js';

export interface RssCase {
  jobs: number;
  concurrency: number;
  providerLatencyMs: number;
}

async function measureProcess(redisUrl: string, fakes: Fakes, c: RssCase, entry: string | undefined) {
  await fakes.reset();
  await fakes.latency(c.providerLatencyMs);
  const prefix = `bm-${randomUUID().slice(0, 8)}`;
  const env = {
    NODE_ENV: 'production',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'info',
    SMS_CONCURRENCY: String(c.concurrency),
    SMS_RATE_LIMIT: 'off',
    ...fakes.env(),
  };
  const proc = entry ? new WorkerProcess([], env, entry) : new WorkerProcess(['sms'], env);
  try {
    await proc.started();
    await sleep(1000);
    const pid = proc.proc.pid!;
    const idle = await rssOf(pid);
    const connection = rawRedis(redisUrl);
    const q = new Queue('sms', { connection, prefix });
    let peak = idle;
    const t0 = performance.now();
    for (let i = 0; i < c.jobs; i += 1000)
      await q.addBulk(Array.from({ length: Math.min(1000, c.jobs - i) }, (_, k) => ({ name: 'send', data: payloadFor('sms', i + k) })));
    await until(
      async () => {
        peak = Math.max(peak, await rssOf(pid));
        return (await fakes.count()) >= c.jobs;
      },
      300_000,
      `${c.jobs} deliveries by the spawned worker`,
      100,
    );
    const seconds = (performance.now() - t0) / 1000;
    await sleep(1000);
    const after = await rssOf(pid);
    await q.close();
    connection.disconnect();
    // The worker's own output is kept by WorkerProcess in this process, not in the worker.
    proc.output.length = 0;
    return { idleRssMiB: mib(idle), peakRssMiB: mib(peak), afterRssMiB: mib(after), jobsPerS: round(c.jobs / seconds) };
  } finally {
    await proc.kill('SIGTERM');
  }
}

export async function spawnedWorkerRss(redisUrl: string, fakes: Fakes, c: RssCase) {
  const raw = await measureProcess(redisUrl, fakes, c, 'bench/raw-worker.ts');
  const ours = await measureProcess(redisUrl, fakes, c, undefined);
  const result = {
    ...c,
    process: 'spawned: node --import tsx workers/cli.ts sms (ours), node --import tsx bench/raw-worker.ts (raw)',
    ours,
    raw,
  };
  note(
    `spawned sms worker RSS idle/peak/after: ours ${ours.idleRssMiB}/${ours.peakRssMiB}/${ours.afterRssMiB} MiB, raw ${raw.idleRssMiB}/${raw.peakRssMiB}/${raw.afterRssMiB} MiB (${ours.jobsPerS} vs ${raw.jobsPerS} jobs/s incl. enqueue)`,
  );
  return result;
}
