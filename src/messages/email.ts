import type { EmailPayload } from '../contract/schemas.js';
import { skipped, type EmailSent, type Skipped } from '../contract/results.js';
import { permanent } from '../contract/errors.js';
import type { EmailProvider, SendContext } from '../providers/types.js';
import type { SuppressionCheck } from './suppression.js';

export interface EmailDeps extends SendContext {
  /** Resend when configured, else SendGrid, else none (disabled). */
  provider?: EmailProvider;
  defaultFrom?: string;
  suppression?: SuppressionCheck;
}

export async function sendEmail(payload: EmailPayload, deps: EmailDeps): Promise<EmailSent | Skipped> {
  if (!deps.provider || !deps.defaultFrom)
    return skipped('email is not configured: set RESEND_API_KEY or SENDGRID_API_KEY, and EMAIL_FROM');
  // Suppressed recipients are left out; the email fails only when none is left.
  const all = typeof payload.to === 'string' ? [payload.to] : payload.to;
  const suppressed = (await deps.suppression?.among('email', all)) ?? new Map();
  const to = all.filter((t) => !suppressed.has(t));
  if (to.length === 0) throw permanent('RECIPIENT_SUPPRESSED', [...new Set(suppressed.values())].join(', '));
  const { messageId } = await deps.provider.send(
    { ...payload, to: typeof payload.to === 'string' ? to[0]! : to, from: payload.from ?? deps.defaultFrom },
    { deliveryKey: deps.deliveryKey },
  );
  return {
    status: 'sent',
    provider: deps.provider.name,
    messageId,
    ...(suppressed.size > 0 && { suppressed: [...suppressed.keys()].map((s) => s.toLowerCase()) }),
  };
}
