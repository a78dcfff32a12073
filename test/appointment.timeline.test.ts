import { describe, expect, it } from 'vitest';
import { HOUR, makeAppointment, appointmentSuite, until } from './support/appointments.js';
import { finished } from './support/harness.js';
import { bearer, startApp } from './support/server.js';

describe('appointment timeline: GET /v1/appointments/:id', () => {
  const { fakes, harness } = appointmentSuite();

  it('shows status, version, meeting, pending reminders and every message with its state and fallbackOf', async () => {
    const h = await harness();
    const s = await startApp({ QUEUE_PREFIX: h.config.redis.prefix });
    try {
      // On Zoom, tomorrow + 2 s: the J-1 SMS is due at once, and its number is refused.
      const apt = makeAppointment(24 * HOUR + 2_000, { visioProvider: 'ZOOM', visioUrl: null });
      fakes.twilio.invalidNumbers.add(apt.attendee.phone!);
      await h.client.appointments.booked(apt);
      const confirmation = await finished(h, 'email', `apt-${apt.id}-confirmation-v1-email`);
      const smsId = `apt-${apt.id}-J-1-v1-sms`;
      const email = await finished(h, 'email', `apt-${apt.id}-J-1-v1-email`);

      const r = await s.app.inject({ url: `/v1/appointments/${apt.id}`, headers: bearer });
      expect(r.statusCode).toBe(200);
      const t = r.json();
      const meeting = [...fakes.zoom.meetings.values()].find((m) => m.topic === apt.title)!;
      expect(t).toMatchObject({
        id: apt.id,
        status: 'booked',
        version: 1,
        appointment: { ...apt, visioUrl: null },
        meeting: { visioProvider: 'ZOOM', visioUrl: meeting.join_url, visioMeetingId: String(meeting.id) },
        reminders: [{ id: `${apt.id}-H-1-v1`, name: 'H-1', fireAt: new Date(Date.parse(apt.scheduledAt) - HOUR).toISOString(), state: 'delayed' }],
      });
      const common = { version: 1, recipient: 'attendee', delivery: null, skippedReason: null };
      expect(t.messages).toEqual([
        {
          ...common,
          kind: 'confirmation',
          channel: 'email',
          queue: 'email',
          jobId: confirmation.id,
          state: 'completed',
          messageId: confirmation.returnvalue.messageId,
          failedReason: null,
          fallbackOf: null,
        },
        {
          // The host is told too (README "The host is told"), and never falls back.
          ...common,
          recipient: 'host',
          kind: 'confirmation',
          channel: 'email',
          queue: 'email',
          jobId: `apt-${apt.id}-host-confirmation-v1-email`,
          state: 'completed',
          messageId: expect.any(String),
          failedReason: null,
          fallbackOf: null,
        },
        {
          ...common,
          kind: 'J-1',
          channel: 'sms',
          queue: 'sms',
          jobId: smsId,
          state: 'failed',
          messageId: null,
          failedReason: expect.stringMatching(/^INVALID_RECIPIENT/),
          fallbackOf: null,
        },
        {
          ...common,
          kind: 'J-1',
          channel: 'email',
          queue: 'email',
          jobId: email.id,
          state: 'completed',
          messageId: email.returnvalue.messageId,
          failedReason: null,
          fallbackOf: smsId,
        },
      ]);
      // The producer client reads the same.
      expect(await h.client.appointments.get(apt.id)).toEqual(t);

      // Cancelled: version 2, no pending reminder, the notice listed.
      await finished(h, 'appointment', (await h.client.appointments.cancelled(apt.id)).id);
      const after = await until(async () => {
        const x = (await s.app.inject({ url: `/v1/appointments/${apt.id}`, headers: bearer })).json();
        return x.messages.some((m: { kind: string; state: string }) => m.kind === 'cancelled' && m.state === 'completed') && x;
      }, 10_000, 'the cancellation notice');
      expect(after).toMatchObject({ status: 'cancelled', version: 2, reminders: [] });
      expect(after.messages.filter((m: { kind: string }) => m.kind === 'cancelled').map((m: { jobId: string }) => m.jobId).sort()).toEqual(
        [`apt-${apt.id}-cancelled-v2-email`, `apt-${apt.id}-cancelled-v2-sms`, `apt-${apt.id}-host-cancelled-v2-email`],
      );
    } finally {
      await s.close();
    }
  });

  it('404 for an unknown appointment; 401 without a token; in the OpenAPI document', async () => {
    const s = await startApp();
    try {
      const r = await s.app.inject({ url: '/v1/appointments/apt_nobody', headers: bearer });
      expect(r.statusCode).toBe(404);
      expect(r.json()).toEqual({ error: 'not_found', message: 'no appointment apt_nobody' });
      expect((await s.app.inject({ url: '/v1/appointments/apt_nobody' })).statusCode).toBe(401);
      expect(await s.client.appointments.get('apt_nobody')).toBeUndefined();
      const doc = (await s.app.inject({ url: '/openapi.json' })).json();
      const op = doc.paths['/v1/appointments/{id}'].get;
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '401', '404', '503']));
      expect(op.responses['200'].content['application/json'].schema.$ref).toBe('#/components/schemas/AppointmentTimeline');
      const timeline = doc.components.schemas.AppointmentTimeline;
      expect(timeline.properties.messages.items.properties.fallbackOf).toBeDefined();
    } finally {
      await s.close();
    }
  });
});
