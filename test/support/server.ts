import type { FastifyInstance } from 'fastify';
import type { Env } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { NotificationClient } from '../../src/producer/client.js';
import { buildApp } from '../../src/server/app.js';
import type { ServiceMetrics } from '../../src/server/metrics.js';
import { testConfig } from './config.js';

export const TOKEN = 'test-token-0123456789';
export const bearer = { authorization: `Bearer ${TOKEN}` };

/** The HTTP app on the run's Redis (unique prefix), with a producer client of its own. */
export async function startApp(env: Env = {}, opts: { metrics?: ServiceMetrics; client?: NotificationClient; logger?: Logger; requestTimeoutMs?: number } = {}) {
  const config = testConfig({ API_TOKENS: TOKEN, ...env });
  const client = opts.client ?? NotificationClient.fromConfig(config);
  const app: FastifyInstance = await buildApp(config, { client, metrics: opts.metrics, logger: opts.logger, requestTimeoutMs: opts.requestTimeoutMs });
  return {
    config,
    client,
    app,
    async close() {
      await app.close();
      await client.close();
    },
  };
}
