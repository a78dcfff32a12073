import type { EmailJobPayload, MessageRef, SmsJobPayload, WhatsAppJobPayload } from '../contract/schemas.js';
import { renderAppointment, type HostKind, type TemplateKind } from '../templates/appointment.js';
import { addressFor, hostEmail, manageLink, whatsappContent } from './channels.js';
import { followUpOptions, type AppointmentDeps } from './deps.js';
import { jobIds, messageJobId, type Channel } from './ids.js';
import { linkOf } from './meeting.js';
import type { StoredAppointment } from './store.js';

export interface Notified {
  /** Job ids added (or already there: a replay re-adds the same ids, BullMQ keeps one). */
  queued: { channel: Channel; jobId: string }[];
  /** Channels that could not reach the attendee, and why. */
  unreachable: string[];
}

/**
 * Tells the attendee through the channel queues, never through providers: each message is
 * an ordinary `send` job with an id made of appointment, kind and version, and carries a
 * `ref` saying what it is for (the timeline and channel fallback read it). `fallbackOf`:
 * the send this one replaces on another channel (README "Channel fallback").
 */
export async function notifyAttendee(
  deps: Pick<AppointmentDeps, 'config' | 'queue'>,
  s: StoredAppointment,
  kind: TemplateKind,
  /** The id's step: the kind, for every attendee notice (the timeline computes ids from kinds). */
  step: string,
  channels: readonly Channel[],
  fallbackOf?: string,
): Promise<Notified> {
  const a = s.appointment;
  if (!a) return { queued: [], unreachable: channels.map((c) => `${c}: appointment details unknown`) };
  const view = { ...a, link: linkOf(s), manageLink: manageLink(deps.config, a.id) };
  const r = renderAppointment(kind, view, deps.config.defaults);
  // A reminder that waits in a backlogged channel queue must not arrive once the appointment has begun.
  const expiresAt = kind === 'J-1' || kind === 'H-1' ? a.scheduledAt : undefined;
  const out: Notified = { queued: [], unreachable: [] };
  for (const channel of channels) {
    const to = addressFor(a, channel);
    if (!to) {
      out.unreachable.push(`${channel}: the attendee has no ${channel === 'email' ? 'email' : 'phone'}`);
      continue;
    }
    const ref: MessageRef = { appointmentId: s.id, kind, version: s.version, recipient: 'attendee', ...(fallbackOf && { fallbackOf }) };
    const jobId = jobIds.message(s.id, step, s.version, channel);
    const payload: EmailJobPayload | SmsJobPayload | WhatsAppJobPayload =
      channel === 'email'
        ? { to, subject: r.email.subject, html: r.email.html, text: r.email.text, expiresAt, ref }
        : channel === 'whatsapp'
          ? { to, ...(whatsappContent(deps.config, kind, view, r) ?? { body: r.sms }), expiresAt, ref }
          : { to, body: r.sms, expiresAt, ref };
    await deps.queue(channel).add('send', payload, followUpOptions(deps.config, jobId));
    out.queued.push({ channel, jobId });
  }
  return out;
}

/**
 * The host's email of a booking, move or cancellation (README "The host is told"): their
 * own wording, the same invitation. Returns the job id, or nothing when the host is not told.
 */
export async function notifyHost(deps: Pick<AppointmentDeps, 'config' | 'queue'>, s: StoredAppointment, kind: HostKind): Promise<string | undefined> {
  const a = s.appointment;
  const to = a && hostEmail(a);
  if (!a || !to) return undefined;
  const r = renderAppointment(kind, { ...a, link: linkOf(s) }, deps.config.defaults, 'host');
  const ref: MessageRef = { appointmentId: s.id, kind, version: s.version, recipient: 'host' };
  const jobId = messageJobId(ref, 'email');
  const payload: EmailJobPayload = { to, subject: r.email.subject, html: r.email.html, text: r.email.text, ref };
  await deps.queue('email').add('send', payload, followUpOptions(deps.config, jobId));
  return jobId;
}
