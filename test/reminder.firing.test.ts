import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { appointmentHandlers } from '../src/appointments/feature.js';
import { createLogger, maskRecipients } from '../src/logger.js';
import { whyNotSend } from '../src/appointments/fire-reminder.js';
import { createWorker } from '../src/runtime/worker.js';
import { HOUR, makeAppointment, until, appointmentSuite } from './support/appointments.js';
import { finished } from './support/harness.js';

describe('reminders when they fire', () => {
  const { fakes, harness } = appointmentSuite();
  let h: Awaited<ReturnType<typeof harness>>;

  it('workers down past the appointment start: its reminders send nothing', async () => {
    // Everything but the reminder worker: the reminders wait, as during an outage.
    h = await harness(['appointment', 'email', 'sms']);
    const apt = makeAppointment(24 * HOUR + 1_000);
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`);
    await until(async () => (await h.queue('reminder').getJob(`${apt.id}-J-1-v1`)) && Date.now() > Date.parse(apt.scheduledAt) - 24 * HOUR + 200, 10_000, 'J-1 due');
    // H-1 too is overdue by the time the workers come back, 25 h later.
    await (await h.queue('reminder').getJob(`${apt.id}-H-1-v1`))!.promote();

    const later = () => Date.now() + 25 * HOUR;
    const [, reminder] = appointmentHandlers(h.ctx, { now: later });
    const worker = createWorker(reminder!, {
      config: h.config,
      connection: h.ctx.connection,
      logger: createLogger('silent'),
      queue: h.ctx.queue,
      mask: maskRecipients,
    });
    void worker.run();
    try {
      for (const name of ['J-1', 'H-1']) {
        const job = await finished(h, 'reminder', `${apt.id}-${name}-v1`);
        expect(job.returnvalue).toEqual({ status: 'skipped', reason: 'already started: the reminder fired too late (workers down?)' });
      }
    } finally {
      await worker.close();
    }
    expect(fakes.sms(apt.attendee.phone!)).toHaveLength(0);
  });

  it('a stale reminder that slipped through a replacement finds nothing to send', async () => {
    h = await harness();
    const apt = makeAppointment(3 * 24 * HOUR);
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`);
    await finished(h, 'appointment', (await h.client.appointments.rescheduled({ ...apt, duration: 45 })).id);
    // As if version 1's J-1 had escaped its removal and now fired.
    const raw = new Queue('reminder', { connection: h.ctx.connection, prefix: h.config.redis.prefix });
    const stale = await raw.add('J-1', { appointmentId: apt.id, version: 1, scheduledAt: apt.scheduledAt, fireAt: new Date().toISOString() });
    const done = await finished(h, 'reminder', stale.id!);
    expect(done.returnvalue).toEqual({ status: 'skipped', reason: 'moved: this reminder is for version 1, the appointment is at version 2' });
    await raw.close();
    expect(fakes.sms(apt.attendee.phone!)).toHaveLength(0);
  });

  it('fans out to reminderChannels, by default SMS with a phone and email without one', async () => {
    h = await harness();
    const both = makeAppointment(HOUR + 1_500, { reminderChannels: ['sms', 'email'], locale: 'en' });
    const noPhone = makeAppointment(HOUR + 1_500, { reminderChannels: undefined });
    delete (noPhone.attendee as { phone?: string }).phone;
    await h.client.appointments.booked(both);
    await h.client.appointments.booked(noPhone);
    const a = await finished(h, 'reminder', `${both.id}-H-1-v1`, 10_000);
    expect(a.returnvalue).toMatchObject({ status: 'queued', channels: ['sms', 'email'], jobs: [`apt-${both.id}-H-1-v1-sms`, `apt-${both.id}-H-1-v1-email`] });
    const b = await finished(h, 'reminder', `${noPhone.id}-H-1-v1`, 10_000);
    expect(b.returnvalue).toMatchObject({ status: 'queued', channels: ['email'] });
    const [sms] = await until(() => fakes.sms(both.attendee.phone!).length > 0 && fakes.sms(both.attendee.phone!), 10_000, 'H-1 SMS');
    expect(sms!.body).toMatch(/^Appointment "Rendez-vous découverte" starts soon, at \d{1,2}:\d\d [AP]M \(\w{3}, \w{3} \d{1,2}\)\. https:/);
    await until(() => fakes.emails(both.attendee.email!).some((e) => e.subject.startsWith('Starting soon: ')), 10_000, 'H-1 email (en)');
    await until(() => fakes.emails(noPhone.attendee.email!).some((e) => e.subject.startsWith('Bientôt : ')), 10_000, 'H-1 email (fr)');
  });
});

describe('reminder removal without a record', () => {
  const { fakes, harness } = appointmentSuite();
  let h: Awaited<ReturnType<typeof harness>>;

  it('a move removes every earlier version\'s reminders, a cancellation all of them; jobs carry no retry options or fireAt', async () => {
    // No reminder worker: the reminders stay pending.
    h = await harness(['appointment', 'email', 'sms']);
    const q = h.queue('reminder');
    const apt = makeAppointment(3 * 24 * HOUR);
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`);
    const j1 = (await q.getJob(`${apt.id}-J-1-v1`))!;
    expect(j1.data).toEqual({ appointmentId: apt.id, version: 1, scheduledAt: apt.scheduledAt });
    expect(j1.opts.attempts ?? 0).toBe(0);
    expect(j1.opts.backoff).toBeUndefined();
    expect(Math.abs(j1.timestamp + j1.delay - (Date.parse(apt.scheduledAt) - 24 * HOUR))).toBeLessThan(100); // BullMQ fires at timestamp + delay
    expect(await h.ctx.connection.exists(`${h.config.redis.prefix}:appointments:${apt.id}:reminders`)).toBe(0);

    await finished(h, 'appointment', (await h.client.appointments.rescheduled({ ...apt, duration: 45 })).id);
    expect((await h.client.appointments.reminders(apt.id)).map((r) => r.id)).toEqual([`${apt.id}-J-1-v2`, `${apt.id}-H-1-v2`]);
    expect(await q.getJob(`${apt.id}-J-1-v1`)).toBeUndefined();
    expect(await q.getJob(`${apt.id}-H-1-v1`)).toBeUndefined();

    // As if a version-1 reminder had escaped its removal (a crash between its add and its check).
    const raw = new Queue('reminder', { connection: h.ctx.connection, prefix: h.config.redis.prefix });
    await raw.add('H-1', { appointmentId: apt.id, version: 1, scheduledAt: apt.scheduledAt }, { jobId: `${apt.id}-H-1-v1`, delay: 24 * HOUR });
    await raw.close();
    await finished(h, 'appointment', (await h.client.appointments.rescheduled({ ...apt, duration: 60 })).id);
    expect(await q.getJob(`${apt.id}-H-1-v1`)).toBeUndefined();
    expect(await q.getJob(`${apt.id}-J-1-v2`)).toBeUndefined();
    const pending = await h.client.appointments.reminders(apt.id);
    expect(pending.map((r) => r.id)).toEqual([`${apt.id}-J-1-v3`, `${apt.id}-H-1-v3`]);
    expect(Date.parse(pending[1]!.fireAt)).toBe(Date.parse(apt.scheduledAt) - HOUR);

    const ev = await h.client.appointments.cancelled(apt.id);
    expect((await finished(h, 'appointment', ev.id)).returnvalue).toMatchObject({ status: 'cancelled', version: 4 });
    for (const v of [1, 2, 3]) for (const name of ['J-1', 'H-1']) expect(await q.getJob(`${apt.id}-${name}-v${v}`)).toBeUndefined();
    expect(await q.getDelayedCount()).toBe(0);
  });
});

describe('whyNotSend', () => {
  const at = Date.parse('2030-01-15T10:00:00Z');
  const apt = makeAppointment(HOUR, { scheduledAt: '2030-01-15T10:00:00Z' });
  const stored = { id: apt.id, version: 2, status: 'active' as const, eventAt: 0, lastEvent: '', lastKind: 'book' as const, changes: { time: true, meeting: true }, appointment: apt, done: 2 };
  const r = { appointmentId: apt.id, version: 2, scheduledAt: apt.scheduledAt, fireAt: '2030-01-14T10:00:00Z' };

  it('sends when the stored appointment is the reminder\'s and still ahead', () => {
    expect(whyNotSend(stored, r, 'J-1', at - 24 * HOUR)).toBeUndefined();
    expect(whyNotSend(stored, r, 'H-1', at - HOUR)).toBeUndefined();
  });
  it('says why not otherwise', () => {
    expect(whyNotSend(undefined, r, 'J-1', 0)).toMatch(/^appointment not found/);
    expect(whyNotSend({ ...stored, status: 'cancelled' }, r, 'J-1', 0)).toBe('cancelled');
    expect(whyNotSend({ ...stored, version: 3 }, r, 'J-1', 0)).toMatch(/^moved: /);
    expect(whyNotSend(stored, { ...r, scheduledAt: '2030-01-15T11:00:00+01:00' }, 'J-1', 0)).toBeUndefined(); // same instant
    expect(whyNotSend(stored, { ...r, scheduledAt: '2030-01-15T11:00:00Z' }, 'J-1', 0)).toMatch(/^moved: /);
    expect(whyNotSend(stored, r, 'H-1', at)).toMatch(/^already started/);
    expect(whyNotSend(stored, r, 'J-1', at - 30 * 60_000)).toMatch(/^too late for J-1/);
  });
});
