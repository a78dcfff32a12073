import { NotificationClient } from '../src/producer/client.js';
import { QUEUES } from '../src/contract/queues.js';
import { ServiceMetrics } from '../src/server/metrics.js';
import { startServer } from '../src/server/serve.js';
import { createService, exitOnSignals, logIntegrations, startWorkers } from '../src/service.js';
import { loadConfigOrExit } from './run.js';

// npm start: the server and a worker for every queue in one process, sharing one metrics
// registry so job counters and durations move on /metrics.
const config = loadConfigOrExit();
const rt = createService(config);
const { ctx } = rt;
logIntegrations(config, ctx.logger);
// Gauges read through the server's fail-fast producer connection, not the workers' one
// (which queues commands while Redis is away).
const client = NotificationClient.fromConfig(config);
const metrics = new ServiceMetrics({
  queue: (q) => client.queue(q),
  connection: client.connection,
  stuckAfterMs: config.metrics.stuckAfterMs,
});
rt.listeners.push(metrics.observe);
const workers = startWorkers(rt, QUEUES);
startServer(config, ctx.logger, { client, metrics })
  .then((server) =>
    exitOnSignals(ctx.logger, async () => {
      await server.close();
      await workers.close();
    }),
  )
  .catch((err) => {
    ctx.logger.fatal({ err }, 'server failed to start');
    process.exit(1);
  });
