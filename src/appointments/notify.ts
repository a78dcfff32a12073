import type { EmailPayload, MessageRef, SmsPayload, WhatsAppPayload } from '../contract/schemas.js';
import { renderAppointment, type TemplateKind } from '../templates/appointment.js';
import { addressFor } from './channels.js';
import { followUpOptions, type AppointmentDeps } from './deps.js';
import { jobIds, type Channel } from './ids.js';
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
  const r = renderAppointment(kind, { ...a, link: linkOf(s) }, deps.config.defaults);
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
    const payload: EmailPayload | SmsPayload | WhatsAppPayload =
      channel === 'email'
        ? { to, subject: r.email.subject, html: r.email.html, text: r.email.text, expiresAt, ref }
        : { to, body: r.sms, expiresAt, ref };
    await deps.queue(channel).add('send', payload, followUpOptions(deps.config, jobId));
    out.queued.push({ channel, jobId });
  }
  return out;
}
