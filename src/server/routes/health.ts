import type { FastifyInstance } from 'fastify';
import type { RedisClient } from '../../redis.js';
import type { ServiceMetrics } from '../metrics.js';
import { pingRedis } from '../ping.js';

export interface OpsDeps {
  connection: RedisClient;
  metrics: ServiceMetrics;
  openapi: () => unknown;
  readyTimeoutMs?: number;
}

/** Unauthenticated operational routes: probes, Prometheus and the API description. */
export function registerOpsRoutes(app: FastifyInstance, deps: OpsDeps): void {
  // Liveness says only that the event loop answers: a Redis outage must not get the process restarted.
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    try {
      await pingRedis(deps.connection, deps.readyTimeoutMs ?? 1_000);
      return { status: 'ready' };
    } catch (err) {
      return reply.code(503).send({ status: 'unready', reason: `Redis: ${(err as Error).message}` });
    }
  });

  app.get('/metrics', async (_req, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.text()));

  app.get('/openapi.json', async () => deps.openapi());
}
