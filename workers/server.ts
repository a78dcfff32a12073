import { createLogger } from '../src/logger.js';
import { startServer } from '../src/server/serve.js';
import { exitOnSignals, logIntegrations } from '../src/runtime/context.js';
import { loadConfigOrExit } from './run.js';

// npm run server: the HTTP API, dashboard, health and metrics, without workers.
const config = loadConfigOrExit();
const logger = createLogger(config.logLevel, undefined, config.logFormat);
logIntegrations(config, logger);
startServer(config, logger)
  .then((server) => exitOnSignals(logger, server.close))
  .catch((err) => {
    logger.fatal({ err }, 'server failed to start');
    process.exit(1);
  });
