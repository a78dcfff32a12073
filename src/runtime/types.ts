import type { Job, Queue } from 'bullmq';
import type { Config } from '../config.js';
import type { DeliveryChange, JobOutcome, JobResult } from '../contract/outcome.js';
import type { QueueName } from '../contract/queues.js';
import type { Logger } from '../logger.js';
import type { Providers } from '../providers/index.js';
import type { RedisClient } from '../redis.js';

/*
 * Glossary (the words the code uses, one per concept):
 * - job: one BullMQ job: a queue, a job name (`send`, `booked`, `J-1`) and a payload.
 * - queue: one of the contract's queues (`email`, `sms`, ... `webhook`).
 * - payload: a job's data, validated by its schema in src/contract/schemas.ts.
 * - processor: a plain async function of (payload, deps) that does a job's work.
 * - handler: what the runtime runs for one queue (QueueHandler): checks the job name,
 *   parses the payload, calls a processor.
 * - feature: a folder that owns some queues end to end (messages, meetings, appointments,
 *   webhooks) and plugs in through one Feature: its handlers and its outcome listeners.
 * - outcome: how one attempt of a job ended (JobOutcome), told to every outcome listener.
 * - delivery key: the key a provider deduplicates a send on (Resend's Idempotency-Key),
 *   stable across every attempt of one job and distinct from a later job reusing its id.
 * - idempotency key: the caller's key on enqueue (README "Idempotency"); it is not a
 *   delivery key.
 */

export type { DeliveryChange, JobOutcome, JobResult };

export interface QueueHandler {
  queue: QueueName;
  /** Vendor name for the log line, e.g. "resend"; may depend on the job. */
  provider(job: Job): string;
  /**
   * True for providers without a delivery key of their own (Twilio, SendGrid): a delivery
   * marker written on success and checked before sending keeps a re-run (stalled job, retry
   * after a late error, manual retry) from sending twice. The marker is the job's own
   * `progress` (`{delivered: result}`): BullMQ hands it back with the job on every fetch, so
   * checking it costs no round trip, and it lives exactly as long as the job, whatever its
   * attempt counters say (a retry that resets them keeps it).
   */
  deliverOnce?: (job: Job) => boolean;
  /** The recipient, for a masked log field. */
  recipient?(job: Job): string | string[] | undefined;
  run(job: Job, ctx: JobContext): Promise<JobResult>;
}

export interface JobContext {
  /** The delivery key of this job (see the glossary). */
  deliveryKey: string;
  attempt: number;
  logger: Logger;
}

export type OutcomeListener = (o: JobOutcome, job: Job) => void | Promise<void>;

/** A message's delivery status moved (README "Delivery status"); told once per move. */
export type DeliveryListener = (change: DeliveryChange) => void | Promise<void>;

/** Everything a process shares between its workers: one Redis client, one set of providers. */
export interface ServiceContext {
  config: Config;
  logger: Logger;
  connection: RedisClient;
  queue(name: QueueName): Queue;
  providers: Providers;
  /** Tells every feature's delivery listeners of a status move; resolves when all are done. */
  tellDelivery(change: DeliveryChange): Promise<void>;
}

/** A feature plugs into the runtime through this, and nothing else. */
export interface Feature {
  name: string;
  /** Its queues' handlers; called once per process that runs workers. */
  handlers(ctx: ServiceContext): QueueHandler[];
  /** Outcome listeners it needs in every worker process, whichever queues run there. */
  listeners?(ctx: ServiceContext): OutcomeListener[];
  /** Delivery listeners (fallback, outbound events), in every process that applies delivery events. */
  deliveryListeners?(ctx: ServiceContext): DeliveryListener[];
}
