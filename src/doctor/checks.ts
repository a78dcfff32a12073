import type { Config } from '../config.js';
import { maskRecipient } from '../logger.js';
import { delegatedClient, delegationHelp, type ServiceAccount } from '../providers/google-delegation.js';
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
  const mode = c.hostFromAppointment
    ? `mode: host from appointment (each meeting under its host's Zoom user, else ${c.userId})`
    : `mode: single user (every meeting under ${c.userId})`;
  if (a.status !== 200 || !a.body?.access_token) return { ok: false, detail: `${mode}; ${reasonOf(a)}` };
  const scope = String(a.body.scope ?? '');
  // Creating meetings for other users of the account takes the admin scope (granular or classic).
  if (c.hostFromAppointment && scope && !/\bmeeting:write(:meeting)?:admin\b/.test(scope))
    return { ok: false, detail: `${mode}; the app lacks meeting:write:meeting:admin, needed to create meetings for other users (scopes: ${scope})` };
  return { ok: true, detail: `${mode}; token granted${scope ? ` (scopes: ${scope})` : ''}` };
}

/** Google: each configured mode; a mode that fails fails the row. */
export async function checkGoogle(c: Opt<Config['google']>, timeoutMs: number): Promise<CheckResult> {
  const parts = await Promise.all([
    c.clientId && c.clientSecret && c.refreshToken ? checkGoogleRefresh({ ...c, clientId: c.clientId, clientSecret: c.clientSecret, refreshToken: c.refreshToken }, timeoutMs) : undefined,
    c.serviceAccount ? checkGoogleDelegation(c.serviceAccount, c.defaultHost, c.tokenUrl, timeoutMs) : undefined,
  ]);
  const done = parts.filter((p): p is CheckResult => !!p);
  return { ok: done.every((p) => p.ok), detail: done.map((p) => p.detail).join('; ') };
}

/** Google OAuth 2.0: refresh the access token, as the Calendar client does before each call. */
async function checkGoogleRefresh(
  c: { clientId: string; clientSecret: string; refreshToken: string; tokenUrl: string },
  timeoutMs: number,
): Promise<CheckResult> {
  const mode = 'mode: refresh token';
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
  if (a.status !== 200 || !a.body?.access_token) return { ok: false, detail: `${mode}: ${reasonOf(a)}` };
  const scope = String(a.body.scope ?? '');
  if (scope && !/auth\/calendar(\.events)?\b/.test(scope))
    return { ok: false, detail: `${mode}: token granted without a Calendar scope (got: ${scope})` };
  return { ok: true, detail: `${mode}: token refreshed${scope ? ` (scopes: ${scope})` : ''}` };
}

/**
 * Domain-wide delegation: a token acting as GOOGLE_DEFAULT_HOST proves the admin granted the
 * Calendar scope to the service account. Without a default host there is nobody to act as.
 */
async function checkGoogleDelegation(sa: ServiceAccount, host: string | undefined, tokenUrl: string, timeoutMs: number): Promise<CheckResult> {
  const mode = `mode: domain-wide delegation (${sa.clientEmail})`;
  if (!host) return { ok: true, detail: `${mode}: grant not tested; set GOOGLE_DEFAULT_HOST to test it with a token for that user` };
  try {
    await delegatedClient(sa, host, tokenUrl, timeoutMs).getAccessToken();
    return { ok: true, detail: `${mode}: token granted acting as ${maskRecipient(host)}` };
  } catch (err) {
    const e = err as { response?: { status?: number; data?: { error?: string; error_description?: string } }; message?: string };
    if (e.response?.data?.error === 'unauthorized_client') return { ok: false, detail: `${mode}: ${delegationHelp(sa, host)}` };
    if (e.response?.status) return { ok: false, detail: `${mode}: ${reasonOf({ status: e.response.status, body: e.response.data })}` };
    return { ok: false, detail: `${mode}: ${e.message ?? String(err)}` };
  }
}

/** Outbound webhooks: only reachability. A real delivery would be an event the receiver acts on. */
export async function checkWebhook(c: Opt<Config['webhook']>, timeoutMs: number): Promise<CheckResult> {
  const a = await call(c.url, { method: 'HEAD' }, timeoutMs);
  return { ok: true, detail: `receiver reachable (HEAD answered ${a.status}); deliveries are not tested` };
}
