import type { SmsJobPayload } from '../contract/schemas.js';
import { skipped, type Skipped, type TextSent } from '../contract/results.js';
import type { SendContext, SmsProvider } from '../providers/types.js';
import { refuseSuppressed, rememberOptOut, type SuppressionCheck } from './suppression.js';

export interface SmsDeps extends SendContext {
  provider?: SmsProvider;
  from?: string;
  suppression?: SuppressionCheck;
}

export async function sendSms(payload: SmsJobPayload, deps: SmsDeps): Promise<TextSent | Skipped> {
  if (!deps.provider || !deps.from)
    return skipped('SMS is not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER');
  await refuseSuppressed(deps.suppression, 'sms', payload.to);
  const { provider, from } = deps;
  const receipt = await rememberOptOut(deps.suppression, 'sms', payload.to, () =>
    provider.sendSms({ from, to: payload.to, body: payload.body }, deps),
  );
  return { status: 'sent', provider: 'twilio', ...receipt };
}
