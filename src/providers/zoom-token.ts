import { parseRetryAfter, permanent, rateLimited, transient } from '../contract/errors.js';
import { networkReason } from './network.js';

export interface ZoomTokenOptions {
  clientId: string;
  clientSecret: string;
  accountId: string;
  /** `https://zoom.us` or an override. */
  oauthBaseUrl: string;
  timeoutMs: number;
  now?: () => number;
}

/** Renew this long before Zoom's expiry, so a token never dies in flight. */
const EARLY_RENEWAL_MS = 60_000;

/**
 * Server-to-Server OAuth access tokens (`account_credentials` grant). One token is shared
 * by every job of the process: concurrent callers wait on one request (single flight),
 * and the token is reused until shortly before it expires. Zoom issues no refresh token.
 */
export class ZoomTokenSource {
  private token?: { value: string; renewAt: number };
  private inflight?: Promise<string>;
  private readonly now: () => number;

  constructor(private readonly opts: ZoomTokenOptions) {
    this.now = opts.now ?? Date.now;
  }

  async get(): Promise<string> {
    if (this.token && this.now() < this.token.renewAt) return this.token.value;
    this.inflight ??= this.fetchToken().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** After a 401: drop the token that failed (not a newer one another caller already got). */
  invalidate(rejected: string): void {
    if (this.token?.value === rejected) this.token = undefined;
  }

  private async fetchToken(): Promise<string> {
    const { clientId, clientSecret, accountId } = this.opts;
    // Zoom refuses the query-string form of this request: credentials go in the form body.
    const body = new URLSearchParams({ grant_type: 'account_credentials', account_id: accountId });
    let res: Response;
    try {
      res = await fetch(`${this.opts.oauthBaseUrl}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: 'Basic ' + Buffer.from(`${clientId}:${clientSecret}`).toString('base64'),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      throw transient(`zoom oauth: ${networkReason(err)}`);
    }
    const data = (await res.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
      error?: string;
      reason?: string;
    };
    if (!res.ok || !data.access_token) {
      const msg = `zoom oauth ${res.status}${data.error ? ` ${data.error}` : ''}: ${data.reason ?? 'no access token'}`;
      if (res.status === 429) throw rateLimited(msg, parseRetryAfter(res.headers.get('retry-after')));
      if (res.status >= 500 || res.status === 408) throw transient(msg);
      // invalid_client, unsupported_grant_type, a wrong account id: fix the credentials.
      throw permanent('PROVIDER_AUTH', msg);
    }
    const lifetimeMs = (data.expires_in ?? 3600) * 1000;
    this.token = {
      value: data.access_token,
      renewAt: this.now() + Math.max(lifetimeMs - EARLY_RENEWAL_MS, lifetimeMs / 2),
    };
    return data.access_token;
  }
}
