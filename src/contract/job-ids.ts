import { hash } from 'node:crypto';

/**
 * The names BullMQ gives a queue's own keys (`<prefix>:<queue>:<name>`), from its QueueKeys
 * and the keys its scripts write beside them. A job id equal to one of these would make the
 * job's hash overwrite that key, which stops the queue.
 */
export const BULLMQ_KEY_NAMES = [
  'active', 'wait', 'waiting-children', 'paused', 'id', 'delayed', 'prioritized', 'stalled-check',
  'completed', 'failed', 'stalled', 'repeat', 'limiter', 'meta', 'events', 'pc', 'marker', 'de', 'dn',
  'metrics',
] as const;

const RESERVED = new Set<string>(BULLMQ_KEY_NAMES);

/** BullMQ's own rules for a custom id (no ':', not an integer) plus ours (no reserved name, printable, bounded). */
export function isSafeJobId(id: string): boolean {
  return (
    id.length >= 1 &&
    id.length <= 255 &&
    /^[\x21-\x7e]+$/.test(id) &&
    !id.includes(':') &&
    !/^-?\d+$/.test(id) &&
    !RESERVED.has(id)
  );
}

/** A caller's idempotency key: 1-255 printable ASCII characters (space included), whatever they say. */
export const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

const digest = (s: string, hex: number) => hash('sha256', s, 'hex').slice(0, hex);

/**
 * What an idempotency key gives (README "Idempotency"): the id BullMQ deduplicates on for
 * 24 h (`idem-` and a digest of the key, so the key alone never names a Redis key), and the
 * start of the job id, which adds a digest of the payload so that the same key sent with
 * another payload is told apart. The add appends a nonce (`jobIdFor`): the id BullMQ
 * answers then says whether this add made the job.
 */
export function idempotentIds(key: string, payloadJson: string): { dedupId: string; prefix: string } {
  const dedupId = `idem-${digest(key, 32)}`;
  return { dedupId, prefix: `${dedupId}-${digest(payloadJson, 12)}` };
}

let sequence = 0;
/** `<prefix>-<nonce>`: unique per add (time, process-local sequence and randomness). */
export function jobIdFor(prefix: string): string {
  sequence = (sequence + 1) % 1_679_616;
  return `${prefix}-${Date.now().toString(36)}${sequence.toString(36).padStart(4, '0')}${Math.floor(Math.random() * 1296).toString(36).padStart(2, '0')}`;
}

/** A meeting created on its own (not by an appointment): one per appointment id. */
export const meetingCreateJobId = (appointmentId: string) => `meeting-create-${appointmentId}`;
