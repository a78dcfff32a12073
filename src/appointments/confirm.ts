import type { Job } from 'bullmq';
import { z } from 'zod';
import { parsePayload } from '../contract/registry.js';
import { skipped, type Skipped } from '../contract/results.js';
import { zonedDateTime } from '../contract/schemas.js';
import { followUpOptions, type AppointmentDeps } from './deps.js';
import { jobIds } from './ids.js';
import { meetingFromResult, meetingUpdateData, needsMeeting, queueMeetingDelete } from './meeting.js';
import { noticeChannels } from './channels.js';
import { notifyAttendee, notifyHost } from './notify.js';
import type { MeetingInfo, StoredAppointment } from './store.js';

/** The `confirm` job: the booking version it confirms and the time its meeting was created for. */
export const confirmPayload = z.object({
  appointmentId: z.string().min(1),
  version: z.number().int().min(1),
  scheduledAt: zonedDateTime,
  duration: z.number().int().min(1),
  /** Confirms a move's new kind of meeting, not a booking: told where a move's notice goes. */
  change: z.boolean().optional(),
});
export type ConfirmData = z.infer<typeof confirmPayload>;

export const confirmData = (s: StoredAppointment, change = false): ConfirmData => ({
  appointmentId: s.id,
  version: s.version,
  scheduledAt: s.appointment!.scheduledAt,
  duration: s.appointment!.duration,
  ...(change && { change }),
});

export interface Confirmed {
  status: 'confirmed';
  appointmentId: string;
  version: number;
  /**
   * `dropped`: created, then deleted because a move since no longer wants it; `existing`:
   * none made (another kind already exists for the appointment), that one is kept.
   */
  meeting: 'created' | 'existing' | 'dropped' | 'failed' | 'skipped' | 'none';
  link: boolean;
  jobs: string[];
  /** A later version's own confirm step (it asked for another kind of meeting) tells the attendee instead. */
  deferredTo?: string;
}

/**
 * Runs after the meeting child (if any) is done or has failed for good. Records the created
 * meeting, sends the confirmation (always from the latest stored version, so it never
 * shows a time that was already moved) and schedules the reminders.
 */
export async function confirmBooking(job: Job, deps: AppointmentDeps): Promise<Confirmed | Skipped> {
  const data = parsePayload(confirmPayload, job.data);
  const log = deps.logger.child({ appointmentId: data.appointmentId, version: data.version });
  const values = Object.values(await job.getChildrenValues());
  const failures = Object.values(await job.getIgnoredChildrenFailures());
  const hadChild = values.length + failures.length > 0;
  const made = values.map(meetingFromResult).find(Boolean);
  const existing = !made && hadChild ? await deps.meetings.get(data.appointmentId) : undefined;
  const created: MeetingInfo | undefined =
    made ??
    (existing && {
      visioProvider: existing.visioProvider,
      visioUrl: existing.visioUrl,
      visioMeetingId: existing.visioMeetingId,
      ...(existing.icalUid && { icalUid: existing.icalUid }),
    });
  // What the meeting was made for: an existing one may date from an earlier version's time.
  const madeFor = existing ? { ...data, scheduledAt: existing.scheduledAt, duration: existing.duration } : data;

  let meeting: Confirmed['meeting'] = hadChild ? 'skipped' : 'none';
  let s: StoredAppointment | undefined;
  const jobs: string[] = [];
  if (created) {
    meeting = existing ? 'existing' : 'created';
    if (existing) log.info({ visioProvider: existing.visioProvider }, 'no new meeting made: the appointment keeps the one it has');
    s = await deps.store.setMeeting(data.appointmentId, created);
    if (s && s.status === 'active' && s.appointment && !needsMeeting(s.appointment)) {
      // A move applied while the meeting was being created gave the producer's own link (or
      // no visio): that move found no meeting to delete, so this step deletes it.
      meeting = 'dropped';
      await deps.store.clearMeeting(s.id);
      const { meeting: _deleted, ...rest } = s;
      s = rest;
      jobs.push(await queueMeetingDelete(deps, s));
    } else if (s) jobs.push(...(await reconcileMeeting(s, madeFor, deps)));
  } else {
    s = await deps.store.get(data.appointmentId);
    if (failures.length > 0) {
      meeting = 'failed';
      // The `meeting.failed` webhook is emitted by the webhooks outcome listener when the
      // meeting job fails for good (src/webhooks/events.ts): not emitted again here.
      log.warn({ reason: failures[0] }, 'meeting creation failed for good: confirming without a link');
    } else if (hadChild) {
      log.warn({ reason: (values[0] as { reason?: string } | undefined)?.reason }, 'no meeting created: confirming without a link');
    }
  }

  if (!s?.appointment) return skipped('appointment not found: it expired or was never stored');
  if (s.status === 'cancelled') return skipped('cancelled before the confirmation was sent');
  const link = !!(s.appointment.visioUrl ?? s.meeting?.visioUrl);
  const later = s.version > data.version ? jobIds.confirm(s.id, s.version) : undefined;
  if (later && (await deps.queue('appointment').getJob(later)))
    return { status: 'confirmed', appointmentId: s.id, version: data.version, meeting, link, jobs, deferredTo: later };

  // A booking is confirmed by email; a new meeting after a move also reaches a phone-only attendee.
  const channels = data.change ? noticeChannels(s.appointment) : (['email'] as const);
  const n = await notifyAttendee(deps, s, 'confirmation', 'confirmation', channels);
  jobs.push(...n.queued.map((q) => q.jobId));
  if (n.unreachable.length > 0) log.info({ unreachable: n.unreachable }, 'no confirmation on some channels');
  // The host hears of the booking once; a move's new meeting was told with the move.
  const host = data.change ? undefined : await notifyHost(deps, s, 'confirmation');
  if (host) jobs.push(host);
  jobs.push(...(await deps.reminders.schedule(s, deps.now())));
  return { status: 'confirmed', appointmentId: s.id, version: data.version, meeting, link, jobs };
}

/**
 * The meeting was created for this booking's time; if a move or a cancellation was applied
 * while it was being created, that event found no meeting to move or delete: do it here.
 * Same ids as the event's own, so when both see it only one job exists.
 */
async function reconcileMeeting(s: StoredAppointment, data: ConfirmData, deps: AppointmentDeps): Promise<string[]> {
  if (s.status === 'cancelled') return [await queueMeetingDelete(deps, s)];
  const a = s.appointment;
  if (a && (Date.parse(a.scheduledAt) !== Date.parse(data.scheduledAt) || a.duration !== data.duration)) {
    const id = jobIds.meetingUpdate(s.id, s.version);
    await deps.queue('meeting').add('update', meetingUpdateData(a, deps.config.defaults), followUpOptions(deps.config, id));
    return [id];
  }
  return [];
}
