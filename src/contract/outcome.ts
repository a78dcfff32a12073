import type { ErrorCode } from './errors.js';
import type { QueueName } from './queues.js';
import type { MessageRef } from './schemas.js';

/** What a handler's job returns; `status` is `sent`, `created`, `skipped`, ... (README "Queues and payloads"). */
export interface JobResult {
  status: string;
}

/** How one attempt of a job ended, as logs, metrics and webhooks see it. */
export type Outcome = 'completed' | 'skipped' | 'replayed' | 'retrying' | 'rate_limited' | 'failed';

/** Normalised delivery statuses (README "Delivery status"). */
export const DELIVERY_STATUSES = ['sent', 'delayed', 'delivered', 'read', 'undelivered', 'failed', 'bounced', 'complained'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A message job's delivery status as the provider events left it (README "Delivery status"). */
export interface DeliveryView {
  status: DeliveryStatus;
  /** ISO 8601 of the current status. */
  at: string;
  errorCode?: string;
  history: { status: DeliveryStatus; at: string }[];
}

/** A message job's delivery status moved forward. */
export interface DeliveryChange {
  queue: 'email' | 'sms' | 'whatsapp';
  jobId: string;
  provider: string;
  messageId: string;
  status: DeliveryStatus;
  errorCode?: string;
  /** What an appointment message is for, when the appointments feature sent it. */
  ref?: MessageRef;
  /** ISO 8601. */
  at: string;
}

/** One attempt's outcome, handed to every outcome listener (metrics, webhooks). */
export interface JobOutcome {
  queue: QueueName;
  name: string;
  jobId: string;
  provider: string;
  attempt: number;
  durationMs: number;
  /** When the job was added: for end-to-end latency. */
  enqueuedAt: number;
  outcome: Outcome;
  code?: ErrorCode;
  result?: JobResult;
  failedReason?: string;
}
