import { InvalidPayloadError } from '../contract/errors.js';
import { IDEMPOTENCY_KEY, idempotentIds } from '../contract/job-ids.js';
import { stableJson } from '../contract/stable-json.js';
import type { AddOptions } from './types.js';

/** How long a key keeps answering the first job (README "Idempotency"). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

export function validateIdempotencyKey(k: unknown, path = 'idempotencyKey'): asserts k is string {
  if (typeof k !== 'string' || !IDEMPOTENCY_KEY.test(k))
    throw new InvalidPayloadError([{ path, message: 'must be 1-255 printable ASCII characters' }]);
}

/** The dedup a caller's key gives a (job name, validated payload). */
export function dedupFor(key: string, name: string, payload: unknown): NonNullable<AddOptions['dedup']> {
  const { dedupId, prefix } = idempotentIds(key, `${name}\n${stableJson(payload)}`);
  return { id: dedupId, prefix };
}
