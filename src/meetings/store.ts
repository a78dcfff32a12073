import type { Config } from '../config.js';
import type { VisioKind } from '../providers/types.js';
import { key, type RedisClient } from '../redis.js';

/** The meeting this service created for an appointment: what moves and deletions need. */
export interface StoredMeeting {
  appointmentId: string;
  visioProvider: VisioKind;
  visioMeetingId: string;
  visioUrl: string;
  password?: string;
  /** The Calendar event's iCalendar UID (Google Meet). */
  icalUid?: string;
  scheduledAt: string;
  duration: number;
  /** The zone the meeting is shown in: a move that names none keeps it. */
  timezone?: string;
  /** Who owns the meeting (the result's `hostedBy`); absent on records written before hosts existed. */
  hostedBy?: string;
  hostFallback?: string;
  /** The provider's handle on the owner: moves and deletions go to the same user / calendar. */
  owner?: string;
  createdAt: string;
}

const DAY_SECONDS = 86_400;
/** Kept this long after the meeting's start (late reschedules, audits), and never less than this from now. */
const KEEP_AFTER_START_SECONDS = 90 * DAY_SECONDS;
/** An attempt marker outlives any retry schedule of a create job. */
const ATTEMPT_TTL_SECONDS = 7 * DAY_SECONDS;

/**
 * One record per appointment in Redis. Keys live under `meetings`, not `meeting`: the
 * latter is BullMQ's namespace for the meeting queue (`<prefix>:meeting:<jobId>`), where an
 * appointment id such as "1" or "wait" would overwrite a job or the queue's own keys.
 */
export class MeetingStore {
  constructor(
    private readonly connection: RedisClient,
    private readonly redis: Config['redis'],
  ) {}

  private recordKey = (appointmentId: string) => key(this.redis, 'meetings', appointmentId);
  private attemptKey = (appointmentId: string) => key(this.redis, 'meetings', appointmentId, 'attempt');
  private lockKey = (appointmentId: string) => key(this.redis, 'meetings', appointmentId, 'lock');

  /**
   * One creation at a time per appointment, across processes: two create jobs with
   * different ids (a caller's own idempotency keys) must not both ask the provider. The
   * lock expires by itself, so a crashed holder delays the next attempt at most `ms`.
   */
  async lock(appointmentId: string, ms: number): Promise<(() => Promise<void>) | undefined> {
    const token = `${process.pid}-${Date.now()}-${Math.random()}`;
    const k = this.lockKey(appointmentId);
    if ((await this.connection.set(k, token, 'PX', ms, 'NX')) === null) return undefined;
    return async () => {
      if ((await this.connection.get(k)) === token) await this.connection.del(k);
    };
  }

  async get(appointmentId: string): Promise<StoredMeeting | undefined> {
    const raw = await this.connection.get(this.recordKey(appointmentId));
    if (!raw) return undefined;
    // Records written before the field took the result's name called it `meetingId`.
    const m = JSON.parse(raw) as StoredMeeting & { meetingId?: string };
    return m.visioMeetingId === undefined && m.meetingId !== undefined ? { ...m, visioMeetingId: m.meetingId } : m;
  }

  async save(m: StoredMeeting, now = Date.now()): Promise<void> {
    const start = Date.parse(m.scheduledAt);
    const ttl = Math.max(DAY_SECONDS, Math.ceil((start - now) / 1000) + KEEP_AFTER_START_SECONDS);
    await this.connection.set(this.recordKey(m.appointmentId), JSON.stringify(m), 'EX', ttl);
  }

  async delete(appointmentId: string): Promise<void> {
    await this.connection.del(this.recordKey(appointmentId), this.attemptKey(appointmentId));
  }

  /**
   * Notes that a creation is about to be asked of the provider. Answers whether an earlier
   * attempt got this far without storing a result: its meeting may exist at the provider.
   */
  async markAttempt(appointmentId: string): Promise<boolean> {
    const first = await this.connection.set(this.attemptKey(appointmentId), String(Date.now()), 'EX', ATTEMPT_TTL_SECONDS, 'NX');
    return first === null;
  }
}
