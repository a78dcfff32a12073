import type { Job, Queue } from 'bullmq';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { RedisClient } from '../redis.js';
import { zonedDateTime } from '../jobs/schemas.js';
import { jobIds, versionOfReminderId, type ReminderName } from './ids.js';
import type { AppointmentStore, StoredAppointment } from './store.js';

const HOUR = 3_600_000;

/** How long before `scheduledAt` each reminder fires (CONTRACT §5). */
export const REMINDER_OFFSETS: Record<ReminderName, number> = { 'J-1': 24 * HOUR, 'H-1': HOUR };
export const REMINDER_NAMES = Object.keys(REMINDER_OFFSETS) as ReminderName[];

/** A `reminder` job's payload: the version and time it was made for, checked when it fires. */
export const reminderData = z.object({
  appointmentId: z.string().min(1),
  version: z.number().int().min(1),
  scheduledAt: zonedDateTime,
  fireAt: zonedDateTime,
});
export type ReminderData = z.infer<typeof reminderData>;

/** The reminders whose moment is still ahead. */
export function planReminders(scheduledAt: string, now: number): { name: ReminderName; fireAt: number }[] {
  const at = Date.parse(scheduledAt);
  return REMINDER_NAMES.map((name) => ({ name, fireAt: at - REMINDER_OFFSETS[name] })).filter((r) => r.fireAt > now);
}

export interface PendingReminder {
  id: string;
  name: ReminderName;
  fireAt: string;
  state: string;
}

const PENDING = new Set(['delayed', 'waiting', 'prioritized', 'active', 'waiting-children']);

/**
 * The reminders of one appointment: one delayed job each in the `reminder` queue, their
 * ids also kept in a set per appointment so a replacement finds every earlier one.
 */
export class Reminders {
  private readonly reminderQueue: () => Queue;

  constructor(
    /** The `reminder` queue, or a getter so that processes never touching reminders do not open it. */
    queue: Queue | (() => Queue),
    private readonly connection: RedisClient,
    private readonly store: AppointmentStore,
    private readonly jobs: Pick<Config['jobs'], 'attempts' | 'backoffMs'>,
  ) {
    this.reminderQueue = typeof queue === 'function' ? queue : () => queue;
  }

  /**
   * Adds the reminders of `s` (its version) and returns their ids. If another event was
   * applied meanwhile, what was just added is stale and removed again: with the removal
   * done by that event, no interleaving leaves a stale reminder pending.
   */
  async schedule(s: StoredAppointment, now: number): Promise<string[]> {
    const a = s.appointment;
    if (!a || s.status !== 'active') return [];
    if (a.reminderChannels && a.reminderChannels.length === 0) return []; // explicitly no reminders
    const plan = planReminders(a.scheduledAt, now);
    if (plan.length === 0) return [];
    const ids = plan.map((r) => jobIds.reminder(s.id, r.name, s.version));
    const setKey = this.store.keys(s.id).reminders;
    // Recorded before added: a crash in between leaves a member without a job, which is harmless.
    await this.connection.sadd(setKey, ...ids);
    await this.connection.pexpireat(setKey, Date.parse(a.scheduledAt) + a.duration * 60_000 + 86_400_000);
    for (const [i, r] of plan.entries()) {
      const data: ReminderData = {
        appointmentId: s.id,
        version: s.version,
        scheduledAt: a.scheduledAt,
        fireAt: new Date(r.fireAt).toISOString(),
      };
      // `timestamp` + `delay` is exactly the fire time: BullMQ fires at timestamp + delay.
      await this.reminderQueue().add(r.name, data, {
        jobId: ids[i],
        timestamp: now,
        delay: r.fireAt - now,
        attempts: this.jobs.attempts,
        backoff: { type: 'exponential', delay: this.jobs.backoffMs, jitter: 0.5 },
      });
    }
    // Recorded, added, then checked: an event applied before this read removes what it finds
    // recorded (ours included); one applied after it is seen here, and we remove our own.
    // Our own ids explicitly: that event may already have dropped them from the set.
    const current = await this.store.get(s.id);
    if (!current || current.status !== 'active' || current.version !== s.version) {
      await this.remove(s.id, ids);
      return [];
    }
    return ids;
  }

  private async remove(id: string, jobIds: string[]): Promise<string[]> {
    const setKey = this.store.keys(id).reminders;
    const removed: string[] = [];
    for (const jobId of jobIds) {
      try {
        if ((await this.reminderQueue().remove(jobId)) === 1) removed.push(jobId);
      } catch {
        /* an active job: it will check the store and skip */
      }
      await this.connection.srem(setKey, jobId);
    }
    return removed;
  }

  /**
   * Removes every recorded reminder not of `keepVersion` (all when undefined). A reminder
   * already running cannot be removed (BullMQ keeps active jobs); it finds the new version
   * when it reads the store, and sends nothing.
   */
  async removeExcept(id: string, keepVersion?: number): Promise<string[]> {
    const setKey = this.store.keys(id).reminders;
    const members = await this.connection.smembers(setKey);
    return this.remove(id, keepVersion === undefined ? members : members.filter((m) => versionOfReminderId(m) !== keepVersion));
  }
}

/** The pending reminders of the appointment's current version, soonest first. */
export async function pendingReminders(
  reminderQueue: Pick<Queue, 'getJob'>,
  store: AppointmentStore,
  id: string,
): Promise<PendingReminder[]> {
  const s = await store.get(id);
  if (!s || s.status !== 'active') return [];
  const found: PendingReminder[] = [];
  for (const name of REMINDER_NAMES) {
    const job = (await reminderQueue.getJob(jobIds.reminder(id, name, s.version))) as Job | undefined;
    if (!job) continue;
    const state = await job.getState();
    if (!PENDING.has(state)) continue;
    const fireAt = (job.data as Partial<ReminderData>).fireAt ?? new Date(job.timestamp + (job.delay ?? 0)).toISOString();
    found.push({ id: job.id!, name, fireAt, state });
  }
  return found.sort((a, b) => a.fireAt.localeCompare(b.fireAt));
}
