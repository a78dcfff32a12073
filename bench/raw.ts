/** The baselines: the least a BullMQ worker can do. Imports nothing of the service. */
import type { Job } from 'bullmq';
import { Agent, request } from 'undici';
import type { FakeInfo } from './fake-providers.js';

export type Channel = 'sms' | 'email';

/**
 * How the baseline calls the provider: `fetch` (what most workers would write), or undici's
 * `request` on a kept-alive pool (what the service's own adapters use), so the ratio against
 * it shows what the service adds, not what its transport saves.
 */
export type Transport = 'fetch' | 'undici';

interface Call {
  url: string;
  headers: Record<string, string>;
  body: string;
}

function caller(transport: Transport): (c: Call) => Promise<{ status: number; json: unknown }> {
  if (transport === 'fetch')
    return async (c) => {
      const res = await fetch(c.url, { method: 'POST', headers: c.headers, body: c.body });
      return { status: res.status, json: await res.json() };
    };
  const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 100 });
  return async (c) => {
    const res = await request(c.url, { method: 'POST', headers: c.headers, body: c.body, dispatcher });
    return { status: res.statusCode, json: await res.body.json() };
  };
}

/** The least a BullMQ worker can do: call the provider, return its answer. */
export function rawProcessor(
  f: Pick<FakeInfo, 'twilioUrl' | 'twilioSid' | 'twilioToken' | 'resendUrl' | 'resendKey'>,
  channel: Channel,
  transport: Transport = 'fetch',
): (job: Job) => Promise<unknown> {
  const call = caller(transport);
  if (channel === 'sms') {
    const url = `${f.twilioUrl}/2010-04-01/Accounts/${f.twilioSid}/Messages.json`;
    const headers = {
      authorization: 'Basic ' + Buffer.from(`${f.twilioSid}:${f.twilioToken}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
    };
    return async (job) => {
      const body = new URLSearchParams({ To: job.data.to, From: '+15005550006', Body: job.data.body }).toString();
      const res = await call({ url, headers, body });
      const m = res.json as { sid: string; status: string };
      if (res.status >= 300) throw new Error(`twilio ${res.status}`);
      return { status: 'sent', provider: 'twilio', messageId: m.sid, providerStatus: m.status };
    };
  }
  const url = `${f.resendUrl}/emails`;
  const headers = { authorization: `Bearer ${f.resendKey}`, 'content-type': 'application/json' };
  return async (job) => {
    const res = await call({ url, headers, body: JSON.stringify({ from: 'Bench <bench@example.com>', ...job.data }) });
    const m = res.json as { id: string };
    if (res.status >= 300) throw new Error(`resend ${res.status}`);
    return { status: 'sent', provider: 'resend', messageId: m.id };
  };
}
