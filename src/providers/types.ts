import type { EmailPayload } from '../jobs/schemas.js';

/**
 * The provider boundary. An adapter is the only code that knows its vendor's SDK and
 * error codes; it throws `ProviderError` (src/errors.ts) with the contract's code and
 * kind, and returns only what the result contract needs.
 */
export interface SendContext {
  /** Stable across retries of one job: lets providers that support it deduplicate. */
  idempotencyKey: string;
}

export type EmailMessage = Omit<EmailPayload, 'from'> & { from: string };

export interface EmailProvider {
  readonly name: 'resend' | 'sendgrid';
  send(message: EmailMessage, ctx: SendContext): Promise<{ messageId: string }>;
}

export interface TextMessage {
  from: string;
  to: string;
  body: string;
}

export interface WhatsAppMessage {
  /** `whatsapp:+E164` */
  from: string;
  /** plain `+E164`; the adapter adds the `whatsapp:` scheme */
  to: string;
  body?: string;
  contentSid?: string;
  contentVariables?: Record<string, string>;
}

export interface MessageReceipt {
  messageId: string;
  /** The vendor's own status word, e.g. Twilio's `queued`. */
  providerStatus: string;
}

export interface SmsProvider {
  readonly name: 'twilio';
  sendSms(message: TextMessage, ctx: SendContext): Promise<MessageReceipt>;
}

export interface WhatsAppProvider {
  readonly name: 'twilio';
  sendWhatsApp(message: WhatsAppMessage, ctx: SendContext): Promise<MessageReceipt>;
}
