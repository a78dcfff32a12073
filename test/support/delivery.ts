import type { Env } from '../../src/config.js';
import type { QueueName } from '../../src/contract/queues.js';
import { getDelivery } from '../../src/delivery/status-store.js';
import { buildApp } from '../../src/server/app.js';
import { ServiceMetrics } from '../../src/server/metrics.js';
import { uniquePrefix } from './config.js';
import { startHarness, until } from './harness.js';
import { freePort } from './redis.js';
import { TOKEN } from './server.js';

/**
 * The whole delivery loop in this process: real workers on `queues` and the real HTTP
 * server listening on a free port that PUBLIC_URL names (with a trailing '/', which the
 * service ignores), both on one unique prefix of the run's Redis.
 */
export async function startDeliveryStack(env: Env, queues: readonly QueueName[]) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const h = await startHarness({ QUEUE_PREFIX: uniquePrefix('dlv'), PUBLIC_URL: `${url}/`, API_TOKENS: TOKEN, ...env }, queues);
  const metrics = new ServiceMetrics({ queue: (n) => h.client.queue(n), connection: h.client.connection, stuckAfterMs: 3_600_000 });
  const app = await buildApp(h.config, { client: h.client, metrics });
  await app.listen({ port, host: '127.0.0.1' });
  const db = { connection: h.client.connection, redis: h.config.redis };
  return {
    ...h,
    app,
    url,
    db,
    delivery: (queue: string, jobId: string) => getDelivery(db, queue, jobId),
    /** Waits until the job's delivery status is `status`. */
    untilStatus: (queue: string, jobId: string, status: string, timeoutMs = 10_000) =>
      until(async () => {
        const d = await getDelivery(db, queue, jobId);
        return d?.status === status ? d : undefined;
      }, timeoutMs, `${queue} job ${jobId} to be ${status}`),
    async close() {
      await app.close();
      await h.close();
    },
  };
}
