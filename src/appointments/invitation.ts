import ical, { ICalAttendeeRole, ICalAttendeeStatus, ICalCalendarMethod, ICalEventStatus } from 'ical-generator';
import type { Config } from '../config.js';
import type { EmailAttachment, MessageRef } from '../contract/schemas.js';
import type { ServiceContext } from '../runtime/types.js';
import { safeLink } from '../templates/escape.js';
import { linkOf } from './meeting.js';
import { AppointmentStore, type StoredAppointment } from './store.js';

/**
 * The calendar invitation of appointment emails (README "Calendar invitations"): one
 * VEVENT whose UID stays the same for the appointment's life and whose SEQUENCE is the
 * stored version, so mail clients add, move and remove one calendar entry.
 */

/** The notices that carry an invitation; reminders do not. */
const INVITATION_KINDS = ['confirmation', 'rescheduled', 'cancelled'] as const;
export type InvitationKind = (typeof INVITATION_KINDS)[number];
const carriesInvitation = (kind: MessageRef['kind']): kind is InvitationKind => (INVITATION_KINDS as readonly string[]).includes(kind);

/** `Name <addr@domain>` or `addr@domain` -> its parts. */
export function mailboxParts(value: string): { name?: string; email: string } {
  const m = /^\s*"?([^"<>]*?)"?\s*<([^<>\s]+)>\s*$/.exec(value);
  if (!m) return { email: value.trim() };
  const name = m[1]!.trim();
  return name ? { name, email: m[2]! } : { email: m[2]! };
}

/**
 * The UID pinned by the appointment's first invitation; before it, a Google Calendar event's
 * own UID when the meeting is one (the attendee's calendar then holds one entry, not two),
 * else `<id>@<EMAIL_FROM's domain>`.
 */
export function invitationUid(s: Pick<StoredAppointment, 'id' | 'meeting' | 'invitationUid'>, emailFrom: string | undefined): string {
  if (s.invitationUid) return s.invitationUid;
  if (s.meeting?.visioProvider === 'GOOGLE_MEET' && s.meeting.icalUid) return s.meeting.icalUid;
  const domain = emailFrom ? mailboxParts(emailFrom).email.split('@')[1] : undefined;
  return `${s.id}@${domain || 'notification-service'}`;
}

// Names go into quoted CN parameters, where RFC 5545 allows neither `"` nor control characters.
const paramSafe = (v: string) => v.replace(/[\u0000-\u001f\u007f"]+/g, ' ').trim();

/** The iCalendar text (METHOD:REQUEST, or CANCEL with STATUS:CANCELLED). */
export function buildInvitation(s: StoredAppointment, kind: InvitationKind, config: Pick<Config, 'email'>): string {
  const a = s.appointment!;
  const cancel = kind === 'cancelled';
  const from = config.email.from ? mailboxParts(config.email.from) : undefined;
  const organizerEmail = a.host?.email ?? from?.email;
  const organizerName = a.host?.name ?? from?.name;
  const link = safeLink(linkOf(s));
  const start = new Date(a.scheduledAt);
  const cal = ical({
    prodId: { company: 'notification-service', product: 'appointments', language: 'EN' },
    method: cancel ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.REQUEST,
  });
  cal.createEvent({
    id: invitationUid(s, config.email.from),
    sequence: s.version,
    // No zone given: ical-generator writes UTC (`...Z`), which every client reads alike.
    start,
    end: new Date(start.getTime() + a.duration * 60_000),
    summary: a.title,
    ...(link && { location: link, url: link }),
    description: [a.title, ...(link ? [link] : [])].join('\n'),
    ...(organizerEmail && { organizer: { name: paramSafe(organizerName ?? organizerEmail), email: organizerEmail } }),
    ...(a.attendee.email && {
      attendees: [
        {
          name: paramSafe(a.attendee.name),
          email: a.attendee.email,
          role: ICalAttendeeRole.REQ,
          status: cancel ? ICalAttendeeStatus.DECLINED : ICalAttendeeStatus.NEEDSACTION,
          rsvp: !cancel,
        },
      ],
    }),
    status: cancel ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
  });
  return cal.toString();
}

/** `invite.ics`, as an email attachment (standard base64). */
export function invitationAttachment(ics: string, kind: InvitationKind): Required<EmailAttachment> {
  return {
    filename: 'invite.ics',
    content: Buffer.from(ics, 'utf8').toString('base64'),
    contentType: `text/calendar; method=${kind === 'cancelled' ? 'CANCEL' : 'REQUEST'}`,
  };
}

/**
 * What the email worker calls when an appointment email job runs (wired in service.ts):
 * the invitation is built then, from the stored appointment, so the job carries only its
 * `ref`. A job whose version is no longer the stored one is sent without it: the
 * newer version's own email carries the newer invitation.
 */
export function appointmentInvitations(ctx: Pick<ServiceContext, 'config' | 'connection' | 'logger'>) {
  const store = new AppointmentStore(ctx.connection, ctx.config.redis);
  return async (ref: MessageRef): Promise<EmailAttachment | undefined> => {
    const kind = ref.kind;
    if (!carriesInvitation(kind)) return undefined;
    const s = await store.get(ref.appointmentId);
    if (!s?.appointment || s.version !== ref.version) {
      ctx.logger.info(
        { appointmentId: ref.appointmentId, version: ref.version, stored: s?.version },
        'appointment email sent without its invitation: the appointment changed or expired since',
      );
      return undefined;
    }
    const uid = await store.pinInvitationUid(s.id, invitationUid(s, ctx.config.email.from));
    return invitationAttachment(buildInvitation({ ...s, invitationUid: uid }, kind, ctx.config), kind);
  };
}
