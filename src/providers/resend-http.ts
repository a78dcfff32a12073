import { Resend, type ErrorResponse } from 'resend';
import { request, type Dispatcher } from 'undici';
import { providerAgent } from './network.js';

/** The SDK's answer shape (not exported by name). */
type SdkResponse<T> = ({ data: T; error: null } | { data: null; error: ErrorResponse }) & { headers: Record<string, string> | null };

interface SdkRequest {
  method?: string;
  body?: unknown;
  headers?: Headers | Record<string, string>;
}

export interface ResendHttpOptions {
  baseUrl: string;
  userAgent: string;
  timeoutMs: number;
}

/**
 * The Resend SDK on undici's `request` instead of the global fetch: the SDK still maps
 * the payload, sets the key, User-Agent and Idempotency-Key headers and serialises the
 * body; only `fetchRequest`, its one transport method, is replaced, and it answers the
 * SDK's own `{data, error, headers}` exactly as the SDK does.
 * Why: fetch's WHATWG machinery (Request/Response objects, web streams) was the largest
 * cost of an email over a bare worker, some 100 µs of CPU per message on the bench
 * machine (the same change on Twilio's pluggable client took SMS past the bare worker).
 * Timeouts become the pool's own (no timer or AbortSignal per request), and a request
 * that times out is aborted rather than left to finish in the background. Redirects are
 * not followed (the API does not redirect).
 * Anything else (FormData bodies, a future SDK's new options) goes through the SDK's own
 * fetch: the override only takes the requests it fully understands.
 */
export class ResendOverUndici extends Resend {
  private readonly agent: Dispatcher;
  private readonly timeoutMs: number;

  constructor(apiKey: string, opts: ResendHttpOptions) {
    super(apiKey, { baseUrl: opts.baseUrl, userAgent: opts.userAgent });
    this.agent = providerAgent();
    this.timeoutMs = opts.timeoutMs;
  }

  override async fetchRequest<T>(path: string, options: object = {}): Promise<SdkResponse<T>> {
    const { method = 'GET', body, headers, ...rest } = options as SdkRequest & Record<string, unknown>;
    const understood = Object.keys(rest).every((k) => k === 'idempotencyKey');
    if (!understood || (body !== undefined && typeof body !== 'string') || path.includes('/.'))
      return super.fetchRequest<T>(path, options) as Promise<SdkResponse<T>>;

    let status: number;
    let text: string;
    let flat: Record<string, string>;
    try {
      const res = await request(this.baseUrl + path, {
        method: method as Dispatcher.HttpMethod,
        headers: headers instanceof Headers ? headers.entries() : headers,
        body,
        dispatcher: this.agent,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      status = res.statusCode;
      text = await res.body.text();
      flat = flatten(res.headers);
    } catch (err) {
      return unanswered(reason(err, this.timeoutMs));
    }
    if (status >= 200 && status < 300) {
      try {
        return { data: JSON.parse(text) as T, error: null, headers: flat };
      } catch {
        return unanswered('the answer is not JSON'); // as the SDK: response.json() threw
      }
    }
    return { data: null, error: errorOf(status, text), headers: flat };
  }
}

/**
 * Resend's error body, as the SDK reads it; the HTTP status fills in a missing
 * `statusCode` (a proxy's `{"message": ...}`), so the status, not a guess, decides retries.
 */
function errorOf(status: number, text: string): ErrorResponse {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // A proxy's HTML page and the like: the SDK's own answer for a body that is not JSON.
    const message = 'Internal server error. We are unable to process your request right now, please try again later.';
    return { name: 'application_error', statusCode: status, message };
  }
  const e = (typeof body === 'object' && body !== null ? body : {}) as Partial<ErrorResponse>;
  return { ...e, name: e.name ?? 'application_error', statusCode: e.statusCode ?? status, message: e.message ?? '' };
}

/** The SDK's answer for a request that got no (usable) answer: statusCode null. */
const unanswered = <T>(message: string): SdkResponse<T> => ({
  data: null,
  error: { name: 'application_error', statusCode: null, message },
  headers: null,
});

function reason(err: unknown, timeoutMs: number): string {
  const code = (err as { code?: string }).code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `no answer within ${timeoutMs} ms`;
  return `${code ?? 'network'}: ${(err as Error).message}`;
}

function flatten(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in h) {
    const v = h[k];
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
