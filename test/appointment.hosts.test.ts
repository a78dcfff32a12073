import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventIdFor } from '../src/providers/google-meet.js';
import { HOUR, appointmentSuite, makeAppointment, until } from './support/appointments.js';
import { finished } from './support/harness.js';

/** Appointments hand their host's email to the meeting: the meeting is the host's, before and after a move. */
describe("appointment meetings owned by the appointment's host", () => {
  const { fakes, harness } = appointmentSuite();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const SA = 'meetings@acme-project.iam.gserviceaccount.com';
  fakes.google.trustServiceAccount(SA, publicKey);
  fakes.zoom.users = new Set(['claire@example.com']);
  const hostsEnv = {
    ZOOM_HOST_FROM_APPOINTMENT: 'true',
    GOOGLE_SERVICE_ACCOUNT_KEY: JSON.stringify({ type: 'service_account', client_email: SA, private_key: privateKey, client_id: '42' }),
  };

  async function bookAndMove(visioProvider: 'ZOOM' | 'GOOGLE_MEET') {
    const h = await harness(undefined, hostsEnv);
    const apt = makeAppointment(3 * 24 * HOUR, { title: `Hosts ${visioProvider} ${Date.now()}`, visioProvider, visioUrl: null });
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`, 20_000);
    const moved = { ...apt, scheduledAt: new Date(Date.parse(apt.scheduledAt) + HOUR).toISOString() };
    const ev = await h.client.appointments.rescheduled(moved);
    expect((await finished(h, 'appointment', ev.id)).returnvalue).toMatchObject({ status: 'rescheduled' });
    return { h, apt, moved };
  }

  it("Zoom: the meeting is created under the host's Zoom user and moved there", async () => {
    const { moved } = await bookAndMove('ZOOM');
    const meeting = [...fakes.zoom.meetings.values()].find((m) => m.topic === moved.title)!;
    expect(meeting.createdUnder).toBe('claire@example.com');
    await until(() => meeting.start_time === moved.scheduledAt.replace(/\.\d{3}Z$/, 'Z'), 10_000, 'Zoom meeting moved');
  });

  it("Google Meet: the event is in the host's own calendar and moved there", async () => {
    const { apt, moved } = await bookAndMove('GOOGLE_MEET');
    const event = fakes.google.calendarOf('claire@example.com').get(eventIdFor(apt.id))!;
    expect(event).toMatchObject({ calendar: 'claire@example.com', summary: apt.title });
    await until(() => event.start?.dateTime === moved.scheduledAt, 10_000, 'event moved in the host calendar');
    expect(fakes.google.events.has(eventIdFor(apt.id))).toBe(false); // not in the refresh-token account's calendar
  });
});
