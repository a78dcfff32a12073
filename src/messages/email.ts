import type { EmailPayload } from '../contract/schemas.js';
import { skipped, type EmailSent, type Skipped } from '../contract/results.js';
import type { EmailProvider, SendContext } from '../providers/types.js';

export interface EmailDeps extends SendContext {
  /** Resend when configured, else SendGrid, else none (disabled). */
  provider?: EmailProvider;
  defaultFrom?: string;
}

export async function sendEmail(payload: EmailPayload, deps: EmailDeps): Promise<EmailSent | Skipped> {
  if (!deps.provider || !deps.defaultFrom)
    return skipped('email is not configured: set RESEND_API_KEY or SENDGRID_API_KEY, and EMAIL_FROM');
  const { messageId } = await deps.provider.send(
    { ...payload, from: payload.from ?? deps.defaultFrom },
    { deliveryKey: deps.deliveryKey },
  );
  return { status: 'sent', provider: deps.provider.name, messageId };
}
