import { ConfigError, loadConfig, loadDotEnv } from '../src/config.js';
import { QUEUES, isQueueName, type QueueName } from '../src/contract/queues.js';
import { createService, exitOnSignals, logIntegrations, startWorkers } from '../src/service.js';

/** Shared by every worker entry point: `all` or queue names. */
export function parseQueues(args: readonly string[]): QueueName[] {
  if (args.length === 0 || args.includes('all')) return [...QUEUES];
  const unknown = args.filter((a) => !isQueueName(a));
  if (unknown.length) throw new ConfigError(`unknown queue(s): ${unknown.join(', ')}; expected ${QUEUES.join(', ')} or all`);
  return args as QueueName[];
}

/**
 * The service is built for the Node 24 the project brings (npm scripts run it); a system
 * Node older than 22 (e.g. `npx tsx workers/start.ts` on Node 20) is refused here, in
 * words, rather than failing later somewhere in a dependency.
 */
export const MIN_NODE_MAJOR = 22;

export function loadConfigOrExit() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < MIN_NODE_MAJOR) {
    console.error(
      `Node ${process.versions.node} is too old: the service needs Node ${MIN_NODE_MAJOR}+; run it through npm (npm start, npm run worker), which uses the Node 24 in node_modules/.bin`,
    );
    process.exit(1);
  }
  try {
    loadDotEnv();
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

export function runWorkers(args: readonly string[]) {
  const config = loadConfigOrExit();
  let names: QueueName[];
  try {
    names = parseQueues(args);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  const rt = createService(config);
  const { ctx } = rt;
  logIntegrations(config, ctx.logger);
  const running = startWorkers(rt, names);
  exitOnSignals(ctx.logger, running.close);
  return running;
}
