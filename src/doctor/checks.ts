import type { Config } from '../config.js';
import { basic, call, reasonOf, trimSlash } from './http.js';

/** The outcome of one harmless credential check: nothing is sent, created or changed. */
export interface CheckResult {
  ok: boolean;
  detail: string;
}

export const DEFAULT_BASE_URLS = {
  resend: 'https://api.resend.com',
  sendgrid: 'https://api.sendgrid.com',
  twilio: 'https://api.twilio.com',
};

type Opt<T> = NonNullable<T>;

/** Resend: list domains. A sending-only key cannot list them but is valid for sending. */
export async function checkResend(c: Opt<Config['email']['resend']>, timeoutMs: number): Promise<CheckResult> {
  const a = await call(`${trimSlash(c.baseUrl ?? DEFAULT_BASE_URLS.resend)}/domains`, { headers: { authorization: `Bearer ${c.apiKey}` } }, timeoutMs);
  if (a.status === 200) {
    const domains = Array.isArray(a.body?.data) ? a.body.data : [];
    const verified = domains.filter((d: { status?: string }) => d.status === 'verified').map((d: { name?: string }) => d.name);
    return { ok: true, detail: `API key accepted; verified domains: ${verified.length ? verified.join(', ') : 'none listed'}` };
  }
  if (a.status === 401 && a.body?.name === 'restricted_api_key')
    return { ok: true, detail: 'sending-only API key accepted (it cannot list domains)' };
  return { ok: false, detail: reasonOf(a) };
}

/** SendGrid: the key's scopes; sending needs mail.send. */
export async function checkSendGrid(c: Opt<Config['email']['sendgrid']>, timeoutMs: number): Promise<CheckResult> {
  const a = await call(`${trimSlash(c.baseUrl ?? DEFAULT_BASE_URLS.sendgrid)}/v3/scopes`, { headers: { authorization: `Bearer ${c.apiKey}` } }, timeoutMs);
  if (a.status !== 200) return { ok: false, detail: reasonOf(a) };
  const scopes: string[] = Array.isArray(a.body?.scopes) ? a.body.scopes : [];
  return scopes.includes('mail.send')
    ? { ok: true, detail: 'API key accepted, with the mail.send scope' }
    : { ok: false, detail: 'API key accepted but lacks the mail.send scope' };
}

/** Twilio: fetch the account itself; a suspended or closed account cannot send. */
export async function checkTwilio(c: Opt<Config['twilio']>, timeoutMs: number): Promise<CheckResult> {
  const url = `${trimSlash(c.baseUrl ?? DEFAULT_BASE_URLS.twilio)}/2010-04-01/Accounts/${encodeURIComponent(c.accountSid)}.json`;
  const a = await call(url, { headers: { authorization: basic(c.accountSid, c.authToken) } }, timeoutMs);
  if (a.status !== 200) return { ok: false, detail: reasonOf(a) };
  const status = String(a.body?.status ?? 'unknown');
  return status === 'active'
    ? { ok: true, detail: `account ${a.body?.friendly_name ?? c.accountSid} is active` }
    : { ok: false, detail: `account is ${status}` };
}

/** Zoom Server-to-Server OAuth: ask for a token (it is not used, and expires on its own). */
export async function checkZoom(c: Opt<Config['zoom']>, timeoutMs: number): Promise<CheckResult> {
  const a = await call(
    `${c.oauthBaseUrl}/oauth/token`,
    {
      method: 'POST',
      headers: { authorization: basic(c.clientId, c.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'account_credentials', account_id: c.accountId }).toString(),
    },
    timeoutMs,
  );
  if (a.status === 200 && a.body?.access_token) return { ok: true, detail: `token granted${a.body.scope ? ` (scopes: ${a.body.scope})` : ''}` };
  return { ok: false, detail: reasonOf(a) };
}

/** Google OAuth 2.0: refresh the access token, as the Calendar client does before each call. */
export async function checkGoogle(c: Opt<Config['google']>, timeoutMs: number): Promise<CheckResult> {
  const a = await call(
    c.tokenUrl,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: c.clientId,
        client_secret: c.clientSecret,
        refresh_token: c.refreshToken,
      }).toString(),
    },
    timeoutMs,
  );
  if (a.status !== 200 || !a.body?.access_token) return { ok: false, detail: reasonOf(a) };
  const scope = String(a.body.scope ?? '');
  if (scope && !/auth\/calendar(\.events)?\b/.test(scope))
    return { ok: false, detail: `token granted without a Calendar scope (got: ${scope})` };
  return { ok: true, detail: `token refreshed${scope ? ` (scopes: ${scope})` : ''}` };
}

/** Outbound webhooks: only reachability. A real delivery would be an event the receiver acts on. */
export async function checkWebhook(c: Opt<Config['webhook']>, timeoutMs: number): Promise<CheckResult> {
  const a = await call(c.url, { method: 'HEAD' }, timeoutMs);
  return { ok: true, detail: `receiver reachable (HEAD answered ${a.status}); deliveries are not tested` };
}
