import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { appointmentHandlers } from '../src/appointments/feature.js';
import { createLogger } from '../src/logger.js';
import { formatWhen } from '../src/templates/format.js';
import type { Appointment } from '../src/contract/schemas.js';
import { HOUR, makeAppointment, until, appointmentSuite } from './support/appointments.js';
import { finished } from './support/harness.js';

const DAY = 24 * HOUR;

describe('rescheduled and cancelled appointments', () => {
  const { fakes, harness } = appointmentSuite();
  let h: Awaited<ReturnType<typeof harness>>;

  const zoomMeetingOf = (title: string) => [...fakes.zoom.meetings.values()].find((m) => m.topic === title);

  /** An appointment three days ahead (the producer's own link unless `overrides` say otherwise), booked and confirmed. */
  async function bookAndConfirm(titlePrefix: string, overrides: Partial<Appointment> = {}) {
    h = await harness();
    const title = `${titlePrefix} ${Date.now()}`;
    const apt = makeAppointment(3 * DAY, { title, ...overrides });
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`, 20_000);
    return { title, apt };
  }

  /** The same on Zoom, with the meeting it got. */
  async function bookOnZoom(titlePrefix: string) {
    const { title, apt } = await bookAndConfirm(titlePrefix, { visioProvider: 'ZOOM', visioUrl: null });
    const meeting = zoomMeetingOf(title)!;
    expect(meeting).toBeDefined();
    return { title, apt, meeting };
  }

  /** Waits for at least `n` emails to the attendee, and answers them all. */
  const emailsTo = (apt: Appointment, n: number) =>
    until(() => fakes.emails(apt.attendee.email!).length >= n && fakes.emails(apt.attendee.email!), 10_000, `${n} emails`);

  it('rescheduled: old reminders gone, new ones at the new times, the meeting patched, nothing sent for the old time', async () => {
    const { title, apt, meeting } = await bookOnZoom('Bilan');
    expect((await h.client.appointments.reminders(apt.id)).map((r) => r.id)).toEqual([`${apt.id}-J-1-v1`, `${apt.id}-H-1-v1`]);

    // Moved to tomorrow, 24 h + 3 s from now: its J-1 is due in about 3 s.
    const moved = { ...apt, scheduledAt: new Date(Math.ceil((Date.now() + DAY + 3_000) / 1000) * 1000).toISOString() };
    const ev = await h.client.appointments.rescheduled(moved);
    const done = await finished(h, 'appointment', ev.id);
    expect(done.returnvalue).toMatchObject({ status: 'rescheduled', version: 2 });

    expect(await h.queue('reminder').getJob(`${apt.id}-J-1-v1`)).toBeUndefined();
    expect(await h.queue('reminder').getJob(`${apt.id}-H-1-v1`)).toBeUndefined();
    const pending = await h.client.appointments.reminders(apt.id);
    expect(pending.map((r) => r.id)).toContain(`${apt.id}-H-1-v2`);
    expect(Date.parse(pending.find((r) => r.name === 'H-1')!.fireAt)).toBe(Date.parse(moved.scheduledAt) - HOUR);

    // The meeting the service created is moved, not re-created.
    await until(() => fakes.zoom.received('PATCH', new RegExp(`/v2/meetings/${meeting.id}$`)).length > 0, 10_000, 'Zoom PATCH');
    expect(fakes.zoom.meetings.get(meeting.id)!.start_time).toBe(moved.scheduledAt.replace(/\.\d{3}Z$/, 'Z'));

    const oldWhen = formatWhen(apt.scheduledAt, 'fr', 'Europe/Paris');
    const newWhen = formatWhen(moved.scheduledAt, 'fr', 'Europe/Paris');
    const sms = await until(() => fakes.sms(apt.attendee.phone!).length >= 2 && fakes.sms(apt.attendee.phone!), 15_000, 'notice and J-1');
    const bodies = sms.map((m) => m.body!);
    expect(bodies).toContain(`Rendez-vous "${title}" déplacé au ${newWhen.shortDate} à ${newWhen.time}. ${meeting.join_url}`);
    expect(bodies).toContain(`Rappel : rendez-vous "${title}" le ${newWhen.shortDate} à ${newWhen.time}. ${meeting.join_url}`);
    for (const b of bodies) expect(b).not.toContain(oldWhen.shortDate);
    const emails = await emailsTo(apt, 2);
    expect(emails.map((e) => e.subject)).toEqual([`Rendez-vous confirmé : ${title}`, `Rendez-vous déplacé : ${title}`]);
    expect(emails[1]!.text).toContain(`${newWhen.date} à ${newWhen.time}`);
  });

  it('cancelled: reminders gone, meeting deleted, attendee told; replaying the cancellation changes nothing', async () => {
    const { title, apt, meeting } = await bookOnZoom('Suivi');

    const ev = await h.client.appointments.cancelled(apt.id, 'patient request');
    expect((await finished(h, 'appointment', ev.id)).returnvalue).toMatchObject({ status: 'cancelled', version: 2 });
    expect(await h.client.appointments.reminders(apt.id)).toEqual([]);
    expect(await h.queue('reminder').getJob(`${apt.id}-J-1-v1`)).toBeUndefined();
    await until(() => !fakes.zoom.meetings.has(meeting.id), 10_000, 'Zoom meeting deleted');
    const when = formatWhen(apt.scheduledAt, 'fr', 'Europe/Paris');
    await until(() => fakes.sms(apt.attendee.phone!).some((m) => m.body === `Rendez-vous "${title}" du ${when.shortDate} à ${when.time} annulé.`), 10_000, 'cancellation SMS');
    await until(() => fakes.emails(apt.attendee.email!).some((e) => e.subject === `Rendez-vous annulé : ${title}`), 10_000, 'cancellation email');

    // Pushed again by a producer without deduplication: nothing further.
    const raw = new Queue('appointment', { connection: h.ctx.connection, prefix: h.config.redis.prefix });
    const again = await finished(h, 'appointment', (await raw.add('cancelled', { id: apt.id })).id!);
    expect(again.returnvalue).toEqual({ status: 'skipped', reason: 'already cancelled' });
    await raw.close();
    await new Promise((r) => setTimeout(r, 300));
    expect(fakes.sms(apt.attendee.phone!)).toHaveLength(1);
    expect(fakes.emails(apt.attendee.email!)).toHaveLength(2);
  });

  it('a new link at the same time: the confirmation again with it, once; other edits send nothing', async () => {
    const { title, apt } = await bookAndConfirm('Visio');
    await until(() => fakes.emails(apt.attendee.email!).length === 1, 10_000, 'confirmation');

    // The producer replaces its own link; the time stays.
    const relinked = { ...apt, visioUrl: `${apt.visioUrl}-new` };
    const ev = await h.client.appointments.rescheduled(relinked);
    expect((await finished(h, 'appointment', ev.id)).returnvalue).toMatchObject({ status: 'rescheduled', version: 2 });
    const emails = await emailsTo(apt, 2);
    expect(emails.map((e) => e.subject)).toEqual([`Rendez-vous confirmé : ${title}`, `Rendez-vous confirmé : ${title}`]);
    expect(emails[1]!.text).toContain(relinked.visioUrl);
    expect(emails[1]!.text!.replaceAll(relinked.visioUrl, '')).not.toContain(apt.visioUrl);
    const sms = await until(() => fakes.sms(apt.attendee.phone!).find((m) => m.body!.includes(relinked.visioUrl)), 10_000, 'SMS with the new link');
    expect(sms.body).toMatch(/^Rendez-vous ".+" confirmé le /);

    // A title change keeps the link: nobody is told.
    const retitled = await h.client.appointments.rescheduled({ ...relinked, title: `${title} (bis)` });
    expect((await finished(h, 'appointment', retitled.id)).returnvalue).toMatchObject({ status: 'rescheduled', version: 3 });
    await new Promise((r) => setTimeout(r, 500));
    expect(fakes.emails(apt.attendee.email!)).toHaveLength(2);
    expect(fakes.sms(apt.attendee.phone!)).toHaveLength(1);
  });

  it('a new link while the booking still waits for its meeting: one confirmation, with the new link', async () => {
    h = await harness();
    const title = `Lien ${Date.now()}`;
    const apt = makeAppointment(3 * DAY, { visioProvider: 'ZOOM', visioUrl: null, title });
    fakes.zoom.latencyMs = 1_500;
    try {
      await h.client.appointments.booked(apt);
      const own = { ...apt, visioUrl: 'https://visio.example.com/r/own-room' };
      const ev = await h.client.appointments.rescheduled(own);
      expect((await finished(h, 'appointment', ev.id)).returnvalue).toMatchObject({ status: 'rescheduled', version: 2 });
      await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`, 20_000);
    } finally {
      fakes.zoom.latencyMs = 0;
    }
    await new Promise((r) => setTimeout(r, 500));
    const emails = fakes.emails(apt.attendee.email!);
    expect(emails.map((e) => e.subject)).toEqual([`Rendez-vous confirmé : ${title}`]);
    expect(emails[0]!.text).toContain('https://visio.example.com/r/own-room');
    // The Zoom meeting finished after the move that no longer wanted it: deleted, never linked.
    expect((await h.queue('appointment').getJob(`apt-${apt.id}-confirm-v1`))!.returnvalue).toMatchObject({ meeting: 'dropped', link: true });
    await until(() => [...fakes.zoom.meetings.values()].every((m) => m.topic !== title), 10_000, 'Zoom meeting deleted');
    expect(fakes.zoom.received('POST', /\/users\/.+\/meetings$/).filter((r) => r.body?.topic === title)).toHaveLength(1);
    for (const e of emails) expect(e.text).not.toMatch(/zoom/i);
  });

  it('a move to the producer\'s own link deletes the meeting made for the booking, and sends the new link', async () => {
    const { title, apt, meeting } = await bookOnZoom('Propre');

    const own = { ...apt, visioUrl: 'https://visio.example.com/r/cabinet' };
    const ev = await h.client.appointments.rescheduled(own);
    expect((await finished(h, 'appointment', ev.id)).returnvalue).toMatchObject({ status: 'rescheduled', version: 2 });
    await until(() => !fakes.zoom.meetings.has(meeting.id), 10_000, 'Zoom meeting deleted');
    const emails = await emailsTo(apt, 2);
    expect(emails[0]!.text).toContain(meeting.join_url);
    expect(emails[1]!.text).toContain(own.visioUrl);
    expect(emails[1]!.text).not.toContain(meeting.join_url);

    // In person from now on: nothing left to delete, no link to send.
    const inPerson = await h.client.appointments.rescheduled({ ...own, visioProvider: undefined, visioUrl: null });
    expect((await finished(h, 'appointment', inPerson.id)).returnvalue).toMatchObject({ status: 'rescheduled', version: 3 });
    await new Promise((r) => setTimeout(r, 300));
    expect(fakes.zoom.received('DELETE', new RegExp(`/v2/meetings/${meeting.id}$`))).toHaveLength(1);
    expect(await h.queue('meeting').getJob(`apt-${apt.id}-meeting-delete-v3`)).toBeUndefined();
  });

  it('a meeting asked for after the booking (own link -> Zoom): made, and confirmed with its link', async () => {
    const { title, apt } = await bookAndConfirm('Demande'); // CUSTOM, the producer's own link

    const ev = await h.client.appointments.rescheduled({ ...apt, visioProvider: 'ZOOM', visioUrl: null });
    expect((await finished(h, 'appointment', ev.id)).returnvalue).toMatchObject({ status: 'rescheduled', version: 2 });
    const confirm = await finished(h, 'appointment', `apt-${apt.id}-confirm-v2`, 20_000);
    expect(confirm.returnvalue).toMatchObject({ status: 'confirmed', version: 2, meeting: 'created', link: true });
    const meeting = zoomMeetingOf(title)!;
    const emails = await emailsTo(apt, 2);
    expect(emails.map((e) => e.subject)).toEqual([`Rendez-vous confirmé : ${title}`, `Rendez-vous confirmé : ${title}`]);
    expect(emails[0]!.text).toContain(apt.visioUrl);
    expect(emails[1]!.text).toContain(meeting.join_url);
    expect(emails[1]!.text).not.toContain(apt.visioUrl);
  });

  it('Zoom -> Google Meet on a move: the Zoom meeting is deleted before the Meet is made; the notices end with the Meet link', async () => {
    const { title, apt, meeting } = await bookOnZoom('Bascule');
    const moved = { ...apt, visioProvider: 'GOOGLE_MEET' as const, scheduledAt: new Date(Date.parse(apt.scheduledAt) + HOUR).toISOString() };
    const ev = await h.client.appointments.rescheduled(moved);
    expect((await finished(h, 'appointment', ev.id)).returnvalue).toMatchObject({ status: 'rescheduled', version: 2 });
    const confirm = await finished(h, 'appointment', `apt-${apt.id}-confirm-v2`, 20_000);
    expect(confirm.returnvalue).toMatchObject({ meeting: 'created', link: true });

    expect(fakes.zoom.meetings.has(meeting.id)).toBe(false);
    const event = fakes.google.liveEvents().find((e) => e.summary === title)!;
    expect(event.hangoutLink).toBeTruthy();
    expect(Date.parse(event.start!.dateTime!)).toBe(Date.parse(moved.scheduledAt));
    // Deleted first, then created: the flow's order, not luck.
    const deletedAt = fakes.zoom.received('DELETE', new RegExp(`/v2/meetings/${meeting.id}$`))[0]!.at;
    const createdAt = fakes.google.received('POST', /\/events/).find((r) => r.body?.summary === title)!.at;
    expect(deletedAt).toBeLessThanOrEqual(createdAt);

    const emails = await emailsTo(apt, 3);
    expect(emails.map((e) => e.subject)).toEqual([`Rendez-vous confirmé : ${title}`, `Rendez-vous déplacé : ${title}`, `Rendez-vous confirmé : ${title}`]);
    expect(emails[1]!.text).not.toContain(meeting.join_url); // never the deleted Zoom link
    expect(emails[2]!.text).toContain(event.hangoutLink!);
    // The attendee's reminders go by SMS: the new link reaches the phone too, not only at J-1.
    await until(() => fakes.sms(apt.attendee.phone!).some((m) => m.body!.includes(event.hangoutLink!)), 10_000, 'SMS with the Meet link');
    const pending = await h.client.appointments.reminders(apt.id);
    expect(pending.map((r) => r.id)).toEqual([`${apt.id}-J-1-v2`, `${apt.id}-H-1-v2`]);
  });

  it('a switch to Google Meet while the booking\'s Zoom meeting is still being made: one confirmation, with a working link', async () => {
    // Retries far enough apart (as in production, 5 s) for the Zoom meeting to be stored by the next one.
    h = await harness(undefined, { JOB_BACKOFF_MS: '2000' });
    const title = `Course ${Date.now()}`;
    const apt = makeAppointment(3 * DAY, { visioProvider: 'ZOOM', visioUrl: null, title });
    fakes.zoom.latencyMs = 1_500;
    try {
      await h.client.appointments.booked(apt);
      const ev = await h.client.appointments.rescheduled({ ...apt, visioProvider: 'GOOGLE_MEET' });
      expect((await finished(h, 'appointment', ev.id)).returnvalue).toMatchObject({ status: 'rescheduled', version: 2 });
      const v1 = await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`, 20_000);
      expect(v1.returnvalue).toMatchObject({ deferredTo: `apt-${apt.id}-confirm-v2` });
      // The Meet's create waits for the Zoom one's lock, retries, then finds Zoom stored:
      // one meeting per appointment, so the step keeps Zoom and sends its link.
      const create = await finished(h, 'meeting', `apt-${apt.id}-meeting-create-v2`, 30_000);
      expect(create.failedReason).toMatch(/^PROVIDER_REJECTED: .*already has a ZOOM meeting/);
      const v2 = await finished(h, 'appointment', `apt-${apt.id}-confirm-v2`, 30_000);
      expect(v2.returnvalue).toMatchObject({ meeting: 'existing', link: true });
    } finally {
      fakes.zoom.latencyMs = 0;
    }
    // One meeting per appointment: the Zoom one, made first, stays and is the link sent.
    await new Promise((r) => setTimeout(r, 300));
    const emails = fakes.emails(apt.attendee.email!);
    expect(emails.map((e) => e.subject)).toEqual([`Rendez-vous confirmé : ${title}`]);
    expect(emails[0]!.text).toContain(zoomMeetingOf(title)!.join_url);
    expect(fakes.google.liveEvents().filter((e) => e.summary === title)).toHaveLength(0);
  });

  it('a reminder already in flight when the cancellation lands sends nothing', async () => {
    // No reminder worker: the J-1 becomes due and is taken by hand, i.e. locked and running.
    h = await harness(['appointment', 'email', 'sms', 'meeting']);
    const apt = makeAppointment(DAY + 1_000);
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`);
    const jid = `${apt.id}-J-1-v1`;
    const conn = new Redis(h.config.redis.url, { maxRetriesPerRequest: null });
    const taker = new Worker('reminder', null, { connection: conn, prefix: h.config.redis.prefix });
    taker.on('error', () => {});
    const token = 'in-flight';
    const job = await until(async () => {
      const j = await taker.getNextJob(token, { block: false });
      return j?.id === jid ? j : undefined;
    }, 10_000, 'J-1 due');
    expect(await job.getState()).toBe('active');

    const ev = await h.client.appointments.cancelled(apt.id);
    await finished(h, 'appointment', ev.id);
    // Active jobs cannot be removed: it is still there, running...
    expect(await h.queue('reminder').getJob(jid)).toBeDefined();
    // ...and when it goes on, it reads the store and finds the cancellation.
    const [, reminder] = appointmentHandlers(h.ctx);
    const logger = createLogger('silent');
    const result = await reminder!.run(job, { deliveryKey: 'k', attempt: 1, logger });
    expect(result).toEqual({ status: 'skipped', reason: 'cancelled' });
    await job.moveToCompleted(result, token, false);
    await taker.close();
    conn.disconnect();
    await new Promise((r) => setTimeout(r, 300));
    expect(fakes.sms(apt.attendee.phone!).filter((m) => m.body?.startsWith('Rappel'))).toHaveLength(0);
  });

  it('booked and rescheduled back to back, handled concurrently: only the new time is reminded', async () => {
    h = await harness();
    const apt = makeAppointment(3 * DAY);
    const moved = { ...apt, scheduledAt: new Date(Date.parse(apt.scheduledAt) + 5 * HOUR).toISOString() };
    const [b, r] = await Promise.all([h.client.appointments.booked(apt), h.client.appointments.rescheduled(moved)]);
    await finished(h, 'appointment', b.id);
    await finished(h, 'appointment', r.id);
    await until(async () => {
      const c = await h.queue('appointment').getJob(`apt-${apt.id}-confirm-v1`);
      return !c || (await c.isCompleted());
    }, 10_000, 'confirm');
    const ids = (await h.queue('reminder').getJobs(['delayed', 'waiting'])).map((j) => j.id!).filter((id) => id.startsWith(apt.id));
    const pending = await h.client.appointments.reminders(apt.id);
    expect(ids.sort()).toEqual(pending.map((p) => p.id).sort());
    expect(Date.parse(pending.find((p) => p.name === 'H-1')!.fireAt)).toBe(Date.parse(moved.scheduledAt) - HOUR);
  });

  it('stale events lose: a rescheduled pushed before the applied one changes nothing', async () => {
    h = await harness();
    const apt = makeAppointment(3 * DAY);
    await finished(h, 'appointment', (await h.client.appointments.booked(apt)).id);
    const later = { ...apt, scheduledAt: new Date(Date.parse(apt.scheduledAt) + DAY).toISOString() };
    await finished(h, 'appointment', (await h.client.appointments.rescheduled(later)).id);

    const raw = new Queue('appointment', { connection: h.ctx.connection, prefix: h.config.redis.prefix });
    const earlier = { ...apt, scheduledAt: new Date(Date.parse(apt.scheduledAt) + 2 * HOUR).toISOString() };
    // Pushed 10 s ago (delivered late, e.g. by a retrying producer).
    const stale = await raw.add('rescheduled', earlier, { timestamp: Date.now() - 10_000 });
    const done = await finished(h, 'appointment', stale.id!);
    expect(done.returnvalue).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^stale: /) });
    await raw.close();
    const pending = await h.client.appointments.reminders(apt.id);
    expect(pending.map((r) => r.id)).toEqual([`${apt.id}-J-1-v2`, `${apt.id}-H-1-v2`]);
    expect(Date.parse(pending[1]!.fireAt)).toBe(Date.parse(later.scheduledAt) - HOUR);
  });

  it('a re-run of the same event job changes nothing further', async () => {
    h = await harness(['email', 'sms']);
    const apt = makeAppointment(3 * DAY);
    const ev = await h.client.appointments.booked(apt);
    const job = (await h.queue('appointment').getJob(ev.id))!;
    const [handler] = appointmentHandlers(h.ctx);
    const ctx = { deliveryKey: 'k', attempt: 1, logger: createLogger('silent') };
    expect(await handler!.run(job, ctx)).toMatchObject({ status: 'booked', version: 1 });
    expect(await handler!.run(job, ctx)).toEqual({ status: 'skipped', reason: 'replay: this event was already applied' });
    const moved = { ...apt, scheduledAt: new Date(Date.parse(apt.scheduledAt) + HOUR).toISOString() };
    const ev2 = await h.client.appointments.rescheduled(moved);
    const job2 = (await h.queue('appointment').getJob(ev2.id))!;
    expect(await handler!.run(job2, ctx)).toMatchObject({ status: 'rescheduled', version: 2 });
    const smsJobs = async () => (await h.queue('sms').getJobs(['waiting', 'active', 'completed', 'delayed'])).length;
    const before = await smsJobs();
    expect(await handler!.run(job2, ctx)).toMatchObject({ status: 'skipped' });
    expect(await smsJobs()).toBe(before);
  });
});
