import { appointmentsFeature } from './appointments/feature.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { delivery } from './delivery/feature.js';
import { deliveryReader } from './delivery/view.js';
import { meetings } from './meetings/feature.js';
import { appointmentInvitations } from './appointments/invitation.js';
import { messagesFeature } from './messages/feature.js';
import { createRuntime, type Runtime } from './runtime/context.js';
import type { Feature } from './runtime/types.js';
import { webhooks } from './webhooks/feature.js';

/** The one list of features a worker process is made of (README "Layout"). */
// The email worker builds appointment invitations from the appointments' store when it sends.
const messages = messagesFeature({ invitations: appointmentInvitations });
// Channel fallback reads the delivery statuses the delivery feature keeps.
const appointments = appointmentsFeature({ delivery: ({ connection, config }) => deliveryReader({ connection, redis: config.redis }) });
export const FEATURES: readonly Feature[] = [messages, meetings, appointments, webhooks, delivery];

/** A worker process's runtime with every feature plugged in; `startWorkers` picks the queues. */
export function createService(config: Config, logger?: Logger, features: readonly Feature[] = FEATURES): Runtime {
  return createRuntime(config, features, logger);
}

export { exitOnSignals, logIntegrations, startWorkers, type RunningWorkers, type Runtime } from './runtime/context.js';
