import type { EmailAttachment, EmailJobPayload, MessageRef } from '../contract/schemas.js';
import { skipped, type EmailSent, type Skipped } from '../contract/results.js';
import { permanent } from '../contract/errors.js';
import type { EmailProvider, SendContext } from '../providers/types.js';
import type { SuppressionCheck } from './suppression.js';

/**
 * Builds an appointment email's calendar invitation when its job runs (the appointments
 * feature's, wired in src/service.ts); undefined sends the email without one.
 */
export type InvitationSource = (ref: MessageRef) => Promise<EmailAttachment | undefined>;

export interface EmailDeps extends SendContext {
  /** Resend when configured, else SendGrid, else none (disabled). */
  provider?: EmailProvider;
  defaultFrom?: string;
  invitations?: InvitationSource;
  suppression?: SuppressionCheck;
}

export async function sendEmail(payload: EmailJobPayload, deps: EmailDeps): Promise<EmailSent | Skipped> {
  if (!deps.provider || !deps.defaultFrom)
    return skipped('email is not configured: set RESEND_API_KEY or SENDGRID_API_KEY, and EMAIL_FROM');
  // Suppressed recipients are left out; the email fails only when none is left.
  const { ref, ...message } = payload;
  const all = typeof message.to === 'string' ? [message.to] : message.to;
  const suppressed = (await deps.suppression?.among('email', all)) ?? new Map();
  const to = all.filter((t) => !suppressed.has(t));
  if (to.length === 0) throw permanent('RECIPIENT_SUPPRESSED', [...new Set(suppressed.values())].join(', '));
  const invite = ref && deps.invitations ? await deps.invitations(ref) : undefined;
  const attachments = [...(message.attachments ?? []), ...(invite ? [invite] : [])];
  const { messageId } = await deps.provider.send(
    {
      ...message,
      to: typeof message.to === 'string' ? to[0]! : to,
      from: message.from ?? deps.defaultFrom,
      ...(attachments.length > 0 && { attachments }),
    },
    { deliveryKey: deps.deliveryKey },
  );
  return {
    status: 'sent',
    provider: deps.provider.name,
    messageId,
    ...(suppressed.size > 0 && { suppressed: [...suppressed.keys()].map((s) => s.toLowerCase()) }),
  };
}
