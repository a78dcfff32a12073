import type { Queue } from 'bullmq';
import type { RedisClient } from '../redis.js';

/**
 * Why this exists: an idle BullMQ worker waits for its next delayed job in a blocking
 * BZPOPMIN whose timeout ends at the job's due time, but Redis only checks blocked clients'
 * timeouts when its event loop wakes, `hz` times a second (10 by default). Delayed jobs,
 * reminders included, then start up to 1000/hz ms late (p99 95 ms measured at hz 10).
 * A write to the key a worker blocks on is served at once, so at each due time this writes
 * the same "work is waiting" marker BullMQ's own scripts write (score 0, member "0"). The
 * woken worker promotes only jobs that are due by its own clock: an early or extra wake
 * costs one empty fetch, never an early job.
 */
export interface DueWaker {
  stop(): void;
}

/**
 * How often the next due time is read. A job added with a shorter delay than this may be
 * missed and then waits for Redis's own timeout check, as it would without the waker.
 */
export const DUE_WAKER_POLL_MS = 1000;

export function startDueWaker(queue: Queue, client: RedisClient, onError: (err: Error) => void, pollMs = DUE_WAKER_POLL_MS): DueWaker {
  let stopped = false;
  // Jobs due at or before `floor` have had their wake: the worker woken then promotes all of
  // them (a backlog included), so we never walk an overdue backlog one due time at a time.
  let floor = 0;
  let armed: { due: number; timer: NodeJS.Timeout } | undefined;

  const report = (err: Error) => onError(err);

  const arm = (due: number) => {
    if (stopped || (armed && armed.due <= due)) return;
    if (armed) clearTimeout(armed.timer);
    const timer = setTimeout(() => void fire(due).catch(report), Math.max(0, due - Date.now()));
    timer.unref();
    armed = { due, timer };
  };

  const look = async (): Promise<void> => {
    // BullMQ scores a delayed job by its due time × 0x1000 plus a sequence number.
    const [, score] = await client.zrangebyscore(queue.keys.delayed!, (floor + 1) * 0x1000, '+inf', 'WITHSCORES', 'LIMIT', 0, 1);
    if (score === undefined) return;
    const due = Math.floor(Number(score) / 0x1000);
    if (due - Date.now() <= pollMs) arm(due);
  };

  const fire = async (due: number): Promise<void> => {
    armed = undefined;
    // Timers run off a cached loop clock and may fire a millisecond before Date.now() says
    // the job is due; a worker woken then would find nothing due and block again.
    if (due > Date.now()) return arm(due);
    floor = Math.max(floor, due, Date.now());
    await client.zadd(queue.keys.marker!, 0, '0');
    // Reminders come in runs (every appointment at 9:00): chain to the next one now.
    await look();
  };

  const poll = setInterval(() => void look().catch(report), pollMs);
  poll.unref();
  void look().catch(report);
  return {
    stop() {
      stopped = true;
      clearInterval(poll);
      if (armed) clearTimeout(armed.timer);
    },
  };
}
