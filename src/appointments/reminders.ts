import type { Job, Queue } from 'bullmq';
import { z } from 'zod';
import type { RedisClient } from '../redis.js';
import { zonedDateTime } from '../contract/schemas.js';
import { jobIds, type ReminderName } from './ids.js';
import type { AppointmentStore, StoredAppointment } from './store.js';

const HOUR = 3_600_000;

/** How long before `scheduledAt` each reminder fires (README "Appointment lifecycle"). */
export const REMINDER_OFFSETS: Record<ReminderName, number> = { 'J-1': 24 * HOUR, 'H-1': HOUR };
export const REMINDER_NAMES = Object.keys(REMINDER_OFFSETS) as ReminderName[];

/**
 * A `reminder` job's payload: the version and time it was made for, checked when it fires.
 * The fire time is not stored: it is `scheduledAt` minus the reminder's offset (the job's
 * name). `fireAt` is only read from jobs stored before it was dropped.
 */
export const reminderData = z.object({
  appointmentId: z.string().min(1),
  version: z.number().int().min(1),
  scheduledAt: zonedDateTime,
  fireAt: zonedDateTime.optional(),
});
export type ReminderData = z.infer<typeof reminderData>;

/** When a reminder is meant to fire: `scheduledAt` minus its offset. */
export function fireTimeOf(name: ReminderName, scheduledAt: string): number {
  return Date.parse(scheduledAt) - REMINDER_OFFSETS[name];
}

/** The reminders whose moment is still ahead. */
export function planReminders(scheduledAt: string, now: number): { name: ReminderName; fireAt: number }[] {
  return REMINDER_NAMES.map((name) => ({ name, fireAt: fireTimeOf(name, scheduledAt) })).filter((r) => r.fireAt > now);
}

export interface PendingReminder {
  id: string;
  name: ReminderName;
  fireAt: string;
  state: string;
}

const PENDING = new Set(['delayed', 'waiting', 'prioritized', 'active', 'waiting-children']);

/** Removals in flight at once (a long-lived appointment may have many versions). */
const REMOVE_CHUNK = 200;

/**
 * The reminders of one appointment: one delayed job each in the `reminder` queue. No record
 * of them is kept: their ids are computed from the appointment id, the reminder name and
 * the version, and versions only grow, so the ids of every version up to the stored one are
 * known (see removeExcept).
 */
export class Reminders {
  private readonly reminderQueue: () => Queue;

  constructor(
    /** The `reminder` queue, or a getter so that processes never touching reminders do not open it. */
    queue: Queue | (() => Queue),
    /** The queue's Redis connection (existence checks before removing). */
    private readonly connection: RedisClient,
    private readonly store: AppointmentStore,
  ) {
    this.reminderQueue = typeof queue === 'function' ? queue : () => queue;
  }

  /**
   * Adds the reminders of `s` (its version) still ahead at `now`, and returns their ids. If
   * another event was applied meanwhile, what was just added is stale and removed again:
   * with the removal done by that event, no interleaving leaves a stale reminder pending.
   *
   * The jobs carry no retry options: the worker runtime applies the service's retry policy
   * to jobs that have none (applyRetryPolicy in src/worker/runtime.ts).
   */
  async schedule(s: StoredAppointment, now: number): Promise<string[]> {
    const a = s.appointment;
    if (!a || s.status !== 'active') return [];
    if (a.reminderChannels && a.reminderChannels.length === 0) return []; // explicitly no reminders
    const plan = planReminders(a.scheduledAt, now);
    if (plan.length === 0) return [];
    const ids = plan.map((r) => jobIds.reminder(s.id, r.name, s.version));
    const data: ReminderData = { appointmentId: s.id, version: s.version, scheduledAt: a.scheduledAt };
    for (const [i, r] of plan.entries()) {
      // BullMQ fires at timestamp + delay, its timestamp being its own clock when adding: the
      // delay is taken from that clock too (an explicit `timestamp` would be stored twice).
      await this.reminderQueue().add(r.name, data, { jobId: ids[i], delay: Math.max(0, r.fireAt - Date.now()) });
    }
    // Added, then checked. An event applied at version V (> ours) commits V, then removes
    // the reminders of every version below V (removeExcept), ours included. If that removal
    // ran after our add, it removed ours; if it ran before, its commit preceded this read,
    // which then sees V, and we remove our own. No interleaving leaves ours pending.
    const current = await this.store.get(s.id);
    if (!current || current.status !== 'active' || current.version !== s.version) {
      await this.remove(ids);
      return [];
    }
    return ids;
  }

  /**
   * Removes the reminders of every version from 1 to the stored one except `keepVersion`
   * (all when undefined), and returns the ids removed. Ids are deterministic and versions
   * grow one by one, so no record is needed: ids that were never added, or were already
   * removed, are skipped. A reminder already running cannot be removed (BullMQ keeps active
   * jobs); it finds the new version when it reads the store, and sends nothing.
   */
  async removeExcept(id: string, keepVersion?: number): Promise<string[]> {
    const upTo = (await this.store.version(id)) ?? 0;
    const ids: string[] = [];
    for (let v = 1; v <= upTo; v++) {
      if (v === keepVersion) continue;
      for (const name of REMINDER_NAMES) ids.push(jobIds.reminder(id, name, v));
    }
    return this.remove(ids);
  }

  /**
   * Removes those of `jobIds` that exist, in chunks of concurrent calls. The EXISTS first:
   * BullMQ's removal of a missing job still scans the wait, paused and active lists.
   * A job added after its EXISTS is for a version already superseded by the caller's read
   * of the store, and its own post-add check (schedule) removes it.
   */
  private async remove(jobIds: string[]): Promise<string[]> {
    const queue = this.reminderQueue();
    const removed: string[] = [];
    for (let i = 0; i < jobIds.length; i += REMOVE_CHUNK) {
      const chunk = jobIds.slice(i, i + REMOVE_CHUNK);
      const exists = await Promise.all(chunk.map((jobId) => this.connection.exists(queue.toKey(jobId))));
      const present = chunk.filter((_, k) => exists[k] === 1);
      const codes = await Promise.all(
        present.map((jobId) =>
          queue.remove(jobId).catch(() => 0), // an active job: it will check the store and skip
        ),
      );
      removed.push(...present.filter((_, k) => codes[k] === 1));
    }
    return removed;
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
    const d = job.data as Partial<ReminderData>;
    const fireAt = d.fireAt ?? new Date(d.scheduledAt ? fireTimeOf(name, d.scheduledAt) : job.timestamp + (job.delay ?? 0)).toISOString();
    found.push({ id: job.id!, name, fireAt, state });
  }
  return found.sort((a, b) => a.fireAt.localeCompare(b.fireAt));
}
