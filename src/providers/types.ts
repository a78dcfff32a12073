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
  /** The appointment's host: providers that can create the meeting as this user do (README "Meetings owned by the host"). */
  hostEmail?: string;
}

export interface MeetingChange {
  startTime: string;
  durationMinutes: number;
  timezone: string;
  topic?: string;
}

export interface CreatedMeeting {
  /** The provider's handle for later moves and deletions (Zoom meeting id, Calendar event id). */
  visioMeetingId: string;
  visioUrl: string;
  password?: string;
  /** Who owns the meeting: the Zoom user or the Google calendar it was created in. */
  hostedBy: string;
  /** Set when the meeting could not be created as the host asked for: why, and who hosts it instead. */
  hostFallback?: string;
  /**
   * The provider's handle on the owner, stored with the meeting and handed back to
   * `update` / `remove` so they act on the same owner. Absent: `hostedBy` is the handle.
   */
  owner?: string;
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
  /** `owner`: what `create` returned (`owner`, else `hostedBy`); absent for meetings stored before hosts existed. */
  update(meetingId: string, change: MeetingChange, owner?: string): Promise<void>;
  /** Resolves when the meeting is gone, including when it already was. */
  remove(meetingId: string, owner?: string): Promise<void>;
}
