import type { Job } from 'bullmq';
import { assertAhead, parsePayload } from '../contract/registry.js';
import { skipped, type Skipped } from '../contract/results.js';
import { appointment, appointmentCancelled } from '../contract/schemas.js';
import { noticeChannels } from './channels.js';
import { bookedMark, decide, type AppointmentEvent } from './decide.js';
import { followUpOptions, type AppointmentDeps } from './deps.js';
import { eventHash } from '../contract/stable-json.js';
import { jobIds } from './ids.js';
import { meetingCreateData, meetingDeleteData, meetingUpdateData, needsMeeting, queueMeetingDelete } from './meeting.js';
import { notifyAttendee, notifyHost } from './notify.js';
import { expiryOf, type StoredAppointment } from './store.js';
import { confirmData } from './confirm.js';

export interface EventApplied {
  status: 'booked' | 'rescheduled' | 'cancelled';
  appointmentId: string;
  version: number;
  /** True when this run finished the follow-ups of an earlier, interrupted run. */
  resumed?: boolean;
  jobs: string[];
}

export function parseEvent(job: Job): AppointmentEvent {
  const key = `${job.id}-${job.timestamp}`;
  if (job.name === 'cancelled') {
    const payload = parsePayload(appointmentCancelled, job.data);
    return { name: 'cancelled', id: payload.id, at: job.timestamp, key, hash: eventHash('cancelled', payload), payload };
  }
  const payload = parsePayload(appointment, job.data);
  // Checked against when the event was pushed: a backlog after an outage does not turn a
  // valid booking into an invalid one (its reminders are then simply no longer ahead).
  assertAhead(payload.scheduledAt, job.timestamp);
  const name = job.name as 'booked' | 'rescheduled';
  return { name, id: payload.id, at: job.timestamp, key, hash: eventHash('appointment', payload), payload };
}

const MAX_CAS_TRIES = 5;

/**
 * Applies a `booked`, `rescheduled` or `cancelled` event to the stored appointment, then
 * adds the jobs that carry it out. Every follow-up has a deterministic id, so a re-run of
 * this job (crash, stall, retry) adds nothing new.
 */
export async function handleAppointmentEvent(job: Job, deps: AppointmentDeps): Promise<EventApplied | Skipped> {
  const ev = parseEvent(job);
  const log = deps.logger.child({ appointmentId: ev.id, event: ev.name });
  for (let i = 0; i < MAX_CAS_TRIES; i++) {
    const stored = await deps.store.get(ev.id);
    const [event, content] = await deps.store.seen(ev.id, ev.key, bookedMark(ev.hash));
    const d = decide(ev, stored, { event: !!event, content: ev.name === 'booked' && !!content });
    if (d.action === 'skip') {
      log.info({ reason: d.reason }, 'appointment event ignored');
      return skipped(d.reason);
    }
    if (d.action === 'resume') return { ...(await followUps(d.stored, deps)), resumed: true };
    const marks = [ev.key, ...(ev.name === 'booked' ? [bookedMark(ev.hash)] : [])];
    const ok = await deps.store.commit(d.next, stored?.version ?? 0, { marks, clear: d.clear, expireAt: expiryOf(d.next, deps.now()) });
    if (ok) {
      log.info({ version: d.next.version, kind: d.next.lastKind }, 'appointment event applied');
      return followUps(d.next, deps);
    }
    // Another event was applied between our read and write: read again and decide again.
  }
  throw new Error(`appointment ${ev.id} kept changing under concurrent events; will retry`);
}

async function followUps(s: StoredAppointment, deps: AppointmentDeps): Promise<EventApplied> {
  const jobs =
    s.lastKind === 'book' ? await book(s, deps) : s.lastKind === 'update' ? await update(s, deps) : await cancel(s, deps);
  await deps.store.markDone(s.id, s.version);
  const status = s.lastKind === 'book' ? 'booked' : s.lastKind === 'update' ? 'rescheduled' : 'cancelled';
  return { status, appointmentId: s.id, version: s.version, jobs };
}

/**
 * The confirmation waits for the meeting: a flow whose parent (`confirm`, on this queue)
 * runs once the meeting `create` child is done, or has failed for good
 * (ignoreDependencyOnFailure), then sends the email with whatever link there is and
 * schedules the reminders.
 */
async function book(s: StoredAppointment, deps: AppointmentDeps): Promise<string[]> {
  const a = s.appointment!;
  // Reminders do not wait for the meeting (a provider outage, or no meeting worker running,
  // must not cost the attendee their reminders): they read the link when they fire. The
  // confirm step schedules them again, same ids, for the version current by then.
  const reminders = await deps.reminders.schedule(s, deps.now());
  const confirmId = jobIds.confirm(s.id, s.version);
  if (await deps.queue('appointment').getJob(confirmId)) return [confirmId, ...reminders]; // replay: already added
  if (!needsMeeting(a)) {
    await deps.queue('appointment').add('confirm', confirmData(s), followUpOptions(deps.config, confirmId));
    return [confirmId, ...reminders];
  }
  return [...(await confirmAfterMeeting(s, a, deps, false)), ...reminders];
}

/**
 * The flow of a confirm step waiting for a new meeting; with `deleteFirst`, the meeting
 * stored for the appointment is deleted before the new one is made (one per appointment).
 */
async function confirmAfterMeeting(
  s: StoredAppointment,
  a: Parameters<typeof meetingCreateData>[0],
  deps: AppointmentDeps,
  deleteFirst: boolean,
): Promise<string[]> {
  const ids = { confirm: jobIds.confirm(s.id, s.version), create: jobIds.meetingCreate(s.id, s.version), remove: jobIds.meetingDelete(s.id, s.version) };
  const child = (id: string) => ({ ...followUpOptions(deps.config, id), ignoreDependencyOnFailure: true });
  await deps.flow().add({
    name: 'confirm',
    queueName: 'appointment',
    data: confirmData(s, s.lastKind === 'update'),
    opts: followUpOptions(deps.config, ids.confirm),
    children: [
      {
        name: 'create',
        queueName: 'meeting',
        data: meetingCreateData(a, deps.config.defaults),
        opts: child(ids.create),
        ...(deleteFirst && { children: [{ name: 'delete', queueName: 'meeting', data: meetingDeleteData(s.id), opts: child(ids.remove) }] }),
      },
    ],
  });
  return [ids.confirm, ids.create, ...(deleteFirst ? [ids.remove] : [])];
}

async function update(s: StoredAppointment, deps: AppointmentDeps): Promise<string[]> {
  const a = s.appointment!;
  const jobs: string[] = [];
  // Remove first, then add: a stale reminder that escapes removal (it was running) finds
  // the new version in the store when it checks, and sends nothing.
  await deps.reminders.removeExcept(s.id, s.version);
  jobs.push(...(await deps.reminders.schedule(s, deps.now())));
  if (s.changes.meetingWanted && needsMeeting(a)) {
    // Another kind of meeting: its own confirm step sends the confirmation with the new link.
    const confirmId = jobIds.confirm(s.id, s.version);
    if (await deps.queue('appointment').getJob(confirmId)) jobs.push(confirmId); // replay: already added
    else jobs.push(...(await confirmAfterMeeting(s, a, deps, !!s.changes.meetingDropped)));
  } else if (s.changes.meetingDropped) jobs.push(await queueMeetingDelete(deps, s));
  else if (s.meeting && s.changes.meeting) {
    const id = jobIds.meetingUpdate(s.id, s.version);
    await deps.queue('meeting').add('update', meetingUpdateData(a, deps.config.defaults), followUpOptions(deps.config, id));
    jobs.push(id);
  }
  if (s.changes.time) {
    const n = await notifyAttendee(deps, s, 'rescheduled', 'rescheduled', noticeChannels(a));
    jobs.push(...n.queued.map((q) => q.jobId));
    const host = await notifyHost(deps, s, 'rescheduled');
    if (host) jobs.push(host);
  } else if (s.changes.link) {
    // Same time, new link: the confirmation again, carrying it (a move's notice carries it
    // anyway). Its ids are the ones a booking's confirm step still waiting for its meeting
    // would use for this version, so the attendee never gets that email twice.
    const n = await notifyAttendee(deps, s, 'confirmation', 'confirmation', noticeChannels(a));
    jobs.push(...n.queued.map((q) => q.jobId));
  }
  return jobs;
}

async function cancel(s: StoredAppointment, deps: AppointmentDeps): Promise<string[]> {
  const jobs: string[] = [];
  await deps.reminders.removeExcept(s.id);
  if (s.meeting) jobs.push(await queueMeetingDelete(deps, s));
  // Cancelling what already took place is bookkeeping: the attendee is not told.
  if (s.appointment && Date.parse(s.appointment.scheduledAt) > deps.now()) {
    const n = await notifyAttendee(deps, s, 'cancelled', 'cancelled', noticeChannels(s.appointment));
    jobs.push(...n.queued.map((q) => q.jobId));
    const host = await notifyHost(deps, s, 'cancelled');
    if (host) jobs.push(host);
  }
  return jobs;
}
