import type { WhatsAppJobPayload } from '../contract/schemas.js';
import { skipped, type Skipped, type TextSent } from '../contract/results.js';
import type { SendContext, WhatsAppProvider } from '../providers/types.js';
import { refuseSuppressed, rememberOptOut, type SuppressionCheck } from './suppression.js';

export interface WhatsAppDeps extends SendContext {
  provider?: WhatsAppProvider;
  /** `whatsapp:+E164` */
  from?: string;
  suppression?: SuppressionCheck;
}

export async function sendWhatsApp(payload: WhatsAppJobPayload, deps: WhatsAppDeps): Promise<TextSent | Skipped> {
  if (!deps.provider || !deps.from)
    return skipped('WhatsApp is not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_WHATSAPP_NUMBER');
  await refuseSuppressed(deps.suppression, 'whatsapp', payload.to);
  const { provider, from } = deps;
  const receipt = await rememberOptOut(deps.suppression, 'whatsapp', payload.to, () => provider.sendWhatsApp({ ...payload, from }, deps));
  return { status: 'sent', provider: 'twilio', ...receipt };
}
