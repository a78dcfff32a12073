import type { CreateEmailOptions, ErrorResponse } from 'resend';
import { parseRetryAfter, permanent, rateLimited, transient, type ProviderError } from '../contract/errors.js';
import { maskEmailsIn, scrub } from '../logger.js';
import { ResendOverUndici } from './resend-http.js';
import type { EmailProvider } from './types.js';

export interface ResendOptions {
  apiKey: string;
  baseUrl?: string;
  timeoutMs?: number;
}

const DEFAULT_BASE_URL = 'https://api.resend.com';
const DAY_MS = 86_400_000;

/** Resend via its official SDK. The SDK never throws: it answers `{data, error, headers}`. */
export function createResend(opts: ResendOptions): EmailProvider {
  // The SDK falls back to environment variables (RESEND_API_KEY, RESEND_BASE_URL, RESEND_USER_AGENT)
  // for anything not passed: pass everything so config stays the only source.
  if (!opts.apiKey) throw new Error('createResend: apiKey is required');
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const resend = new ResendOverUndici(opts.apiKey, {
    baseUrl: (opts.baseUrl || DEFAULT_BASE_URL).replace(/\/+$/, ''),
    userAgent: 'notification-worker (resend-node)',
    timeoutMs,
  });
  const clean = (m: string) => maskEmailsIn(scrub(m, [opts.apiKey]));

  return {
    name: 'resend',
    async send(message, ctx) {
      const payload = {
        from: message.from,
        to: message.to,
        subject: message.subject,
        html: message.html,
        text: message.text,
        replyTo: message.replyTo,
        tags: message.tags && Object.entries(message.tags).map(([name, value]) => ({ name, value })),
        attachments: message.attachments?.map((a) => ({
          filename: a.filename,
          content: a.content.replace(/\s+/g, ''), // the API takes one base64 line
          ...(a.contentType && { contentType: a.contentType }),
        })),
      } as CreateEmailOptions; // the schema guarantees html or text; the SDK's union cannot see it
      let res;
      try {
        // A timeout answers {error} with statusCode null, like a network failure: transient,
        // and the retry carries the same idempotency key, so Resend never sends it twice.
        res = await resend.emails.send(payload, { idempotencyKey: ctx.deliveryKey });
      } catch (err) {
        // The SDK answers {error} rather than throwing; anything thrown is an unknown outcome.
        throw transient(`resend: ${clean((err as Error).message)}`);
      }
      if (res.error) throw mapResendError(res.error, res.headers, clean);
      return { messageId: res.data.id };
    },
  };
}

export function mapResendError(
  error: ErrorResponse,
  headers: Record<string, string> | null,
  clean: (m: string) => string = (m) => m,
  now = Date.now(),
): ProviderError {
  const status = error.statusCode;
  const msg = `resend ${status ?? 'network'} ${error.name}: ${clean(error.message ?? '')}`;
  const retryAfter = () =>
    parseRetryAfter(headers?.['retry-after'], now) ??
    // IETF RateLimit draft: ratelimit-reset is seconds until the window resets.
    parseRetryAfter(headers?.['ratelimit-reset'], now);

  switch (error.name) {
    case 'daily_quota_exceeded':
      // Not a failure: sending resumes when the quota resets (UTC day) unless told otherwise.
      return rateLimited(msg, retryAfter() ?? DAY_MS - (now % DAY_MS));
    case 'rate_limit_exceeded':
    case 'monthly_quota_exceeded':
      return rateLimited(msg, retryAfter());
    case 'missing_api_key':
    case 'invalid_api_key':
    case 'restricted_api_key':
      return permanent('PROVIDER_AUTH', msg);
    // Another request with this key is still in flight; the key makes the retry safe.
    case 'concurrent_idempotent_requests':
      return transient(msg);
    case 'invalid_idempotent_request':
      return permanent('PROVIDER_REJECTED', msg);
  }
  // statusCode null: the request never got an answer (network, timeout): outcome unknown.
  if (status == null || status >= 500 || status === 408) return transient(msg);
  if (status === 429) return rateLimited(msg, retryAfter());
  if (status === 401 || status === 403) return permanent('PROVIDER_AUTH', msg);
  if (error.name === 'validation_error' && /`to`|\bto\b field|recipient/i.test(error.message ?? ''))
    return permanent('INVALID_RECIPIENT', msg);
  return permanent('PROVIDER_REJECTED', msg);
}
