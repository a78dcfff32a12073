import type { Config } from '../config.js';
import type { Appointment, MeetingCreatePayload } from '../contract/schemas.js';
import { followUpOptions, type AppointmentDeps } from './deps.js';
import { jobIds } from './ids.js';
import type { MeetingInfo, StoredAppointment } from './store.js';

/** README "Appointment lifecycle": a meeting is created for ZOOM / GOOGLE_MEET when the producer gave no link. */
export function needsMeeting(a: Appointment): a is Appointment & { visioProvider: 'ZOOM' | 'GOOGLE_MEET' } {
  return (a.visioProvider === 'ZOOM' || a.visioProvider === 'GOOGLE_MEET') && !a.visioUrl;
}

/** The link messages carry: the producer's own `visioUrl` wins over a created meeting's. */
export function linkOf(s: Pick<StoredAppointment, 'appointment' | 'meeting'>): string | undefined {
  return s.appointment?.visioUrl ?? s.meeting?.visioUrl ?? undefined;
}

export function meetingCreateData(a: Appointment & { visioProvider: 'ZOOM' | 'GOOGLE_MEET' }, defaults: Config['defaults']): MeetingCreatePayload {
  const attendees = [a.host?.email, a.attendee.email].filter((e): e is string => !!e);
  return {
    appointmentId: a.id,
    scheduledAt: a.scheduledAt,
    duration: a.duration,
    visioProvider: a.visioProvider,
    topic: a.title,
    timezone: a.timezone ?? defaults.timezone,
    ...(attendees.length > 0 && { attendees: [...new Set(attendees)] }),
    // The meeting is owned by the host where the provider is set up for it (README "Meetings owned by the host").
    ...(a.host?.email && { hostEmail: a.host.email }),
  };
}

/** The meeting queue's `update` job (implemented by the meetings module). */
export function meetingUpdateData(a: Appointment, defaults: Config['defaults']) {
  return { appointmentId: a.id, scheduledAt: a.scheduledAt, duration: a.duration, timezone: a.timezone ?? defaults.timezone };
}

/** The meeting queue's `delete` job. */
export const meetingDeleteData = (appointmentId: string) => ({ appointmentId });

/** Adds the `delete` job for this version: the same id whichever step adds it, so one job. */
export async function queueMeetingDelete(deps: Pick<AppointmentDeps, 'config' | 'queue'>, s: Pick<StoredAppointment, 'id' | 'version'>): Promise<string> {
  const id = jobIds.meetingDelete(s.id, s.version);
  await deps.queue('meeting').add('delete', meetingDeleteData(s.id), followUpOptions(deps.config, id));
  return id;
}

/** Reads a meeting `create` result; anything but `created` with a link means no meeting. */
export function meetingFromResult(value: unknown): MeetingInfo | undefined {
  const v = value as Partial<MeetingInfo> & { status?: string };
  if (v?.status !== 'created' || typeof v.visioUrl !== 'string' || !v.visioUrl) return undefined;
  if (v.visioProvider !== 'ZOOM' && v.visioProvider !== 'GOOGLE_MEET') return undefined;
  return {
    visioProvider: v.visioProvider,
    visioUrl: v.visioUrl,
    visioMeetingId: String(v.visioMeetingId ?? ''),
    ...(typeof v.icalUid === 'string' && v.icalUid && { icalUid: v.icalUid }),
  };
}
