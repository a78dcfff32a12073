import type { EmailPayload } from '../contract/schemas.js';

/**
 * The provider boundary. An adapter is the only code that knows its vendor's SDK and
 * error codes; it throws `ProviderError` (src/errors.ts) with the contract's code and
 * kind, and returns only what the result contract needs.
 */
export interface SendContext {
  /** Stable across retries of one job: providers that support it deduplicate on it (Resend). */
  deliveryKey: string;
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

/** Meetings (Zoom, Google Meet): one per appointment, created, moved and removed by id. */
export type VisioKind = 'ZOOM' | 'GOOGLE_MEET';

export interface MeetingSpec {
  /** Our appointment id: providers derive idempotency handles (event id, request id, tag) from it. */
  appointmentId: string;
  topic: string;
  /** ISO 8601 with a zone. */
  startTime: string;
  durationMinutes: number;
  /** IANA zone the meeting is shown in. */
  timezone: string;
  attendees?: string[];
}

export interface MeetingChange {
  startTime: string;
  durationMinutes: number;
  timezone: string;
  topic?: string;
}

export interface CreatedMeeting {
  /** The provider's handle for later moves and deletions (Zoom meeting id, Calendar event id). */
  meetingId: string;
  joinUrl: string;
  password?: string;
  /** A Calendar event's iCalendar UID: the emailed invitation reuses it, so calendars show one entry. */
  icalUid?: string;
}

export interface MeetingProvider {
  readonly kind: VisioKind;
  readonly name: 'zoom' | 'google-meet';
  create(spec: MeetingSpec): Promise<CreatedMeeting>;
  /**
   * After an attempt whose outcome is unknown (timeout, crash before we stored the answer):
   * the meeting that attempt may have created, if the provider can find it.
   */
  recover?(spec: MeetingSpec): Promise<CreatedMeeting | undefined>;
  update(meetingId: string, change: MeetingChange): Promise<void>;
  /** Resolves when the meeting is gone, including when it already was. */
  remove(meetingId: string): Promise<void>;
}
