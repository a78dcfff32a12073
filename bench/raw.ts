/** The baseline: the least a BullMQ worker can do. Imports nothing of the service. */
import type { Job } from 'bullmq';
import type { FakeInfo } from './fake-providers.js';

export type Channel = 'sms' | 'email';

/** The least a BullMQ worker can do: fetch the provider, return its answer. */
export function rawProcessor(f: Pick<FakeInfo, 'twilioUrl' | 'twilioSid' | 'twilioToken' | 'resendUrl' | 'resendKey'>, channel: Channel): (job: Job) => Promise<unknown> {
  if (channel === 'sms') {
    const url = `${f.twilioUrl}/2010-04-01/Accounts/${f.twilioSid}/Messages.json`;
    const authorization = 'Basic ' + Buffer.from(`${f.twilioSid}:${f.twilioToken}`).toString('base64');
    return async (job) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ To: job.data.to, From: '+15005550006', Body: job.data.body }),
      });
      const m = (await res.json()) as { sid: string; status: string };
      if (!res.ok) throw new Error(`twilio ${res.status}`);
      return { status: 'sent', provider: 'twilio', messageId: m.sid, providerStatus: m.status };
    };
  }
  const url = `${f.resendUrl}/emails`;
  const authorization = `Bearer ${f.resendKey}`;
  return async (job) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'Bench <bench@example.com>', ...job.data }),
    });
    const m = (await res.json()) as { id: string };
    if (!res.ok) throw new Error(`resend ${res.status}`);
    return { status: 'sent', provider: 'resend', messageId: m.id };
  };
}

