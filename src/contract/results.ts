/** Job return values (README "Queues and payloads"). */
export interface Skipped {
  status: 'skipped';
  reason: string;
}
export interface EmailSent {
  status: 'sent';
  provider: 'resend' | 'sendgrid';
  messageId: string;
  /** Recipients left out because they are on the suppression list (README "Suppression list"). */
  suppressed?: string[];
}
export interface TextSent {
  status: 'sent';
  provider: 'twilio';
  messageId: string;
  providerStatus: string;
}
export interface MeetingCreated {
  status: 'created';
  visioProvider: 'ZOOM' | 'GOOGLE_MEET';
  visioUrl: string;
  visioMeetingId: string;
  password?: string;
  /** Who owns the meeting: the Zoom user or the Google calendar it was created in. */
  hostedBy?: string;
  /** Present when the meeting could not be created as the host: why, and who hosts it instead. */
  hostFallback?: string;
  /** Google Meet: the Calendar event's iCalendar UID (appointment invitations reuse it). */
  icalUid?: string;
}

export const skipped = (reason: string): Skipped => ({ status: 'skipped', reason });
export interface MeetingUpdated {
  status: 'updated';
  visioProvider: 'ZOOM' | 'GOOGLE_MEET';
  visioUrl: string;
  visioMeetingId: string;
}
export interface MeetingDeleted {
  status: 'deleted';
  visioProvider: 'ZOOM' | 'GOOGLE_MEET';
  visioMeetingId: string;
}
export interface WebhookDelivered {
  status: 'delivered';
  eventId: string;
  type: string;
  httpStatus: number;
}
