import { appointments } from './appointments/feature.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { delivery } from './delivery/feature.js';
import { meetings } from './meetings/feature.js';
import { messages } from './messages/feature.js';
import { createRuntime, type Runtime } from './runtime/context.js';
import type { Feature } from './runtime/types.js';
import { webhooks } from './webhooks/feature.js';

/** The one list of features a worker process is made of (README "Layout"). */
export const FEATURES: readonly Feature[] = [messages, meetings, appointments, webhooks, delivery];

/** A worker process's runtime with every feature plugged in; `startWorkers` picks the queues. */
export function createService(config: Config, logger?: Logger, features: readonly Feature[] = FEATURES): Runtime {
  return createRuntime(config, features, logger);
}

export { exitOnSignals, logIntegrations, startWorkers, type RunningWorkers, type Runtime } from './runtime/context.js';
