import type { Job } from 'bullmq';
import { parsePayload } from '../contract/registry.js';
import { skipped, type Skipped } from '../contract/results.js';
import { reminderChannels } from './channels.js';
import type { AppointmentDeps } from './deps.js';
import type { Channel, ReminderName } from './ids.js';
import { notifyAttendee } from './notify.js';
import { REMINDER_OFFSETS, reminderData, type ReminderData } from './reminders.js';
import type { StoredAppointment } from './store.js';

export interface ReminderQueued {
  status: 'queued';
  appointmentId: string;
  reminder: ReminderName;
  channels: Channel[];
  jobs: string[];
  unreachable?: string[];
}

/**
 * Why a firing reminder must send nothing, if it must not. This check is what makes the
 * remove-then-add replacement of reminders safe: whatever slipped through finds here that
 * it is no longer the appointment's reminder.
 */
export function whyNotSend(s: StoredAppointment | undefined, r: ReminderData, name: ReminderName, now: number): string | undefined {
  if (!s?.appointment) return 'appointment not found: never booked, or expired';
  if (s.status === 'cancelled') return 'cancelled';
  if (s.version !== r.version || Date.parse(s.appointment.scheduledAt) !== Date.parse(r.scheduledAt))
    return `moved: this reminder is for version ${r.version}, the appointment is at version ${s.version}`;
  const at = Date.parse(r.scheduledAt);
  if (now >= at) return 'already started: the reminder fired too late (workers down?)';
  // A J-1 that fires after the H-1 moment (workers were down) would only duplicate the H-1.
  if (name === 'J-1' && now >= at - REMINDER_OFFSETS['H-1']) return 'too late for J-1: the H-1 reminder is due';
  return undefined;
}

export async function fireReminder(job: Job, deps: AppointmentDeps): Promise<ReminderQueued | Skipped> {
  const name = job.name as ReminderName;
  const r = parsePayload(reminderData, job.data);
  const s = await deps.store.get(r.appointmentId);
  const reason = whyNotSend(s, r, name, deps.now());
  if (reason) {
    deps.logger.info({ appointmentId: r.appointmentId, reminder: name, version: r.version, reason }, 'reminder not sent');
    return skipped(reason);
  }
  const channels = reminderChannels(s!.appointment!);
  const n = await notifyAttendee(deps, s!, name, name, channels);
  if (n.queued.length === 0) return skipped(`no channel reaches the attendee (${n.unreachable.join('; ') || 'none configured'})`);
  return {
    status: 'queued',
    appointmentId: r.appointmentId,
    reminder: name,
    channels: n.queued.map((q) => q.channel),
    jobs: n.queued.map((q) => q.jobId),
    ...(n.unreachable.length > 0 && { unreachable: n.unreachable }),
  };
}
