import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jobIds } from '../src/appointments/ids.js';
import { ALL_QUEUES, AppointmentFakes, makeAppointment } from './support/appointments.js';
import { startDeliveryStack } from './support/delivery.js';
import { finished, until } from './support/harness.js';
import { bearer } from './support/server.js';

const DAY = 24 * 3_600_000;

/**
 * The whole loop, nothing called by hand: Twilio accepts the J-1 SMS, then reports it
 * undelivered through a signed StatusCallback; the server queues the event, the delivery
 * worker applies it, the appointments' listener asks for a fallback, and the reminder
 * goes out by email, once. The timeline shows all of it.
 */
describe('delivery loop end to end', () => {
  const fakes = new AppointmentFakes();
  let s: Awaited<ReturnType<typeof startDeliveryStack>> | undefined;
  beforeAll(() => fakes.start());
  afterAll(() => fakes.stop());
  afterEach(async () => {
    await fakes.twilio.settled();
    await s?.close();
    fakes.twilio.callbackScripts.clear();
  });

  it('an SMS reminder reported undelivered falls back to email, once, and the timeline says so', async () => {
    s = await startDeliveryStack(fakes.env(), [...ALL_QUEUES, 'delivery']);
    const apt = makeAppointment(DAY + 2_000);
    fakes.twilio.callbackScripts.set(apt.attendee.phone!, [{ status: 'sent' }, { status: 'undelivered', errorCode: '30003' }]);
    await s.client.appointments.booked(apt);
    const smsId = `apt-${apt.id}-J-1-v1-sms`;
    expect((await finished(s, 'sms', smsId)).returnvalue).toMatchObject({ status: 'sent' });
    const d = await s.untilStatus('sms', smsId, 'undelivered');
    expect(d).toMatchObject({ status: 'undelivered', errorCode: '30003' });

    const decision = await finished(s, 'appointment', jobIds.fallback(smsId), 20_000);
    expect(decision.returnvalue).toMatchObject({ status: 'queued', channel: 'email', fallbackOf: smsId });
    const email = await finished(s, 'email', `apt-${apt.id}-J-1-v1-email`);
    expect(email.returnvalue).toMatchObject({ status: 'sent' });
    await until(() => fakes.emails(apt.attendee.email!).length >= 2, 10_000, 'the reminder by email');

    const t = (await s.app.inject({ url: `/v1/appointments/${apt.id}`, headers: bearer })).json();
    const j1 = t.messages.filter((m: { kind: string }) => m.kind === 'J-1');
    expect(j1).toEqual([
      expect.objectContaining({ channel: 'sms', jobId: smsId, delivery: expect.objectContaining({ status: 'undelivered', errorCode: '30003' }), fallbackOf: null }),
      expect.objectContaining({ channel: 'email', jobId: email.id, fallbackOf: smsId }),
    ]);
    // Only one reminder email, whatever the callbacks' repeats.
    expect(fakes.emails(apt.attendee.email!).filter((m) => !/confirm/i.test(m.subject))).toHaveLength(1);
  });
});
