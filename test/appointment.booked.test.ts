import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { InvalidPayloadError } from '../src/contract/errors.js';
import { formatWhen } from '../src/templates/format.js';
import { HOUR, makeAppointment, until, appointmentSuite } from './support/appointments.js';
import { finished } from './support/harness.js';

describe('booked appointments through real workers', () => {
  const { fakes, harness } = appointmentSuite();
  let h: Awaited<ReturnType<typeof harness>>;

  it('booked 24 h + 3 s ahead: confirmation, J-1 SMS within seconds with the local time, H-1 pending at scheduledAt - 1 h', async () => {
    h = await harness();
    const apt = makeAppointment(24 * HOUR + 3_000);
    const { id } = await h.client.appointments.booked(apt);
    const event = await finished(h, 'appointment', id);
    expect(event.returnvalue).toMatchObject({ status: 'booked', appointmentId: apt.id, version: 1 });

    const when = formatWhen(apt.scheduledAt, 'fr', 'Europe/Paris');
    const [confirmation] = await until(() => fakes.emails(apt.attendee.email!).length > 0 && fakes.emails(apt.attendee.email!), 10_000, 'confirmation');
    expect(confirmation!.subject).toBe('Rendez-vous confirmé : Rendez-vous découverte');
    expect(confirmation!.text).toContain(`${when.date} à ${when.time} (Europe/Paris)`);
    expect(confirmation!.html).toContain(apt.visioUrl!);

    // J-1 is due ~3 s after booking; H-1 is 23 h away, exactly one hour before the start.
    const pending = await h.client.appointments.reminders(apt.id);
    const h1 = pending.find((r) => r.name === 'H-1')!;
    expect(h1).toMatchObject({ id: `${apt.id}-H-1-v1`, state: 'delayed' });
    expect(Date.parse(h1.fireAt)).toBe(Date.parse(apt.scheduledAt) - HOUR);
    const h1Job = await h.queue('reminder').getJob(h1.id);
    // BullMQ reads its clock just after ours: never early, at most the gap between the two reads late.
    const h1FiresAt = h1Job!.timestamp + h1Job!.delay;
    expect(h1FiresAt).toBeGreaterThanOrEqual(Date.parse(apt.scheduledAt) - HOUR);
    expect(h1FiresAt - (Date.parse(apt.scheduledAt) - HOUR)).toBeLessThan(50);

    const started = Date.now();
    const [sms] = await until(() => fakes.sms(apt.attendee.phone!).length > 0 && fakes.sms(apt.attendee.phone!), 15_000, 'J-1 SMS');
    const jobJ1 = await finished(h, 'reminder', `${apt.id}-J-1-v1`);
    expect(jobJ1.returnvalue).toMatchObject({ status: 'queued', reminder: 'J-1', channels: ['sms'] });
    // It fired when it was due (scheduledAt - 24 h), not earlier, and within a second or two.
    expect(jobJ1.processedOn!).toBeGreaterThanOrEqual(Date.parse(apt.scheduledAt) - 24 * HOUR);
    expect(jobJ1.processedOn! - (Date.parse(apt.scheduledAt) - 24 * HOUR)).toBeLessThan(2_000);
    expect(sms!.body).toBe(`Rappel : rendez-vous "Rendez-vous découverte" le ${when.shortDate} à ${when.time}. ${apt.visioUrl}`);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await h.client.appointments.reminders(apt.id)).map((r) => r.name)).toEqual(['H-1']);
    // The fan-out SMS may not go out once the appointment has begun, however late its queue runs.
    const smsJobId = jobJ1.returnvalue.jobs[0];
    expect((await h.queue('sms').getJob(smsJobId))!.data.expiresAt).toBe(apt.scheduledAt);
  });

  it('booked 2 h ahead: only H-1; 30 min ahead: no reminder, confirmation only', async () => {
    h = await harness();
    const soon = makeAppointment(2 * HOUR);
    const sooner = makeAppointment(30 * 60_000);
    await finished(h, 'appointment', (await h.client.appointments.booked(soon)).id);
    await finished(h, 'appointment', (await h.client.appointments.booked(sooner)).id);
    await finished(h, 'appointment', `apt-${soon.id}-confirm-v1`);
    const confirm = await finished(h, 'appointment', `apt-${sooner.id}-confirm-v1`);
    expect(confirm.returnvalue).toMatchObject({ status: 'confirmed', meeting: 'none', link: true, jobs: [`apt-${sooner.id}-confirmation-v1-email`, `apt-${sooner.id}-host-confirmation-v1-email`] });

    const r1 = await h.client.appointments.reminders(soon.id);
    expect(r1.map((r) => r.name)).toEqual(['H-1']);
    expect(Date.parse(r1[0]!.fireAt)).toBe(Date.parse(soon.scheduledAt) - HOUR);
    expect(await h.client.appointments.reminders(sooner.id)).toEqual([]);
    expect(await h.queue('reminder').getJob(`${sooner.id}-H-1-v1`)).toBeUndefined();
    await until(() => fakes.emails(sooner.attendee.email!).length === 1, 10_000, 'confirmation');
  });

  it('rejects scheduledAt in the past or without a zone with INVALID_PAYLOAD naming scheduledAt', async () => {
    h = await harness();
    const past = makeAppointment(-60_000);
    await expect(h.client.appointments.booked(past)).rejects.toThrow(InvalidPayloadError);
    await expect(h.client.appointments.booked(past)).rejects.toThrow(/scheduledAt: must be in the future/);
    const naive = { ...makeAppointment(3 * HOUR), scheduledAt: '2031-01-15T10:00:00' };
    await expect(h.client.appointments.booked(naive)).rejects.toThrow(/scheduledAt: must be an ISO 8601 date-time with a zone/);

    // Straight into Redis, as another language's producer would: the worker says the same.
    const raw = new Queue('appointment', { connection: h.ctx.connection, prefix: h.config.redis.prefix });
    for (const data of [past, naive]) {
      const job = await raw.add('booked', data, { attempts: 3 });
      const done = await finished(h, 'appointment', job.id!);
      expect(await done.getState()).toBe('failed');
      expect(done.failedReason).toMatch(/^INVALID_PAYLOAD: scheduledAt: /);
      expect(done.attemptsMade).toBe(1);
    }
    await raw.close();
    expect(fakes.emails(past.attendee.email!)).toHaveLength(0);
  });

  it('booked with ZOOM: the meeting is created first and the confirmation carries its join_url', async () => {
    h = await harness();
    const apt = makeAppointment(3 * 24 * HOUR, { visioProvider: 'ZOOM', visioUrl: null, locale: 'en', timezone: 'America/New_York' });
    await h.client.appointments.booked(apt);
    const confirm = await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`, 20_000);
    expect(confirm.returnvalue).toMatchObject({ status: 'confirmed', meeting: 'created', link: true });
    const meeting = [...fakes.zoom.meetings.values()].find((m) => m.topic === apt.title && m.start_time.startsWith(apt.scheduledAt.slice(0, 16)));
    expect(meeting).toBeDefined();
    const [email] = await until(() => fakes.emails(apt.attendee.email!).length > 0 && fakes.emails(apt.attendee.email!), 10_000, 'confirmation');
    expect(email!.subject).toBe('Appointment confirmed: Rendez-vous découverte');
    expect(email!.html).toContain(`href="${meeting!.join_url}"`);
    expect(email!.text).toContain(`Join the video call: ${meeting!.join_url}`);
    const when = formatWhen(apt.scheduledAt, 'en', 'America/New_York');
    expect(email!.text).toContain(`${when.date} at ${when.time} (America/New_York)`);
    // Reminders re-read the stored appointment: they carry the created link too.
    expect((await h.client.appointments.reminders(apt.id)).map((r) => r.name)).toEqual(['J-1', 'H-1']);
  });

  it('meeting refused for good, or its provider not configured: the confirmation goes out without a link', async () => {
    h = await harness(undefined, { GOOGLE_CLIENT_ID: '', GOOGLE_CLIENT_SECRET: '', GOOGLE_REFRESH_TOKEN: '' });
    fakes.zoom.failNext(1, { status: 400, body: { code: 300, message: 'Invalid meeting parameters.' } }, (r) => r.path.includes('/meetings'));
    const refused = makeAppointment(3 * HOUR, { visioProvider: 'ZOOM', visioUrl: null });
    const noGoogle = makeAppointment(3 * HOUR, { visioProvider: 'GOOGLE_MEET', visioUrl: null });
    await h.client.appointments.booked(refused);
    const c1 = await finished(h, 'appointment', `apt-${refused.id}-confirm-v1`, 20_000);
    expect(c1.returnvalue).toMatchObject({ status: 'confirmed', meeting: 'failed', link: false });
    const child = await finished(h, 'meeting', `apt-${refused.id}-meeting-create-v1`);
    expect(child.failedReason).toMatch(/^PROVIDER_REJECTED: /);
    await h.client.appointments.booked(noGoogle);
    const c2 = await finished(h, 'appointment', `apt-${noGoogle.id}-confirm-v1`, 20_000);
    expect(c2.returnvalue).toMatchObject({ status: 'confirmed', meeting: 'skipped', link: false });
    for (const apt of [refused, noGoogle]) {
      const [email] = await until(() => fakes.emails(apt.attendee.email!).length > 0 && fakes.emails(apt.attendee.email!), 10_000, 'confirmation');
      // No visio link; the only links left are the Google Calendar one.
      expect(email!.html!.match(/href="[^"]*"/g)?.every((l) => l.startsWith('href="https://calendar.google.com/'))).toBe(true);
      expect(email!.text).not.toMatch(/visio :/);
    }
  });

  it('booked with CUSTOM and a visioUrl: that URL, no meeting created', async () => {
    h = await harness();
    const before = fakes.zoom.meetings.size;
    const apt = makeAppointment(3 * HOUR, { visioProvider: 'CUSTOM', visioUrl: 'https://custom.example/room/42' });
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`);
    const [email] = await until(() => fakes.emails(apt.attendee.email!).length > 0 && fakes.emails(apt.attendee.email!), 10_000, 'confirmation');
    expect(email!.html).toContain('href="https://custom.example/room/42"');
    expect(fakes.zoom.meetings.size).toBe(before);
  });

  it('the same booked event pushed twice is one confirmation and one set of reminders', async () => {
    h = await harness();
    const apt = makeAppointment(3 * 24 * HOUR);
    const first = await h.client.appointments.booked(apt);
    const again = await h.client.appointments.booked(structuredClone(apt));
    expect(again).toMatchObject({ id: first.id, duplicate: true });
    await finished(h, 'appointment', first.id);
    // A producer that does not deduplicate (another language, no job id) pushes it once more.
    const raw = new Queue('appointment', { connection: h.ctx.connection, prefix: h.config.redis.prefix });
    const third = await raw.add('booked', apt);
    const dup = await finished(h, 'appointment', third.id!);
    expect(dup.returnvalue).toEqual({ status: 'skipped', reason: 'duplicate: this booking was already handled' });
    await raw.close();

    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`);
    await until(() => fakes.emails(apt.attendee.email!).length === 1, 10_000, 'confirmation');
    await new Promise((r) => setTimeout(r, 500));
    expect(fakes.emails(apt.attendee.email!)).toHaveLength(1);
    const reminderIds = (await h.queue('reminder').getJobs(['delayed'])).map((j) => j.id).filter((jid) => jid!.startsWith(apt.id));
    expect(reminderIds.sort()).toEqual([`${apt.id}-H-1-v1`, `${apt.id}-J-1-v1`]);
  });

  it('escapes an attendee name with <script> in the email, and speaks the attendee language', async () => {
    h = await harness();
    const apt = makeAppointment(3 * HOUR, { locale: 'en', attendee: { name: '<script>alert(1)</script>', email: `x.${Date.now()}@example.com` } });
    await h.client.appointments.booked(apt);
    const [email] = await until(() => fakes.emails(apt.attendee.email!).length > 0 && fakes.emails(apt.attendee.email!), 10_000, 'confirmation');
    expect(email!.html).not.toContain('<script>');
    expect(email!.html).toContain('Hello &lt;script&gt;alert(1)&lt;/script&gt;,');
    expect(email!.subject).toMatch(/^Appointment confirmed: /);
  });
});
