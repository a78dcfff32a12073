import type { FlowProducer, JobsOptions, Queue } from 'bullmq';
import type { Config } from '../config.js';
import { retryPolicy } from '../contract/retry.js';
import type { Logger } from '../logger.js';
import type { QueueName } from '../contract/queues.js';
import type { RedisClient } from '../redis.js';
import type { DeliveryReader } from './delivery-reader.js';
import type { MeetingStore } from '../meetings/store.js';
import type { Reminders } from './reminders.js';
import type { AppointmentStore } from './store.js';

/** What the appointment and reminder processors work with; tests pass their own clock. */
export interface AppointmentDeps {
  config: Config;
  store: AppointmentStore;
  /** The meetings module's records: the meeting an appointment has, whichever job made it. */
  meetings: Pick<MeetingStore, 'get'>;
  reminders: Reminders;
  queue(name: QueueName): Queue;
  /** Created on first use: most processes never add a flow. */
  flow(): FlowProducer;
  now(): number;
  logger: Logger;
  /** The process's Redis client, for reads in one round trip (a message's sends). */
  connection: RedisClient;
  /** Delivery statuses of sends (channel fallback reads them). */
  delivery: DeliveryReader;
}

/** A follow-up job: deterministic id, and the service's retry policy written in. */
export function followUpOptions(config: Config, jobId: string): JobsOptions {
  return { jobId, ...retryPolicy(config.jobs.attempts, config.jobs.backoffMs) };
}
