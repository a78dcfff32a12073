import { z } from 'zod';
import { isTimeZone } from './time.js';

/**
 * One schema per job kind: the single source of truth for the producer client,
 * the HTTP API and the workers (which re-validate: other-language producers write
 * straight into Redis). Types are inferred from these.
 */

const NO_CRLF = /^[^\r\n]*$/;

/**
 * Text rules (README "Queues and payloads"). Bodies may hold tab, CR and LF but no other
 * C0 control character nor DEL (a NUL cuts an SMS or a header short); one-line fields
 * (subjects, names, titles, topics) hold none; subject-like fields also refuse the
 * characters that make a line read otherwise than it is (line/paragraph separators, bidi
 * overrides and isolates). Written as negated classes, so the OpenAPI document carries them.
 */
const BODY_TEXT = /^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$/;
const ONE_LINE = /^[^\x00-\x1f\x7f]*$/;
const PLAIN_LINE = /^[^\u2028\u2029\u202a-\u202e\u2066-\u2069]*$/;

/** Multi-line free text: an SMS, an email part, a cancellation reason. */
const bodyText = (max: number) =>
  z.string().max(max).regex(BODY_TEXT, 'must not contain control characters (tab, CR and LF are allowed)');
/** A one-line text such as a person's name. */
const oneLine = (max: number) =>
  z.string().min(1).max(max).regex(ONE_LINE, 'must not contain line breaks or other control characters');
/** A subject, title or topic: one line, and no invisible characters that reorder or break it. */
const subjectLine = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(ONE_LINE, 'must not contain line breaks or other control characters')
    .regex(PLAIN_LINE, 'must not contain U+2028/U+2029 or bidi override/isolate characters (U+202A-U+202E, U+2066-U+2069)');

/** `tags` and `contentVariables`: a bounded number of keys, whatever their size. */
export const MAX_RECORD_KEYS = 50;

/** Counts the keys before any is parsed: 60,000 tags cost one `Object.keys`, not 60,000 checks. */
const atMostKeys = <T extends z.ZodType>(record: T) =>
  z.preprocess((v, ctx) => {
    if (v !== null && typeof v === 'object' && Object.keys(v).length > MAX_RECORD_KEYS)
      ctx.addIssue({ code: 'custom', message: `at most ${MAX_RECORD_KEYS} keys`, input: v });
    return v;
  }, record);

export const E164 = /^\+[1-9]\d{6,14}$/;

export const phone = z
  .string()
  .regex(E164, 'must be an E.164 phone number: "+" then country code and number, e.g. +33612345678');

export const emailAddress = z
  .string()
  .max(320)
  .regex(NO_CRLF, 'must not contain line breaks')
  .pipe(z.email('must be a valid email address'));

/** `paul@example.com` or `Paul Durand <paul@example.com>`. */
export const mailbox = z
  .string()
  .max(400)
  .regex(ONE_LINE, 'must not contain line breaks or other control characters')
  .superRefine((v, ctx) => {
    const m = /^\s*(?:"?([^"<>]*)"?\s*<([^<>\s]+)>|([^<>\s]+))\s*$/.exec(v);
    const addr = m?.[2] ?? m?.[3];
    if (!addr || !z.email().safeParse(addr).success)
      ctx.addIssue({ code: 'custom', message: 'must be an email address or "Name <address>"' });
  });

/** An appointment id (also the `:id` of the appointment routes): safe in Redis keys and job ids. */
export const appointmentId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.-]+$/, 'may only contain letters, digits, "_", "-" and "."');

export const timeZone = z.string().refine(isTimeZone, 'must be an IANA time zone, e.g. Europe/Paris');

/** ISO 8601 with an explicit zone: `Z` or `+01:00`. */
export const zonedDateTime = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 date-time with a zone, e.g. 2024-01-15T10:00:00Z or 2024-01-15T11:00:00+01:00',
});

const tags = atMostKeys(
  z.record(
    z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, 'tag names: letters, digits, "_" and "-"'),
    z.string().max(256).regex(/^[A-Za-z0-9_-]*$/, 'tag values: letters, digits, "_" and "-"'),
  ),
);

/** Not sent after this moment (e.g. a reminder once its appointment has started, an expired code). */
const expiresAt = zonedDateTime.optional();

/**
 * Set by the appointments feature on the messages it sends (producers leave it out): what
 * the message is for, so that the timeline, channel fallback and invitations find it.
 */
export const MESSAGE_KINDS = ['confirmation', 'rescheduled', 'cancelled', 'J-1', 'H-1'] as const;
export const messageRef = z.object({
  appointmentId,
  kind: z.enum(MESSAGE_KINDS),
  version: z.number().int().min(1),
  recipient: z.enum(['attendee', 'host']),
  /** The job id of the send this one replaces on another channel. */
  fallbackOf: z.string().min(1).max(255).optional(),
});
export type MessageRef = z.infer<typeof messageRef>;

export const MAX_EMAIL_BODY = 256 * 1024;
export const MAX_RECIPIENTS = 50;

export const MAX_ATTACHMENTS = 10;
/** Decoded bytes of all attachments of one email (README "Email attachments"). */
export const MAX_ATTACHMENT_BYTES = 7 * 1024 * 1024;
// Standard base64 (RFC 4648 §4, not base64url), whitespace (MIME line breaks) allowed. One
// character class and a length check: a grouped pattern overflows the stack on megabytes.
const isBase64 = (text: string) => {
  const s = text.replace(/\s+/g, '');
  return s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);
};

/** Bytes a base64 text decodes to (whitespace ignored). */
export const decodedSize = (b64: string) => {
  const s = b64.replace(/\s+/g, '');
  return (s.length / 4) * 3 - (s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0);
};

export const emailAttachment = z.object({
  filename: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^\r\n/\\\0]+$/, 'must not contain path separators or line breaks'),
  content: z
    .string()
    .min(1)
    .refine(isBase64, 'must be standard base64 (RFC 4648)'),
  contentType: z
    .string()
    .max(255)
    .regex(/^[\w.+-]+\/[\w.+-]+(?:\s*;[^\r\n]*)?$/, 'must be a MIME type, e.g. application/pdf')
    .optional(),
});

const attachments = z
  .array(emailAttachment)
  .max(MAX_ATTACHMENTS, `at most ${MAX_ATTACHMENTS} attachments`)
  .refine((list) => list.reduce((n, a) => n + decodedSize(a.content), 0) <= MAX_ATTACHMENT_BYTES, 'at most 7 MiB decoded in all');

const emailFields = z.object({
  to: z.union([emailAddress, z.array(emailAddress).min(1).max(MAX_RECIPIENTS)]),
  subject: subjectLine(998),
  html: bodyText(MAX_EMAIL_BODY).min(1).optional(),
  text: bodyText(MAX_EMAIL_BODY).min(1).optional(),
  from: mailbox.optional(),
  replyTo: emailAddress.optional(),
  tags: tags.optional(),
  attachments: attachments.optional(),
  expiresAt,
});

const htmlOrText = (p: { html?: string; text?: string }) => p.html !== undefined || p.text !== undefined;
const htmlOrTextIssue = { message: 'at least one of html or text is required', path: ['html'] };

/** What producers send (POST /v1/emails, the client's `sendEmail`). */
export const emailPayload = emailFields.refine(htmlOrText, htmlOrTextIssue);

/**
 * The `email` queue's job: a producer's payload, or the appointments feature's with its
 * `ref` (from which the email worker builds the calendar invitation when the job runs, so
 * the job stays small). Producers cannot set `ref`: their schemas leave it out.
 */
export const emailJobPayload = emailFields.extend({ ref: messageRef.optional() }).refine(htmlOrText, htmlOrTextIssue);

const smsFields = z.object({
  to: phone,
  // Twilio's own ceiling for one message (10 segments).
  body: bodyText(1600).min(1),
  expiresAt,
});

const whatsappFields = z.object({
  to: phone,
  body: bodyText(4096).min(1).optional(),
  contentSid: z
    .string()
    .regex(/^HX[0-9a-fA-F]{32}$/, 'must be a Twilio Content SID: HX and 32 hex digits')
    .optional(),
  contentVariables: atMostKeys(
    z.record(z.string().max(64).regex(ONE_LINE, 'variable names must not contain control characters'), bodyText(1024)),
  ).optional(),
  expiresAt,
});

const bodyOrTemplate = (p: z.infer<typeof whatsappFields>, ctx: z.RefinementCtx) => {
  if ((p.body === undefined) === (p.contentSid === undefined))
    ctx.addIssue({ code: 'custom', path: ['body'], message: 'give exactly one of body or contentSid' });
  if (p.contentVariables && !p.contentSid)
    ctx.addIssue({ code: 'custom', path: ['contentVariables'], message: 'only with contentSid' });
};

/** What producers send; the queues' jobs may also carry the appointments feature's `ref`. */
export const smsPayload = smsFields;
export const smsJobPayload = smsFields.extend({ ref: messageRef.optional() });
export const whatsappPayload = whatsappFields.superRefine(bodyOrTemplate);
export const whatsappJobPayload = whatsappFields.extend({ ref: messageRef.optional() }).superRefine(bodyOrTemplate);

export const visioProvider = z.enum(['ZOOM', 'GOOGLE_MEET', 'CUSTOM']);
/** The meeting kinds the service creates (VisioKind), as opposed to a `CUSTOM` link. */
export const visioKind = z.enum(['ZOOM', 'GOOGLE_MEET']);

export const meetingCreatePayload = z.object({
  appointmentId,
  scheduledAt: zonedDateTime,
  duration: z.number().int().min(1).max(24 * 60),
  visioProvider: visioKind,
  topic: subjectLine(200).optional(),
  timezone: timeZone.optional(),
  attendees: z.array(emailAddress).max(100).optional(),
  /** The appointment's host: the meeting is created as this Zoom user / in this Google calendar when so configured. */
  hostEmail: emailAddress.optional(),
});

const person = z.object({
  name: oneLine(200),
  email: emailAddress.optional(),
  phone: phone.optional(),
});

export const reminderChannel = z.enum(['email', 'sms', 'whatsapp']);

export const appointment = z.object({
  id: appointmentId,
  scheduledAt: zonedDateTime,
  duration: z.number().int().min(1).max(24 * 60),
  // Becomes part of email subjects and SMS lines: the subject rule.
  title: subjectLine(200),
  timezone: timeZone.optional(),
  locale: z.enum(['fr', 'en']).optional(),
  visioProvider: visioProvider.nullish(),
  visioUrl: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .max(2048)
    .nullish(),
  host: person.optional(),
  attendee: person,
  reminderChannels: z.array(reminderChannel).max(3).optional(),
  /** Where a notice that did not reach the attendee goes next, in order (README "Channel fallback"). */
  fallbackChannels: z.array(reminderChannel).max(3).optional(),
  /** `false`: the host (with `host.email`) is not sent booking, move and cancellation emails. */
  notifyHost: z.boolean().optional(),
});

export const appointmentCancelled = z.object({
  id: appointmentId,
  reason: bodyText(500).optional(),
});

export type EmailPayload = z.infer<typeof emailPayload>;
export type EmailJobPayload = z.infer<typeof emailJobPayload>;
export type EmailAttachment = z.infer<typeof emailAttachment>;
export type SmsPayload = z.infer<typeof smsPayload>;
export type SmsJobPayload = z.infer<typeof smsJobPayload>;
export type WhatsAppPayload = z.infer<typeof whatsappPayload>;
export type WhatsAppJobPayload = z.infer<typeof whatsappJobPayload>;
export type MeetingCreatePayload = z.infer<typeof meetingCreatePayload>;
export type Appointment = z.infer<typeof appointment>;
export type AppointmentCancelled = z.infer<typeof appointmentCancelled>;
export type ReminderChannel = z.infer<typeof reminderChannel>;

/** Moves the meeting this service created for the appointment (README "Appointment lifecycle", `rescheduled`). */
export const meetingUpdatePayload = z.object({
  appointmentId,
  scheduledAt: zonedDateTime,
  duration: z.number().int().min(1).max(24 * 60),
  timezone: timeZone.optional(),
  topic: subjectLine(200).optional(),
});

/** Deletes the meeting this service created for the appointment (README "Appointment lifecycle", `cancelled`). */
export const meetingDeletePayload = z.object({ appointmentId });

export type MeetingUpdatePayload = z.infer<typeof meetingUpdatePayload>;
export type MeetingDeletePayload = z.infer<typeof meetingDeletePayload>;
