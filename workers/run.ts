import { ConfigError, loadConfig } from '../src/config.js';
import { QUEUES, isQueueName, type QueueName } from '../src/contract/queues.js';
import { createService, exitOnSignals, logIntegrations, startWorkers } from '../src/service.js';

/** Shared by every worker entry point: `all` or queue names. */
export function parseQueues(args: readonly string[]): QueueName[] {
  if (args.length === 0 || args.includes('all')) return [...QUEUES];
  const unknown = args.filter((a) => !isQueueName(a));
  if (unknown.length) throw new ConfigError(`unknown queue(s): ${unknown.join(', ')}; expected ${QUEUES.join(', ')} or all`);
  return args as QueueName[];
}

export function loadConfigOrExit() {
  try {
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
