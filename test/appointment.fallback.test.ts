import type { Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryReader, DeliveryView } from '../src/appointments/delivery-reader.js';
import { appointmentsFeature } from '../src/appointments/feature.js';
import { nextChannel, standingOf, whyNoFallback } from '../src/appointments/fallback.js';
import { jobIds } from '../src/appointments/ids.js';
import type { MessageSend } from '../src/appointments/view.js';
import { loadConfig } from '../src/config.js';
import type { DeliveryChange, DeliveryStatus } from '../src/contract/outcome.js';
import type { Appointment } from '../src/contract/schemas.js';
import type { QueueName } from '../src/contract/queues.js';
import { createLogger } from '../src/logger.js';
import { meetings } from '../src/meetings/feature.js';
import { messages } from '../src/messages/feature.js';
import { NotificationClient } from '../src/producer/client.js';
import { createService, startWorkers } from '../src/service.js';
import { webhooks } from '../src/webhooks/feature.js';
import { ALL_QUEUES, HOUR, makeAppointment, appointmentSuite, until } from './support/appointments.js';
import { testEnv } from './support/config.js';
import { finished } from './support/harness.js';

const DAY = 24 * HOUR;
type H = { client: NotificationClient; queue: NotificationClient['queue'] };

/** What the delivery status store would tell, for a send the test names. */
function change(job: Job, status: DeliveryStatus): DeliveryChange {
  return {
    queue: job.queueName as DeliveryChange['queue'],
    jobId: job.id!,
    provider: job.queueName === 'email' ? 'resend' : 'twilio',
    messageId: (job.returnvalue as { messageId?: string } | undefined)?.messageId ?? 'unknown',
    status,
    ...(status !== 'delivered' && { errorCode: '30003' }),
    ref: job.data.ref,
    at: new Date().toISOString(),
  };
}

describe('channel fallback for appointment messages', () => {
  const { fakes, harness } = appointmentSuite();

  /** Booked for tomorrow + 2 s (its J-1 SMS is due in about 2 s), confirmation done. */
  async function bookSoon(h: H, overrides: Partial<Appointment> = {}) {
    const apt = makeAppointment(DAY + 2_000, overrides);
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`);
    return apt;
  }

  /**
   * Workers whose fallback reads delivery statuses from a map, as it will read the delivery
   * status store; `tell` records a status there and tells the listeners, as provider events do.
   */
  async function withStatuses(queues: QueueName[] = ALL_QUEUES) {
    const statuses = new Map<string, DeliveryView>();
    const reader: DeliveryReader = { get: async (_q, jobId) => statuses.get(jobId) ?? null };
    const config = loadConfig(testEnv(fakes.env()));
    const rt = createService(config, createLogger('silent'), [messages, meetings, appointmentsFeature({ delivery: () => reader }), webhooks]);
    const running = startWorkers(rt, queues);
    const client = NotificationClient.fromConfig(config);
    client.appointments.delivery = reader;
    opened.push(async () => {
      await running.close();
      await client.close();
    });
    return {
      client,
      ctx: rt.ctx,
      queue: (n: QueueName) => client.queue(n),
      async tell(job: Job, status: DeliveryStatus) {
        const c = change(job, status);
        statuses.set(c.jobId, { status, at: c.at, ...(c.errorCode && { errorCode: c.errorCode }), history: [] });
        await rt.ctx.tellDelivery(c);
      },
      statuses,
    };
  }
  const opened: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of opened.splice(0)) await close().catch(() => {});
  });

  it('SMS not configured: the J-1 SMS is skipped and the reminder goes by email, once', async () => {
    const h = await harness(ALL_QUEUES, { TWILIO_PHONE_NUMBER: '' });
    const apt = await bookSoon(h);
    const smsId = `apt-${apt.id}-J-1-v1-sms`;
    const sms = await finished(h, 'sms', smsId);
    expect(sms.returnvalue).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/not configured/) });
    const decision = await finished(h, 'appointment', jobIds.fallback(smsId));
    expect(decision.returnvalue).toEqual({
      status: 'queued',
      appointmentId: apt.id,
      kind: 'J-1',
      channel: 'email',
      jobId: `apt-${apt.id}-J-1-v1-email`,
      fallbackOf: smsId,
    });
    const email = await finished(h, 'email', `apt-${apt.id}-J-1-v1-email`);
    expect(email.returnvalue).toMatchObject({ status: 'sent' });
    expect(email.data.ref).toEqual({ appointmentId: apt.id, kind: 'J-1', version: 1, recipient: 'attendee', fallbackOf: smsId });
    // A reminder by email stops at the appointment's start like its SMS would.
    expect(email.data.expiresAt).toBe(apt.scheduledAt);
    const mails = await until(() => fakes.emails(apt.attendee.email!).length >= 2 && fakes.emails(apt.attendee.email!), 10_000, 'reminder email');
    expect(mails.map((m) => m.subject)).toEqual([expect.stringMatching(/confirmé/), expect.not.stringMatching(/confirmé/)]);
  });

  it('SMS refused for good (invalid number): the reminder goes by email; fallbackChannels [] sends nothing more', async () => {
    const h = await harness();
    const on = makeAppointment(DAY + 2_000);
    const off = makeAppointment(DAY + 2_000, { fallbackChannels: [] });
    for (const a of [on, off]) fakes.twilio.invalidNumbers.add(a.attendee.phone!);
    await Promise.all([on, off].map((a) => h.client.appointments.booked(a)));

    const failed = await finished(h, 'sms', `apt-${on.id}-J-1-v1-sms`);
    expect(failed.failedReason).toMatch(/^INVALID_RECIPIENT/);
    const email = await finished(h, 'email', `apt-${on.id}-J-1-v1-email`);
    expect(email.data.ref.fallbackOf).toBe(failed.id);

    await finished(h, 'sms', `apt-${off.id}-J-1-v1-sms`);
    const decision = await finished(h, 'appointment', jobIds.fallback(`apt-${off.id}-J-1-v1-sms`));
    expect(decision.returnvalue).toEqual({ status: 'skipped', reason: 'fallback turned off (fallbackChannels: [])' });
    expect(await h.queue('email').getJob(`apt-${off.id}-J-1-v1-email`)).toBeUndefined();
  });

  it('a negative delivery status falls back once, however often told; the chain goes on past a channel not configured', async () => {
    const h = await withStatuses([...ALL_QUEUES, 'whatsapp']); // WhatsApp: no TWILIO_WHATSAPP_NUMBER in this run
    // Three days ahead: no reminder soon; the confirmation email is the message.
    const apt = makeAppointment(3 * DAY, { fallbackChannels: ['email', 'whatsapp', 'sms'] });
    await h.client.appointments.booked(apt);
    const confirmation = await finished(h, 'email', `apt-${apt.id}-confirmation-v1-email`);
    // Provider events call this once per status move (README "Delivery status"); told twice here.
    await h.tell(confirmation, 'bounced');
    await h.tell(confirmation, 'bounced');
    const first = await finished(h, 'appointment', jobIds.fallback(confirmation.id!));
    // email is used: WhatsApp comes next in the order, and the attendee has a phone.
    expect(first.returnvalue).toMatchObject({ status: 'queued', channel: 'whatsapp', fallbackOf: confirmation.id });
    const wa = await finished(h, 'whatsapp', `apt-${apt.id}-confirmation-v1-whatsapp`);
    expect(wa.returnvalue).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/not configured/) });
    const second = await finished(h, 'appointment', jobIds.fallback(wa.id!));
    expect(second.returnvalue).toMatchObject({ status: 'queued', channel: 'sms', fallbackOf: wa.id });
    const sms = await finished(h, 'sms', `apt-${apt.id}-confirmation-v1-sms`);
    expect(sms.data.ref).toMatchObject({ kind: 'confirmation', version: 1, recipient: 'attendee', fallbackOf: wa.id });
    await until(() => fakes.sms(apt.attendee.phone!).length === 1, 5_000, 'fallback SMS');

    // The same bounce once more, even after its decision job is gone: decided again, nothing sent.
    await first.remove();
    await h.tell(confirmation, 'bounced');
    const again = await finished(h, 'appointment', jobIds.fallback(confirmation.id!));
    expect(again.returnvalue).toEqual({ status: 'skipped', reason: `still on its way on sms (${sms.id})` });
    // Every send has now ended badly: no channel is left.
    await h.tell(sms, 'undelivered');
    const last = await finished(h, 'appointment', jobIds.fallback(sms.id!));
    expect(last.returnvalue).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^no channel left/) });
    expect(fakes.sms(apt.attendee.phone!)).toHaveLength(1);
    expect(fakes.emails(apt.attendee.email!)).toHaveLength(1);
  });

  it('no fallback for a message the appointment outgrew (moved, cancelled); the cancellation notice itself falls back', async () => {
    const h = await withStatuses();
    const apt = makeAppointment(3 * DAY, { reminderChannels: ['email'] });
    await h.client.appointments.booked(apt);
    const confirmation = await finished(h, 'email', `apt-${apt.id}-confirmation-v1-email`);
    const moved = { ...apt, scheduledAt: new Date(Date.parse(apt.scheduledAt) + HOUR).toISOString() };
    await finished(h, 'appointment', (await h.client.appointments.rescheduled(moved)).id);
    await h.tell(confirmation, 'bounced');
    const stale = await finished(h, 'appointment', jobIds.fallback(confirmation.id!));
    expect(stale.returnvalue).toEqual({ status: 'skipped', reason: 'moved: the message is for version 1, the appointment is at version 2' });

    const notice = await finished(h, 'email', `apt-${apt.id}-rescheduled-v2-email`);
    await finished(h, 'appointment', (await h.client.appointments.cancelled(apt.id)).id);
    await h.tell(notice, 'bounced');
    const late = await finished(h, 'appointment', jobIds.fallback(notice.id!));
    expect(late.returnvalue).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^moved/) });

    // The cancellation notice (email only: reminders went by email) bounces: it goes by SMS.
    const cancelled = await finished(h, 'email', `apt-${apt.id}-cancelled-v3-email`);
    await h.tell(cancelled, 'bounced');
    const sms = await finished(h, 'sms', `apt-${apt.id}-cancelled-v3-sms`);
    expect(sms.data.ref).toMatchObject({ kind: 'cancelled', version: 3, fallbackOf: cancelled.id });
    expect(await h.queue('sms').getJob(`apt-${apt.id}-confirmation-v1-sms`)).toBeUndefined();
    expect(await h.queue('sms').getJob(`apt-${apt.id}-rescheduled-v2-sms`)).toBeUndefined();
  });

  it('two sends of one notice ending together fall back once; a chain runs until no channel is left', async () => {
    // No email provider, a refused number, WhatsApp not configured: nothing can reach Paul.
    const h = await harness([...ALL_QUEUES, 'whatsapp'], { RESEND_API_KEY: '' });
    const apt = makeAppointment(3 * DAY, { fallbackChannels: ['sms', 'email', 'whatsapp'] });
    fakes.twilio.invalidNumbers.add(apt.attendee.phone!);
    await h.client.appointments.booked(apt);
    // confirmation: email skipped -> sms refused -> whatsapp skipped -> nothing left.
    const chain = [`apt-${apt.id}-confirmation-v1-email`, `apt-${apt.id}-confirmation-v1-sms`, `apt-${apt.id}-confirmation-v1-whatsapp`];
    const last = await finished(h, 'appointment', jobIds.fallback(chain[2]!));
    expect(last.returnvalue).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^no channel left/) });
    expect((await finished(h, 'sms', chain[1]!)).data.ref.fallbackOf).toBe(chain[0]);
    expect((await finished(h, 'whatsapp', chain[2]!)).data.ref.fallbackOf).toBe(chain[1]);

    // A move's notice goes by email and SMS at once: both end badly, both decide, one WhatsApp.
    const moved = { ...apt, scheduledAt: new Date(Date.parse(apt.scheduledAt) + HOUR).toISOString() };
    await h.client.appointments.rescheduled(moved);
    const [byEmail, bySms] = await Promise.all(
      ['email', 'sms'].map((c) => finished(h, 'appointment', jobIds.fallback(`apt-${apt.id}-rescheduled-v2-${c}`))),
    );
    const results = [byEmail!.returnvalue, bySms!.returnvalue];
    const queued = results.filter((r) => r.status === 'queued');
    expect(queued.length).toBeGreaterThanOrEqual(1);
    for (const q of queued) expect(q.jobId).toBe(`apt-${apt.id}-rescheduled-v2-whatsapp`);
    expect(await h.queue('whatsapp').getJobCountByTypes('completed', 'failed', 'waiting', 'active', 'delayed')).toBe(2);
  });

  it('messages to the host never fall back', async () => {
    const h = await harness();
    const apt = makeAppointment(3 * DAY);
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`);
    const ref = { appointmentId: apt.id, kind: 'confirmation' as const, version: 1, recipient: 'host' as const };
    // A host SMS refused for good, and a host email whose delivery failed.
    fakes.twilio.invalidNumbers.add('+15550001111');
    const hostSms = 'apt-host-sms-test';
    await h.queue('sms').add('send', { to: '+15550001111', body: 'x', ref }, { jobId: hostSms });
    expect((await finished(h, 'sms', hostSms)).failedReason).toMatch(/^INVALID_RECIPIENT/);
    const hostEmail = await h.queue('email').add('send', { to: 'claire@example.com', subject: 's', text: 't', ref }, { jobId: 'apt-host-email-test' });
    await finished(h, 'email', hostEmail.id!);
    await h.ctx.tellDelivery(change((await h.queue('email').getJob(hostEmail.id!))!, 'bounced'));
    // Listeners are awaited before the job moves and by tellDelivery: a decision job would exist by now.
    expect(await h.queue('appointment').getJob(jobIds.fallback(hostSms))).toBeUndefined();
    expect(await h.queue('appointment').getJob(jobIds.fallback(hostEmail.id!))).toBeUndefined();
  });

  it('a delivered send on another channel ends the chain', async () => {
    const h = await withStatuses();
    const apt = makeAppointment(3 * DAY);
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`);
    // A move: its notice goes by email and SMS (where the reminders go).
    const moved = { ...apt, scheduledAt: new Date(Date.parse(apt.scheduledAt) + HOUR).toISOString() };
    await h.client.appointments.rescheduled(moved);
    const email = await finished(h, 'email', `apt-${apt.id}-rescheduled-v2-email`);
    const sms = await finished(h, 'sms', `apt-${apt.id}-rescheduled-v2-sms`);
    await h.tell(email, 'delivered');
    await h.tell(sms, 'undelivered');
    const decision = await finished(h, 'appointment', jobIds.fallback(sms.id!));
    expect(decision.returnvalue).toEqual({ status: 'skipped', reason: 'reached the attendee on email' });
    // The timeline shows what the store says.
    const timeline = await h.client.appointments.get(apt.id);
    expect(timeline!.messages.find((m) => m.jobId === sms.id)!.delivery).toMatchObject({ status: 'undelivered', errorCode: '30003' });
    expect(timeline!.messages.find((m) => m.jobId === email.id)!.delivery).toMatchObject({ status: 'delivered' });
  });
});

describe('fallback decision rules', () => {
  const send = (over: Partial<MessageSend>): MessageSend => ({
    kind: 'J-1', version: 1, channel: 'sms', queue: 'sms', jobId: 'a-sms', recipient: 'attendee', state: 'completed',
    messageId: 'SM1', failedReason: null, skippedReason: null, delivery: null, fallbackOf: null, addedAt: 0, ...over,
  });
  const trigger = { queue: 'sms' as const, jobId: 'a-sms', why: 'failed' as const };

  it('what counts as on its way, reached or ended', () => {
    const at = new Date().toISOString();
    expect(standingOf(send({ jobId: 'b', state: 'completed' }), trigger)).toBe('on_its_way'); // sent, no status yet
    expect(standingOf(send({ jobId: 'b', state: 'delayed' }), trigger)).toBe('on_its_way'); // retrying
    expect(standingOf(send({ jobId: 'b', skippedReason: 'expired at ...' }), trigger)).toBe('ended');
    expect(standingOf(send({ jobId: 'b', delivery: { status: 'read', at } }), trigger)).toBe('reached');
    expect(standingOf(send({ jobId: 'b', delivery: { status: 'bounced', at } }), trigger)).toBe('ended');
    // The trigger: still active while its outcome is told; retried since: on its way again.
    expect(standingOf(send({ state: 'active' }), trigger)).toBe('ended');
    expect(standingOf(send({ state: 'waiting' }), trigger)).toBe('on_its_way');
    expect(standingOf(send({ state: 'completed' }), { ...trigger, why: 'delivery' })).toBe('ended');
  });

  it('only while the message is current and ahead', () => {
    const now = Date.now();
    const a = makeAppointment(3 * DAY);
    const stored = { id: a.id, version: 2, status: 'active' as const, eventAt: 0, lastEvent: '', lastKind: 'update' as const, changes: { time: true, meeting: false }, appointment: a, done: 2 };
    const ref = { appointmentId: a.id, kind: 'rescheduled' as const, version: 2, recipient: 'attendee' as const };
    expect(whyNoFallback(stored, ref, now)).toBeUndefined();
    expect(whyNoFallback(stored, { ...ref, recipient: 'host' }, now)).toMatch(/host/);
    expect(whyNoFallback(stored, { ...ref, version: 1 }, now)).toMatch(/^moved/);
    expect(whyNoFallback({ ...stored, status: 'cancelled' }, ref, now)).toBe('cancelled');
    expect(whyNoFallback({ ...stored, status: 'cancelled' }, { ...ref, kind: 'cancelled' }, now)).toBeUndefined();
    expect(whyNoFallback(stored, ref, Date.parse(a.scheduledAt))).toBe('the appointment has started');
    expect(whyNoFallback(stored, { ...ref, kind: 'J-1' }, Date.parse(a.scheduledAt) - 30 * 60_000)).toMatch(/too late for J-1/);
    expect(nextChannel(stored, new Set(['sms']))).toBe('email');
    expect(nextChannel({ ...stored, appointment: { ...a, attendee: { name: 'P', phone: a.attendee.phone } } }, new Set(['sms']))).toBeUndefined();
  });
});
