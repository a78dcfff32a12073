/**
 * Reminders at scale: N pending reminders stored (delayed jobs of the `reminder` queue,
 * shaped as src/appointments writes them, added with addBulk in chunks), then a stream of
 * reminders due within seconds, scheduled through the real `Reminders.schedule` and fired
 * by the real reminder worker. Lateness = processedOn (handler start) - intended fire time.
 * Also: Redis bytes per pending reminder beside a raw BullMQ delayed job of the same data size.
 */
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../src/config.js';
import { jobIds, type ReminderName } from '../src/appointments/ids.js';
import { fireTimeOf, Reminders, type ReminderData } from '../src/appointments/reminders.js';
import { AppointmentStore, type StoredAppointment } from '../src/appointments/store.js';
import type { Appointment } from '../src/contract/schemas.js';
import { createService, startWorkers } from '../src/service.js';
import { discardLogger, note, rawRedis, round, sleep, summary, until, usedMemory, type Fakes } from './util.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const appointment = (id: string, scheduledAt: number): Appointment => ({
  id,
  scheduledAt: new Date(scheduledAt).toISOString(),
  duration: 30,
  title: 'Rendez-vous découverte',
  timezone: 'Europe/Paris',
  locale: 'fr',
  attendee: { name: 'Paul Durand', email: 'paul@example.com', phone: '+33612345678' },
  reminderChannels: ['sms'],
});

/** A stored, active appointment, as the appointment worker commits it for a booking. */
async function storeAppointment(store: AppointmentStore, a: Appointment, now: number): Promise<StoredAppointment> {
  const s: StoredAppointment = {
    id: a.id,
    version: 1,
    status: 'active',
    eventAt: now,
    lastEvent: `bench-${a.id}`,
    lastKind: 'book',
    changes: { time: false, meeting: false },
    appointment: a,
    done: 1,
  };
  await store.commit(s, 0, { marks: [], clear: [], expireAt: Date.parse(a.scheduledAt) + DAY });
  return s;
}

function benchConfig(redisUrl: string, prefix: string, fakes: Fakes): Config {
  return loadConfig({ NODE_ENV: 'production', REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: 'info', ...fakes.env() });
}

async function pool<T>(items: readonly T[], width: number, f: (t: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await f(items[next++]!);
  }));
}

/**
 * Bytes per pending reminder: `count` reminders through Reminders.schedule (their jobs),
 * minus the stored appointments themselves; beside `count` raw delayed jobs (default
 * options, generated ids) whose data has the same size.
 */
export async function reminderMemory(redisUrl: string, fakes: Fakes, count: number) {
  const admin = rawRedis(redisUrl);
  const now = Date.now();
  const config = benchConfig(redisUrl, 'bmem', fakes);
  const queue = new Queue('reminder', { connection: admin, prefix: 'bmem' });
  const store = new AppointmentStore(admin, config.redis);
  const reminders = new Reminders(queue, admin, store);
  try {
    await admin.flushall('SYNC');
    await queue.waitUntilReady();
    // Two reminders (J-1, H-1) per appointment, 2 to 9 days ahead.
    const ids = Array.from({ length: Math.ceil(count / 2) }, (_, i) => `apt_mem_${i}`);
    const stored: StoredAppointment[] = [];
    await pool(ids, 50, async (id) => void stored.push(await storeAppointment(store, appointment(id, now + 2 * DAY + Math.random() * 7 * DAY), now)));
    const m0 = await usedMemory(admin);
    let scheduled = 0;
    await pool(stored, 50, async (s) => {
      const ids = await reminders.schedule(s, now);
      scheduled += ids.length;
    });
    const ours = (await usedMemory(admin)) - m0;
    const sample = (await queue.getJobs(['delayed'], 0, 0))[0]!;
    const dataBytes = JSON.stringify(sample.data).length;
    const usage = async (k: string) => Number(await admin.call('MEMORY', 'USAGE', k, 'SAMPLES', '0'));
    const oursJobHash = await usage(`bmem:reminder:${sample.id}`);

    await admin.flushall('SYNC');
    await queue.waitUntilReady();
    const r0 = await usedMemory(admin);
    const pad = 'x'.repeat(Math.max(0, dataBytes - JSON.stringify({ d: '' }).length));
    for (let i = 0; i < scheduled; i += 5000)
      await queue.addBulk(
        Array.from({ length: Math.min(5000, scheduled - i) }, () => ({
          name: 'H-1',
          data: { d: pad },
          opts: { delay: 2 * DAY + Math.random() * 7 * DAY },
        })),
      );
    const raw = (await usedMemory(admin)) - r0;
    const rawSample = (await queue.getJobs(['delayed'], 0, 0))[0]!;
    const rawJobHash = await usage(`bmem:reminder:${rawSample.id}`);
    await admin.flushall('SYNC');
    const result = {
      reminders: scheduled,
      dataBytes,
      oursBytesPerReminder: round(ours / scheduled),
      rawBytesPerDelayedJob: round(raw / scheduled),
      ratio: round(ours / raw, 2),
      // MEMORY USAGE of one key each: where the difference is.
      breakdown: { oursJobHash, rawJobHash },
    };
    note(`memory per pending reminder: ours ${result.oursBytesPerReminder} B, raw delayed job ${result.rawBytesPerDelayedJob} B (${dataBytes} B of data) -> ${result.ratio}x`);
    return result;
  } finally {
    await queue.close();
    admin.disconnect();
  }
}

/** N far-future reminders shaped like Reminders.schedule's, with addBulk in chunks. */
async function loadPending(admin: Redis, queue: Queue, n: number, chunk: number) {
  const now = Date.now();
  const m0 = await usedMemory(admin);
  const t0 = performance.now();
  const batch = (from: number) =>
    Array.from({ length: Math.min(chunk, n - from) }, (_, k) => {
      const i = from + k;
      const name = i % 2 === 0 ? ('J-1' as const) : ('H-1' as const);
      const appointmentId = `apt_${Math.floor(i / 2)}`;
      const scheduledAt = now + 3 * DAY + (Math.floor(i / 2) % 100_000) * 5_000; // over ~6 days
      const fireAt = scheduledAt - (name === 'J-1' ? DAY : HOUR);
      const data: ReminderData = { appointmentId, version: 1, scheduledAt: new Date(scheduledAt).toISOString() };
      return { name, data, opts: { jobId: jobIds.reminder(appointmentId, name, 1), delay: fireAt - now } };
    });
  // Two chunks in flight: the next one is serialised while Redis runs the current one.
  let next = 0;
  const claim = () => (next += chunk) - chunk;
  await Promise.all(
    [0, 1].map(async () => {
      for (let from = claim(); from < n; from = claim()) {
        await queue.addBulk(batch(from));
        if (from % 100_000 === 0 && from > 0) note(`  ${from} reminders stored`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const bytes = (await usedMemory(admin)) - m0;
  return { count: n, seconds: round(seconds), perS: round(n / seconds), usedMemoryMiB: round(bytes / 1048576), bytesPerReminder: round(bytes / n) };
}

/** `count` appointments 1 h + lead..lead+spread from now: only their H-1 is ahead, due in seconds. */
async function stream(config: Config, admin: Redis, queue: Queue, count: number, leadMs: number, spacingMs: number, tag: string) {
  const store = new AppointmentStore(admin, config.redis);
  const reminders = new Reminders(queue, admin, store);
  const now = Date.now();
  const ids: string[] = [];
  await pool(Array.from({ length: count }, (_, i) => i), 20, async (i) => {
    const s = await storeAppointment(store, appointment(`apt_due_${tag}_${i}`, now + HOUR + leadMs + i * spacingMs), now);
    ids.push(...(await reminders.schedule(s, now)));
  });
  if (Date.now() - now > leadMs) note(`  warning: scheduling the due reminders took ${Date.now() - now} ms, more than the ${leadMs} ms lead`);
  return ids;
}

export interface ReminderCase {
  pending: number;
  chunk: number;
  due: number;
  leadMs: number;
  spacingMs: number;
}

export async function reminderLateness(redisUrl: string, fakes: Fakes, c: ReminderCase) {
  const admin = rawRedis(redisUrl);
  await admin.flushall('SYNC');
  const prefix = 'brem';
  const config = benchConfig(redisUrl, prefix, fakes);
  const queue = new Queue('reminder', { connection: admin, prefix });
  await queue.waitUntilReady();
  note(`storing ${c.pending} pending reminders (addBulk, chunks of ${c.chunk})`);
  const load = await loadPending(admin, queue, c.pending, c.chunk);
  note(`stored ${load.count} in ${load.seconds} s (${load.perS}/s), used_memory +${load.usedMemoryMiB} MiB (${load.bytesPerReminder} B each)`);

  const lateness = new Map<string, number>();
  const outcomes = new Map<string, string>();
  /** A stream of due reminders through fresh workers, with or without the due waker. */
  const runStream = async (tag: string, wakeOnDue: boolean) => {
    const running = startWorkers(createService(config, discardLogger()), ['reminder'], { wakeOnDue });
    for (const w of running.workers)
      w.on('completed', (job: Job) => {
        const d = job.data as ReminderData;
        lateness.set(job.id!, job.processedOn! - fireTimeOf(job.name as ReminderName, d.scheduledAt));
        outcomes.set(job.id!, String((job.returnvalue as { status?: string } | undefined)?.status));
      });
    try {
      await running.workers[0]!.waitUntilReady();
      await sleep(500);
      const ids = await stream(config, admin, queue, c.due, c.leadMs, c.spacingMs, tag);
      await until(() => ids.every((id) => lateness.has(id)), c.leadMs + c.due * c.spacingMs + 60_000, `${ids.length} due reminders`, 50);
      const statuses = [...new Set(ids.map((id) => outcomes.get(id)))];
      return { ...summary(ids.map((id) => lateness.get(id)!)), statuses };
    } finally {
      await running.close();
    }
  };
  const show = (what: string, l: { p50: number; p99: number; max: number }) => note(`lateness ${what}: p50 ${l.p50} p99 ${l.p99} max ${l.max} ms`);
  try {
    const hz = Number((await admin.config('GET', 'hz'))[1]);
    const lateness = await runStream('a', true);
    show(`with ${c.pending} pending, Redis hz ${hz}, as shipped (due waker on)`, lateness);
    // What bounds it without the waker: Redis checks blocked-command timeouts when its
    // event loop wakes, hz times a second when idle.
    const withoutWaker = await runStream('b', false);
    show(`without the due waker, hz ${hz}`, withoutWaker);
    await admin.config('SET', 'hz', '100');
    const withoutWakerAtHz100 = await runStream('c', false);
    await admin.config('SET', 'hz', String(hz));
    show('without the due waker, hz 100', withoutWakerAtHz100);
    return { ...c, load, redisHz: hz, lateness, withoutWaker, withoutWakerAtHz100 };
  } finally {
    await queue.close();
    await admin.flushall('SYNC');
    admin.disconnect();
  }
}
