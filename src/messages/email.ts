import type { EmailAttachment, EmailJobPayload, MessageRef } from '../contract/schemas.js';
import { skipped, type EmailSent, type Skipped } from '../contract/results.js';
import type { EmailProvider, SendContext } from '../providers/types.js';

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
}

export async function sendEmail(payload: EmailJobPayload, deps: EmailDeps): Promise<EmailSent | Skipped> {
  if (!deps.provider || !deps.defaultFrom)
    return skipped('email is not configured: set RESEND_API_KEY or SENDGRID_API_KEY, and EMAIL_FROM');
  const { ref, ...message } = payload;
  const invite = ref && deps.invitations ? await deps.invitations(ref) : undefined;
  const attachments = [...(message.attachments ?? []), ...(invite ? [invite] : [])];
  const { messageId } = await deps.provider.send(
    { ...message, from: message.from ?? deps.defaultFrom, ...(attachments.length > 0 && { attachments }) },
    { deliveryKey: deps.deliveryKey },
  );
  return { status: 'sent', provider: deps.provider.name, messageId };
}
