import { fromHttpStatus, parseRetryAfter, permanent, rateLimited, transient, type ProviderError } from '../contract/errors.js';
import { maskEmailsIn } from '../logger.js';

/** The parts of a GaxiosError we read (the SDK's errors for every failed call). */
interface GaxiosLike {
  status?: number;
  code?: string | number;
  message?: string;
  config?: { url?: unknown };
  response?: { status?: number; data?: any; headers?: Headers | Record<string, string> };
}

/** Calendar answers 403, not 429, when a quota is hit: those reasons mean "wait", not "denied". */
const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'dailyLimitExceeded']);


export const statusOf = (err: unknown): number | undefined => {
  const e = err as GaxiosLike;
  return e?.response?.status ?? (typeof e?.status === 'number' ? e.status : undefined);
};

function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  return (headers as Record<string, string>)[name];
}

/** True when the failed request was the OAuth token refresh, not a Calendar call. */
export function isTokenRequest(err: unknown, tokenUrl: string): boolean {
  const url = (err as GaxiosLike)?.config?.url;
  if (url === undefined) return false;
  try {
    const u = new URL(String(url));
    const t = new URL(tokenUrl);
    return u.origin === t.origin && u.pathname === t.pathname;
  } catch {
    return false;
  }
}

/**
 * The token endpoint refused a domain-wide delegation grant: the Workspace admin has not
 * authorised the service account's client id for the scope (or not for this user's domain).
 */
export function delegationRefused(err: unknown, tokenUrl: string): boolean {
  return isTokenRequest(err, tokenUrl) && (err as GaxiosLike)?.response?.data?.error === 'unauthorized_client';
}

/**
 * The token endpoint refused to act as this user because Google knows no such user (a
 * delegated grant for an address outside the Workspace domain, or one that does not exist):
 * `invalid_grant`, "Invalid email or User ID".
 */
export function unknownDelegatedUser(err: unknown, tokenUrl: string): boolean {
  const data = (err as GaxiosLike)?.response?.data;
  return isTokenRequest(err, tokenUrl) && data?.error === 'invalid_grant' && /invalid email or user id/i.test(String(data?.error_description ?? ''));
}

/** Maps the SDK's errors (token refresh or Calendar call) to the contract's codes. */
export function mapGoogleError(err: unknown, what: string, tokenUrl: string, now = Date.now()): ProviderError {
  const e = (err ?? {}) as GaxiosLike;
  const status = statusOf(err);
  const token = isTokenRequest(err, tokenUrl);
  if (status === undefined) {
    // No answer (refused, reset, timeout): outcome unknown, the queue retries.
    const reason = e.code === 'TimeoutError' || /timeout/i.test(String(e.message)) ? 'timed out' : String(e.code ?? e.message);
    return transient(`google ${token ? 'oauth' : what}: ${reason}`);
  }
  const data = e.response?.data;
  const retryAfter = parseRetryAfter(header(e.response?.headers, 'retry-after'), now);
  if (token) {
    // {error: "invalid_grant", error_description: "Token has been expired or revoked."}
    const msg = `google oauth ${status} ${data?.error ?? ''}: ${data?.error_description ?? 'token refresh failed'}`;
    if (status === 429) return rateLimited(msg, retryAfter);
    if (status >= 500 || status === 408) return transient(msg);
    return permanent('PROVIDER_AUTH', msg);
  }
  const error = data?.error as { message?: string; errors?: { reason?: string }[] } | undefined;
  const reasons = (error?.errors ?? []).map((x) => x.reason).filter((r): r is string => !!r);
  const msg = `google ${status}${reasons[0] ? `/${reasons[0]}` : ''} ${what}: ${maskEmailsIn(String(error?.message ?? e.message ?? 'no details'))}`;
  if (status === 429 || (status === 403 && reasons.some((r) => RATE_LIMIT_REASONS.has(r)))) return rateLimited(msg, retryAfter);
  return fromHttpStatus(status, msg);
}
