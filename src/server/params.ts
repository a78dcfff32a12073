import { BULLMQ_KEY_NAMES, isSafeJobId } from '../contract/job-ids.js';

/** The ids BullMQ numbers itself (jobs added without an id): 1, 2, 3... */
const NUMBERED = /^[1-9]\d{0,15}$/;
const RESERVED = new Set<string>(BULLMQ_KEY_NAMES);

/**
 * What a job id from a URL can be, decided before Redis is read (README "HTTP API"): a job
 * id names the key `<queue>:<id>`, so `meta` or `a:events` would read, or on the dashboard
 * even remove, one of the queue's own keys.
 */
export function classifyJobId(id: string): 'ok' | 'reserved' | 'malformed' {
  if (RESERVED.has(id)) return 'reserved';
  return NUMBERED.test(id) || isSafeJobId(id) ? 'ok' : 'malformed';
}

export const JOB_ID_RULE = '1-255 printable ASCII characters without ":", or a positive number';
