import type { Config } from '../config.js';
import { isPretty, textBlock, type Logger } from '../logger.js';
import { NotificationClient } from '../producer/client.js';
import { buildApp } from './app.js';
import { DASHBOARD_PATH } from './dashboard.js';
import type { ServiceMetrics } from './metrics.js';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Where things are, for the start-up lines a newcomer reads first. */
export function describeEndpoints(config: Config, base: string): Record<string, string> {
  const { apiTokens, dashboard } = config.http;
  return {
    api: apiTokens.length ? `${base}/v1 (${apiTokens.length} token(s); docs at ${base}/openapi.json)` : `disabled: set API_TOKENS to enable ${base}/v1`,
    dashboard: dashboard
      ? `${base}${DASHBOARD_PATH} (user "${dashboard.user}"${dashboard.readOnly ? ', read-only' : ''})`
      : `disabled: set DASHBOARD_USER and DASHBOARD_PASSWORD to mount ${base}${DASHBOARD_PATH}`,
    metrics: `${base}/metrics`,
    health: `${base}/healthz, ${base}/readyz`,
  };
}

/**
 * Builds and starts the HTTP server on its own fail-fast producer connection: when Redis is
 * away the server still listens, /readyz answers 503 and enqueueing answers 503.
 */
export async function startServer(
  config: Config,
  logger: Logger,
  /** A client (closed with the server) and metrics made by the caller, to share with workers. */
  shared: { client?: NotificationClient; metrics?: ServiceMetrics } = {},
): Promise<RunningServer> {
  const client = shared.client ?? NotificationClient.fromConfig(config);
  const metrics = shared.metrics;
  const app = await buildApp(config, { client, logger, metrics });
  await app.listen({ port: config.http.port, host: config.http.host });
  const shownHost = ['0.0.0.0', '::', ''].includes(config.http.host) ? 'localhost' : config.http.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${config.http.port}`;
  const where = describeEndpoints(config, url);
  if (isPretty(config.logFormat))
    logger.info(`listening on ${url}\n${textBlock([['API', where.api!], ['dashboard', where.dashboard!], ['metrics', where.metrics!], ['health', where.health!]])}`);
  else logger.info(where, `listening on ${url}: API ${where.api}; dashboard ${where.dashboard}; metrics ${where.metrics}`);
  return {
    url,
    close: async () => {
      await app.close();
      await client.close();
    },
  };
}
