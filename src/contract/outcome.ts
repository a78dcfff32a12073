import type { ErrorCode } from './errors.js';
import type { QueueName } from './queues.js';

/** What a handler's job returns; `status` is `sent`, `created`, `skipped`, ... (README "Queues and payloads"). */
export interface JobResult {
  status: string;
}

/** How one attempt of a job ended, as logs, metrics and webhooks see it. */
export type Outcome = 'completed' | 'skipped' | 'replayed' | 'retrying' | 'rate_limited' | 'failed';

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
