/**
 * The contract's failure codes (README "Failures"). A job's `failedReason` starts with one.
 * Only provider adapters create these from vendor errors; the worker runtime maps
 * their `kind` to BullMQ's behaviour (fail now, retry with backoff, or wait).
 */
export const ERROR_CODES = [
  'INVALID_PAYLOAD',
  'INVALID_RECIPIENT',
  'RECIPIENT_OPTED_OUT',
  'RECIPIENT_SUPPRESSED',
  'PROVIDER_REJECTED',
  'PROVIDER_AUTH',
  'PROVIDER_UNAVAILABLE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** permanent: fail after this attempt; transient: retry with backoff; rate_limited: wait, attempt not consumed. */
export type ErrorKind = 'permanent' | 'transient' | 'rate_limited';

export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly kind: ErrorKind,
    /** For rate_limited: how long the provider asked us to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(`${code}: ${message}`);
  }
}

export const permanent = (code: Exclude<ErrorCode, 'PROVIDER_UNAVAILABLE'>, message: string) =>
  new ProviderError(code, message, 'permanent');
export const transient = (message: string) => new ProviderError('PROVIDER_UNAVAILABLE', message, 'transient');
export const rateLimited = (message: string, retryAfterMs?: number) =>
  new ProviderError('PROVIDER_UNAVAILABLE', `rate limited: ${message}`, 'rate_limited', retryAfterMs);

/** Maps a plain HTTP status to the contract's codes; adapters refine with vendor codes first. */
export function fromHttpStatus(status: number | null | undefined, message: string, retryAfterMs?: number): ProviderError {
  if (status === 429) return rateLimited(message, retryAfterMs);
  if (status === 401 || status === 403) return permanent('PROVIDER_AUTH', message);
  if (status === 408) return transient(message);
  if (typeof status === 'number' && status >= 400 && status < 500) return permanent('PROVIDER_REJECTED', message);
  return transient(message);
}

/** Parses Retry-After: delta-seconds or an HTTP/ISO date. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value == null || value === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Thrown by the worker runtime for a payload that does not match its schema. */
export class InvalidPayloadError extends Error {
  override name = 'InvalidPayloadError';
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`INVALID_PAYLOAD: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
  }
}
