import type { SmsPayload } from '../contract/schemas.js';
import { skipped, type Skipped, type TextSent } from '../contract/results.js';
import type { SendContext, SmsProvider } from '../providers/types.js';

export interface SmsDeps extends SendContext {
  provider?: SmsProvider;
  from?: string;
}

export async function sendSms(payload: SmsPayload, deps: SmsDeps): Promise<TextSent | Skipped> {
  if (!deps.provider || !deps.from)
    return skipped('SMS is not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER');
  const receipt = await deps.provider.sendSms({ from: deps.from, to: payload.to, body: payload.body }, deps);
  return { status: 'sent', provider: 'twilio', ...receipt };
}
