import type { Appointment, AppointmentCancelled } from '../contract/schemas.js';
import { stableJson } from '../contract/stable-json.js';
import { linkOf, needsMeeting } from './meeting.js';
import type { AppliedKind, StoredAppointment } from './store.js';

export type AppointmentEvent =
  | { name: 'booked' | 'rescheduled'; id: string; at: number; key: string; hash: string; payload: Appointment }
  | { name: 'cancelled'; id: string; at: number; key: string; hash: string; payload: AppointmentCancelled };

export type Decision =
  | { action: 'skip'; reason: string }
  /** The same job ran before and stopped half-way: finish its follow-ups (same ids). */
  | { action: 'resume'; stored: StoredAppointment }
  | { action: 'apply'; next: StoredAppointment; clear: string[] };

/** Marks a booking's content: the same booking pushed again, even as another job, is one booking. */
export const bookedMark = (hash: string) => `booked#${hash}`;

/**
 * What an event does to the stored appointment. Order comes from when events were pushed
 * (the job's timestamp): an event older than the applied one is stale and loses, so a
 * delayed `rescheduled` cannot undo a newer move or revive a cancelled appointment.
 */
export function decide(
  ev: AppointmentEvent,
  stored: StoredAppointment | undefined,
  seen: { event: boolean; content: boolean },
): Decision {
  const skip = (reason: string): Decision => ({ action: 'skip', reason });
  if (seen.event) {
    if (stored && stored.lastEvent === ev.key && stored.done < stored.version) return { action: 'resume', stored };
    return skip('replay: this event was already applied');
  }
  // A booking is by nature the first event: pushed in the same millisecond as the applied
  // (active) state, it is the older one. Other ties go to the event handled last.
  const tieLoses = ev.name === 'booked' && stored?.status === 'active' && ev.at === stored.eventAt;
  if (stored && (ev.at < stored.eventAt || tieLoses))
    return skip(`stale: a newer event (version ${stored.version}, ${stored.status}) is already applied`);

  const base = { id: ev.id, eventAt: ev.at, lastEvent: ev.key, done: 0, version: (stored?.version ?? 0) + 1 };
  const next = (kind: AppliedKind, rest: Partial<StoredAppointment>): StoredAppointment => ({
    ...base,
    status: 'active',
    lastKind: kind,
    changes: { time: true, meeting: true },
    ...(stored?.meeting && { meeting: stored.meeting }),
    ...rest,
  });

  if (ev.name === 'cancelled') {
    if (stored?.status === 'cancelled') return skip('already cancelled');
    return {
      action: 'apply',
      next: next('cancel', {
        status: 'cancelled',
        ...(stored?.appointment && { appointment: stored.appointment }),
        ...(ev.payload.reason !== undefined && { reason: ev.payload.reason }),
      }),
      clear: [],
    };
  }

  const a = ev.payload;
  // A fresh booking: nothing known, or booked again after a cancellation (its meeting was deleted).
  const book = (): Decision => {
    const { meeting: _dropped, ...rest } = next('book', { appointment: a });
    return { action: 'apply', next: rest, clear: ['meeting', 'reason'] };
  };
  if (ev.name === 'booked') {
    if (seen.content) return skip('duplicate: this booking was already handled');
    if (!stored?.appointment || stored.status === 'cancelled') return book();
  } else {
    if (stored?.status === 'cancelled') return skip('cancelled: a cancelled appointment is not rescheduled; book it again');
    if (!stored?.appointment) return book(); // a move of an appointment never seen: handled as its booking
  }
  // An update of an active appointment (`rescheduled`, or `booked` again with other content).
  const prev = stored.appointment;
  if (stableJson(prev) === stableJson(a)) return skip('unchanged: the stored appointment is already this one');
  const time = Date.parse(prev.scheduledAt) !== Date.parse(a.scheduledAt);
  const meeting = time || prev.duration !== a.duration || (prev.timezone ?? '') !== (a.timezone ?? '');
  // The kind of meeting asked for changed (own link, no visio, the other provider, or a
  // meeting where there was none): the stored meeting goes (a Calendar invitation must not
  // point at a second link) and, if a meeting is now wanted, a new one is made.
  const wants = needsMeeting(a) ? a.visioProvider : undefined;
  const wanted = needsMeeting(prev) ? prev.visioProvider : undefined;
  const meetingDropped = !!stored.meeting && stored.meeting.visioProvider !== wants;
  // Only a change of what is asked makes a meeting: a booking whose meeting was refused, or
  // whose provider is not configured, is not retried (and re-confirmed) on every move.
  const meetingWanted = wants !== undefined && wants !== wanted && stored.meeting?.visioProvider !== wants;
  const meetingKept = meetingDropped ? undefined : stored.meeting;
  // The producer's own link replaced (or now given): the attendee's confirmation holds the old one.
  const newLink = linkOf({ appointment: a, meeting: meetingKept });
  const link = newLink !== undefined && newLink !== linkOf(stored);
  const updated = next('update', {
    appointment: a,
    changes: { time, meeting, link, ...(meetingDropped && { meetingDropped }), ...(meetingWanted && { meetingWanted }) },
  });
  if (meetingDropped) {
    const { meeting: _deleted, ...rest } = updated;
    return { action: 'apply', next: rest, clear: ['reason', 'meeting'] };
  }
  return { action: 'apply', next: updated, clear: ['reason'] };
}
