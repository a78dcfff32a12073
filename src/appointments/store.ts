import type { Config } from '../config.js';
import type { Appointment } from '../contract/schemas.js';
import { key, type RedisClient } from '../redis.js';

/** A meeting the service created for the appointment (the meeting queue's `created` result). */
export interface MeetingInfo {
  visioProvider: 'ZOOM' | 'GOOGLE_MEET';
  visioUrl: string;
  visioMeetingId: string;
  /** The Calendar event's iCalendar UID: the emailed invitation uses it (one calendar entry). */
  icalUid?: string;
}

/** What the last applied event asked for; a replay resumes exactly these follow-ups. */
export type AppliedKind = 'book' | 'update' | 'cancel';

/**
 * The latest state of one appointment. `version` grows by one per applied event; every
 * job derived from the appointment carries the version it was made for, and a job whose
 * version is no longer the stored one does nothing (a moved or cancelled appointment).
 */
export interface StoredAppointment {
  id: string;
  version: number;
  status: 'active' | 'cancelled';
  /** When the applied event was pushed (its job's timestamp): older events lose. */
  eventAt: number;
  /** The applied event's job (id and timestamp): recognises a re-run of the same job. */
  lastEvent: string;
  lastKind: AppliedKind;
  /**
   * For an update: did the time move (notify, move the meeting), the meeting's length or
   * zone (move it), the link the attendee holds (tell them the new one); is the stored
   * meeting no longer wanted (delete it), and is a meeting of another kind wanted (make it).
   */
  changes: { time: boolean; meeting: boolean; link?: boolean; meetingDropped?: boolean; meetingWanted?: boolean };
  /** Absent for a cancellation of an appointment never seen (a tombstone). */
  appointment?: Appointment;
  reason?: string;
  meeting?: MeetingInfo;
  /**
   * The UID of the first calendar invitation sent, kept for the appointment's life so that
   * a later one (after a move away from Google Meet, say) updates that calendar entry.
   */
  invitationUid?: string;
  /** The version whose follow-up jobs were all added. */
  done: number;
}

const DAY = 86_400_000;

/** Kept until a day after the appointment ends; a tombstone (cancel of an unknown id) a week. */
export function expiryOf(s: Pick<StoredAppointment, 'appointment'>, now: number): number {
  const a = s.appointment;
  if (!a) return now + 7 * DAY;
  return Math.max(Date.parse(a.scheduledAt) + a.duration * 60_000 + DAY, now + DAY);
}

// Compare-and-set on the version: decisions are made in TypeScript from a read, and only
// written if nobody applied another event meanwhile (the caller then reads and decides again).
const COMMIT = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if cur ~= tonumber(ARGV[1]) then return 0 end
local nclear = tonumber(ARGV[3])
for i = 1, nclear do redis.call('HDEL', KEYS[1], ARGV[3 + i]) end
local nmarks = tonumber(ARGV[4 + nclear])
for i = 1, nmarks do redis.call('SADD', KEYS[2], ARGV[4 + nclear + i]) end
redis.call('HSET', KEYS[1], unpack(ARGV, 5 + nclear + nmarks))
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('PEXPIREAT', KEYS[2], ARGV[2])
return 1
`;

// The meeting is a fact about the appointment, not a new version: written whatever the version.
const SET_MEETING = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'meeting', ARGV[1])
return 1
`;

const PIN_UID = `
if redis.call('EXISTS', KEYS[1]) == 0 then return ARGV[1] end
redis.call('HSETNX', KEYS[1], 'icsUid', ARGV[1])
return redis.call('HGET', KEYS[1], 'icsUid')
`;

const MARK_DONE = `
if redis.call('HGET', KEYS[1], 'version') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'done', ARGV[1])
  return 1
end
return 0
`;

export class AppointmentStore {
  constructor(
    private readonly connection: RedisClient,
    private readonly redis: Config['redis'],
  ) {}

  /** `<prefix>:appointments:<id>`: "appointments" is no queue name, so no BullMQ key collides. */
  keys(id: string) {
    const base = key(this.redis, 'appointments', id);
    return { state: base, events: `${base}:events` };
  }

  /** The stored version alone; undefined when nothing is stored. */
  async version(id: string): Promise<number | undefined> {
    const v = await this.connection.hget(this.keys(id).state, 'version');
    return v ? Number(v) : undefined;
  }

  async get(id: string): Promise<StoredAppointment | undefined> {
    const h = await this.connection.hgetall(this.keys(id).state);
    if (!h.version) return undefined;
    return {
      id,
      version: Number(h.version),
      status: h.status === 'cancelled' ? 'cancelled' : 'active',
      eventAt: Number(h.eventAt ?? 0),
      lastEvent: h.lastEvent ?? '',
      lastKind: (h.lastKind as AppliedKind | undefined) ?? 'book',
      changes: h.changes ? JSON.parse(h.changes) : { time: false, meeting: false },
      ...(h.doc && { appointment: JSON.parse(h.doc) as Appointment }),
      ...(h.reason && { reason: h.reason }),
      ...(h.meeting && { meeting: JSON.parse(h.meeting) as MeetingInfo }),
      ...(h.icsUid && { invitationUid: h.icsUid }),
      done: Number(h.done ?? 0),
    };
  }

  /** Which of `members` (event keys, content marks) were recorded by earlier commits. */
  async seen(id: string, ...members: string[]): Promise<boolean[]> {
    const k = this.keys(id).events;
    return Promise.all(members.map(async (m) => (await this.connection.sismember(k, m)) === 1));
  }

  /**
   * Writes `next` if the stored version is still `expectedVersion`, recording `marks` in the
   * events set. `clear` names fields the new version must not inherit (e.g. a deleted meeting).
   */
  async commit(next: StoredAppointment, expectedVersion: number, opts: { marks: string[]; clear: string[]; expireAt: number }): Promise<boolean> {
    const k = this.keys(next.id);
    const fields: string[] = [
      'version', String(next.version),
      'status', next.status,
      'eventAt', String(next.eventAt),
      'lastEvent', next.lastEvent,
      'lastKind', next.lastKind,
      'changes', JSON.stringify(next.changes),
      'done', String(next.done),
      ...(next.appointment ? ['doc', JSON.stringify(next.appointment)] : []),
      ...(next.reason !== undefined ? ['reason', next.reason] : []),
    ];
    const args = [
      String(expectedVersion),
      String(Math.round(opts.expireAt)),
      String(opts.clear.length),
      ...opts.clear,
      String(opts.marks.length),
      ...opts.marks,
      ...fields,
    ];
    const ok = await this.connection.eval(COMMIT, 2, k.state, k.events, ...args);
    return ok === 1;
  }

  /** Records the created meeting and returns the state as it is now (possibly newer than the caller's). */
  async setMeeting(id: string, meeting: MeetingInfo): Promise<StoredAppointment | undefined> {
    await this.connection.eval(SET_MEETING, 1, this.keys(id).state, JSON.stringify(meeting));
    return this.get(id);
  }

  /** Forgets the meeting (it is being deleted): links fall back to the producer's own, if any. */
  async clearMeeting(id: string): Promise<void> {
    await this.connection.hdel(this.keys(id).state, 'meeting');
  }

  /** The invitation UID of the appointment: the one pinned by its first invitation, else `uid`, pinned now. */
  async pinInvitationUid(id: string, uid: string): Promise<string> {
    return String(await this.connection.eval(PIN_UID, 1, this.keys(id).state, uid));
  }

  async markDone(id: string, version: number): Promise<void> {
    await this.connection.eval(MARK_DONE, 1, this.keys(id).state, String(version));
  }
}
