import { createLogger } from '../src/logger.js';
import { NotificationClient } from '../src/producer/client.js';
import { QUEUES } from '../src/contract/queues.js';
import { NoRedisError, startRedis } from '../src/runtime/embedded-redis.js';
import { metricsFor } from '../src/server/metrics.js';
import { startServer } from '../src/server/serve.js';
import { createService, exitOnSignals, logIntegrations, startWorkers } from '../src/service.js';
import { loadConfigOrExit } from './run.js';

// npm start: the server and a worker for every queue in one process, sharing one metrics
// registry so job counters and durations move on /metrics. Without REDIS_URL and with no
// Redis at the default address, it runs a private redis-server (README, first screen: "Redis.").
const settings = loadConfigOrExit();
const logger = createLogger(settings.logLevel, undefined, settings.logFormat);
const redis = await startRedis(settings, logger).catch((err: Error) => {
  if (err instanceof NoRedisError) logger.fatal(err.message);
  else logger.fatal({ err }, 'could not start a private redis-server');
  process.exit(1);
});
const { config } = redis;
const rt = createService(config, logger);
logIntegrations(config, logger);
// Gauges read through the server's fail-fast producer connection, not the workers' one
// (which queues commands while Redis is away).
const client = NotificationClient.fromConfig(config);
const metrics = metricsFor(config, client);
rt.listeners.push(metrics.observe);
const workers = startWorkers(rt, QUEUES);
startServer(config, logger, { client, metrics })
  .then((server) =>
    exitOnSignals(logger, async () => {
      await server.close();
      await workers.close();
      await redis.stop();
      // SIGHUP too: a closed terminal window must not leave the private redis-server running.
    }, ['SIGHUP']),
  )
  .catch((err) => {
    logger.fatal({ err }, 'server failed to start');
    process.exit(1);
  });
