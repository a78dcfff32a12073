import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { request, type Dispatcher } from 'undici';
import { parseRetryAfter } from '../contract/errors.js';
import { providerAgent } from './network.js';

type TwilioRequest = RequestClient.RequestOptions<unknown>;
interface TwilioResponse {
  statusCode: number;
  body: string;
  headers: Record<string, string>;
}

/**
 * A 429 from Twilio, thrown by the HTTP client itself: the SDK's RestException keeps no
 * response headers, and the queue needs Retry-After to know how long to pause.
 */
export class TwilioRateLimited extends Error {
  readonly status = 429;
  constructor(
    message: string,
    readonly code: number | undefined,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

/**
 * The Twilio SDK's pluggable HTTP client (its `httpClient` option) on undici's `request`
 * instead of the bundled axios: the SDK still builds every request and parses every answer.
 * Why: per message, axios cost some 190 µs of CPU on the bench machine, fetch some 60 µs,
 * undici's `request` (no WHATWG streams or Request/Response objects) less again; timeouts
 * are the pool's own (no AbortController and timer per request); connections are kept
 * alive for plain-http base URLs too.
 * It also sends each request where `baseUrl` says (regional endpoint, egress proxy, test
 * fake) and never retries on its own: a 429 goes back to the queue, which pauses. Redirects
 * are not followed (the Messages API does not redirect).
 */
export class TwilioHttpClient {
  private readonly agent: Dispatcher;

  constructor(
    private readonly baseUrl: string | undefined,
    private readonly timeoutMs = 30_000,
  ) {
    this.agent = providerAgent();
  }

  async request(opts: TwilioRequest): Promise<TwilioResponse> {
    if (!opts.method) throw new Error('http method is required');
    if (!opts.uri) throw new Error('uri is required');
    const url = this.target(opts.uri, opts.params);
    const headers: Record<string, string> = { ...(opts.headers as Record<string, string> | undefined) };
    if (opts.username && opts.password)
      headers.Authorization = 'Basic ' + Buffer.from(`${opts.username}:${opts.password}`).toString('base64');
    else if (opts.authStrategy) headers.Authorization = await opts.authStrategy.getAuthString();

    let body: string | undefined;
    if (opts.data) {
      const type = headers['Content-Type'];
      if (type === 'application/json') body = JSON.stringify(opts.data);
      else if (type === 'application/x-www-form-urlencoded') body = form(opts.data as Record<string, unknown>).toString();
    }

    const timeout = opts.timeout ?? this.timeoutMs;
    const res = await request(url, {
      method: opts.method.toUpperCase() as 'POST',
      headers,
      body,
      dispatcher: this.agent,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    const text = await res.body.text();
    if (res.statusCode === 429) throw rateLimited(text, header(res.headers['retry-after']));
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
    return { statusCode: res.statusCode, body: text, headers: flat };
  }

  private target(uri: string, params: object | undefined): string {
    let u = uri;
    if (this.baseUrl) {
      const parsed = new URL(uri);
      if (parsed.hostname === 'twilio.com' || parsed.hostname.endsWith('.twilio.com'))
        u = this.baseUrl.replace(/\/+$/, '') + parsed.pathname + parsed.search;
    }
    if (!params) return u;
    const query = form(params as Record<string, unknown>).toString();
    return query ? `${u}${u.includes('?') ? '&' : '?'}${query}` : u;
  }
}

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** Twilio's form encoding: arrays repeat their key (`MediaUrl=a&MediaUrl=b`), undefined is left out. */
function form(data: Record<string, unknown>): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(data)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) out.append(k, item === null ? '' : String(item));
  }
  return out;
}

function rateLimited(text: string, retryAfter: string | undefined): TwilioRateLimited {
  let body: { code?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: a proxy's page
  }
  return new TwilioRateLimited(
    typeof body.message === 'string' ? body.message : 'Too Many Requests',
    typeof body.code === 'number' ? body.code : undefined,
    parseRetryAfter(retryAfter),
  );
}
