import type { Job } from 'bullmq';
import { loadConfig, type Env } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { NotificationClient } from '../../src/producer/client.js';
import type { QueueName } from '../../src/contract/queues.js';
import { createService, startWorkers } from '../../src/service.js';
import { testEnv } from './config.js';

/** Real BullMQ workers in this process, on the run's Redis, with a producer client beside them. */
export async function startHarness(env: Env, queues: readonly QueueName[]) {
  const config = loadConfig(testEnv(env));
  const rt = createService(config, createLogger('silent'));
  const running = startWorkers(rt, queues);
  const client = NotificationClient.fromConfig(config);
  return {
    config,
    ctx: rt.ctx,
    rt,
    running,
    client,
    queue: (name: QueueName) => client.queue(name),
    async close() {
      await running.close();
      await client.close();
    },
  };
}

export async function until<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until the job is completed or failed, and returns it fresh from Redis. */
export async function finished(h: { queue(name: QueueName): { getJob(id: string): Promise<Job | undefined> } }, queue: QueueName, id: string, timeoutMs = 15_000): Promise<Job> {
  return until(
    async () => {
      const job = await h.queue(queue).getJob(id);
      if (!job) return undefined;
      const state = await job.getState();
      // Re-read: the job object above may predate the state change.
      return state === 'completed' || state === 'failed' ? h.queue(queue).getJob(id) : undefined;
    },
    timeoutMs,
    `${queue} job ${id} to finish`,
  );
}
