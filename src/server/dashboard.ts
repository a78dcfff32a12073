import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import basicAuth from '@fastify/basic-auth';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { RedisClient } from '../redis.js';
import { safeEqual } from './auth.js';
import { pingRedis } from './ping.js';

export const DASHBOARD_PATH = '/admin/queues';

type DashboardConfig = NonNullable<Config['http']['dashboard']>;

/**
 * Bull Board for every queue, behind basic auth, in a plugin scope of its own so the auth
 * hook covers the board's pages, assets and API and nothing else. Read-only mode hides and
 * refuses retry/remove/clean. Not mounted at all without credentials (the caller checks).
 */
export async function mountDashboard(
  app: FastifyInstance,
  dashboard: DashboardConfig,
  queues: readonly Queue[],
  /** The queues' connection: the board's API waits on it forever when Redis never came up. */
  connection: RedisClient,
): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: dashboard.readOnly })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Notifications' } },
  });
  await app.register(async (scope) => {
    await scope.register(basicAuth, {
      authenticate: { realm: 'notification dashboard' },
      // Both halves are always compared, so the answer time says nothing about which was wrong.
      validate: async (user, password) => {
        const ok = Number(safeEqual(user, dashboard.user)) & Number(safeEqual(password, dashboard.password));
        if (!ok) return new Error('unauthorized');
      },
    });
    // Answer a refusal here, in our JSON shape: an error thrown from the hook would reach the
    // board's own error handler, which words every failure as an internal error.
    const check = scope.basicAuth as (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void;
    scope.addHook('onRequest', (req, reply, done) =>
      check(req, reply, (err) => (err ? void reply.code(401).send({ error: 'unauthorized' }) : done())),
    );
    // A quick 503 instead of a request that hangs until Redis returns.
    scope.addHook('preHandler', async (req, reply) => {
      if (!req.url.startsWith(`${DASHBOARD_PATH}/api/`)) return;
      try {
        await pingRedis(connection, 2_000);
      } catch {
        return reply.code(503).header('retry-after', '5').send({ error: 'redis_unavailable', message: 'Redis is not reachable' });
      }
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
  });
}
