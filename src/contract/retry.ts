import type { JobsOptions } from 'bullmq';

/**
 * The service's retry policy: `attempts` tries, exponential backoff from `backoffMs` with
 * jitter (README "Failures"). Written into every job the producer and the workers add, and
 * given by the workers to jobs added without one (other-language producers).
 */
export function retryPolicy(attempts: number, backoffMs: number): Pick<JobsOptions, 'attempts' | 'backoff'> {
  return { attempts, backoff: { type: 'exponential', delay: backoffMs, jitter: 0.5 } };
}
