import { permanent, transient } from '../contract/errors.js';
import { skipped, type MeetingCreated, type MeetingDeleted, type MeetingUpdated, type Skipped } from '../contract/results.js';
import type { MeetingCreatePayload, MeetingDeletePayload, MeetingUpdatePayload } from '../contract/schemas.js';
import type { MeetingStore, StoredMeeting } from './store.js';
import type { CreatedMeeting, MeetingProvider, VisioKind } from '../providers/types.js';
import { maskRecipient, type Logger } from '../logger.js';

export interface MeetingDeps {
  providers: Partial<Record<VisioKind, MeetingProvider>>;
  store: MeetingStore;
  defaultTimezone: string;
  /** Topic when the payload has none. */
  defaultTopic: string;
  /** Told which provider the job turned out to use, for the log line. */
  onProvider?: (kind: VisioKind) => void;
  /** For the warning when a meeting could not be created as its host. */
  logger?: Pick<Logger, 'warn'>;
}

const NOT_CONFIGURED: Record<VisioKind, string> = {
  ZOOM: 'Zoom is not configured: set ZOOM_API_KEY, ZOOM_API_SECRET and ZOOM_ACCOUNT_ID (a Server-to-Server OAuth app)',
  GOOGLE_MEET:
    'Google Meet is not configured: set GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and GOOGLE_REFRESH_TOKEN, or GOOGLE_SERVICE_ACCOUNT_KEY (domain-wide delegation)',
};

const created = (m: StoredMeeting): MeetingCreated => ({
  status: 'created',
  visioProvider: m.visioProvider,
  visioUrl: m.visioUrl,
  visioMeetingId: m.visioMeetingId,
  ...(m.password && { password: m.password }),
  ...(m.hostedBy && { hostedBy: m.hostedBy }),
  ...(m.hostFallback && { hostFallback: m.hostFallback }),
  ...(m.icalUid && { icalUid: m.icalUid }),
});

/**
 * One meeting per appointment, whatever the retries, replays and crashes: the stored
 * record is returned when there is one, and written before this returns when there is not.
 */
export async function createMeeting(p: MeetingCreatePayload, deps: MeetingDeps): Promise<MeetingCreated | Skipped> {
  deps.onProvider?.(p.visioProvider);
  const stored = await deps.store.get(p.appointmentId);
  if (stored) {
    if (stored.visioProvider === p.visioProvider) return created(stored);
    throw permanent(
      'PROVIDER_REJECTED',
      `appointment ${p.appointmentId} already has a ${stored.visioProvider} meeting; delete it before creating a ${p.visioProvider} one`,
    );
  }
  const provider = deps.providers[p.visioProvider];
  if (!provider) return skipped(NOT_CONFIGURED[p.visioProvider]);

  const spec = {
    appointmentId: p.appointmentId,
    topic: p.topic ?? deps.defaultTopic,
    startTime: p.scheduledAt,
    durationMinutes: p.duration,
    timezone: p.timezone ?? deps.defaultTimezone,
    ...(p.attendees && { attendees: p.attendees }),
    ...(p.hostEmail && { hostEmail: p.hostEmail }),
  };
  const unlock = await deps.store.lock(p.appointmentId, CREATE_LOCK_MS);
  // Retried with backoff: by then the holder has stored its meeting, and the check above returns it.
  if (!unlock) throw transient(`a meeting for appointment ${p.appointmentId} is being created by another job`);
  try {
    const again = await deps.store.get(p.appointmentId); // stored while we waited for the lock
    if (again) return created(again);
    // An earlier attempt that reached the provider but stored nothing (timeout, crash) may
    // have created the meeting: look for it before creating another.
    const retried = await deps.store.markAttempt(p.appointmentId);
    const meeting = (retried && (await provider.recover?.(spec))) || (await provider.create(spec));
    if (meeting.hostFallback)
      deps.logger?.warn(
        { appointmentId: p.appointmentId, host: p.hostEmail && maskRecipient(p.hostEmail), hostedBy: maskEmails(meeting.hostedBy) },
        `${p.visioProvider} meeting not created as its host: ${maskEmails(meeting.hostFallback)}`,
      );
    return created(await store(p, spec.timezone, meeting, deps));
  } finally {
    await unlock();
  }
}

/** Long enough for a provider call with its timeout and Google's conference polling. */
const CREATE_LOCK_MS = 60_000;

async function store(
  p: MeetingCreatePayload,
  timezone: string,
  meeting: CreatedMeeting,
  deps: MeetingDeps,
): Promise<StoredMeeting> {
  const record: StoredMeeting = {
    appointmentId: p.appointmentId,
    visioProvider: p.visioProvider,
    visioMeetingId: meeting.visioMeetingId,
    visioUrl: meeting.visioUrl,
    ...(meeting.password && { password: meeting.password }),
    hostedBy: meeting.hostedBy,
    ...(meeting.hostFallback && { hostFallback: meeting.hostFallback }),
    ...(meeting.owner && { owner: meeting.owner }),
    ...(meeting.icalUid && { icalUid: meeting.icalUid }),
    scheduledAt: p.scheduledAt,
    duration: p.duration,
    timezone,
    createdAt: new Date().toISOString(),
  };
  await deps.store.save(record);
  return record;
}

/** Moves and deletions go to the owner the meeting was created under. */
const ownerOf = (m: StoredMeeting) => m.owner ?? m.hostedBy;

const maskEmails = (s: string) => s.replace(/[^\s<>()"'`,;:]+@[^\s<>()"'`,;:]+/g, maskRecipient);

const nothingStored = (appointmentId: string) =>
  skipped(`no meeting created by this service for appointment ${appointmentId}`);

/** Moves the meeting this service created for the appointment. */
export async function updateMeeting(p: MeetingUpdatePayload, deps: MeetingDeps): Promise<MeetingUpdated | Skipped> {
  const stored = await deps.store.get(p.appointmentId);
  if (!stored) return nothingStored(p.appointmentId);
  deps.onProvider?.(stored.visioProvider);
  const provider = deps.providers[stored.visioProvider];
  if (!provider) return skipped(NOT_CONFIGURED[stored.visioProvider]);
  const timezone = p.timezone ?? stored.timezone ?? deps.defaultTimezone;
  await provider.update(
    stored.visioMeetingId,
    { startTime: p.scheduledAt, durationMinutes: p.duration, timezone, ...(p.topic && { topic: p.topic }) },
    ownerOf(stored),
  );
  await deps.store.save({ ...stored, scheduledAt: p.scheduledAt, duration: p.duration, timezone });
  return { status: 'updated', visioProvider: stored.visioProvider, visioUrl: stored.visioUrl, visioMeetingId: stored.visioMeetingId };
}

/** Deletes the meeting this service created for the appointment; one already gone counts as deleted. */
export async function deleteMeeting(p: MeetingDeletePayload, deps: MeetingDeps): Promise<MeetingDeleted | Skipped> {
  const stored = await deps.store.get(p.appointmentId);
  if (!stored) return nothingStored(p.appointmentId);
  deps.onProvider?.(stored.visioProvider);
  const provider = deps.providers[stored.visioProvider];
  if (!provider) return skipped(NOT_CONFIGURED[stored.visioProvider]);
  await provider.remove(stored.visioMeetingId, ownerOf(stored));
  // Forgotten only once the provider confirmed: a crash in between re-runs into a 404, i.e. success.
  await deps.store.delete(p.appointmentId);
  return { status: 'deleted', visioProvider: stored.visioProvider, visioMeetingId: stored.visioMeetingId };
}
