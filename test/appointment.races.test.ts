import { describe, expect, it } from 'vitest';
import { AppointmentStore } from '../src/appointments/store.js';
import { HOUR, makeAppointment, appointmentSuite } from './support/appointments.js';
import { finished, until } from './support/harness.js';

describe('events racing each other on real workers', () => {
  const { fakes, harness } = appointmentSuite();

  it('booked, two moves and sometimes a cancel, all pushed at once: reminders and meetings end where the store says', async () => {
    const h = await harness();
    try {
      const apts = Array.from({ length: 24 }, () => makeAppointment(3 * 24 * HOUR, { visioProvider: 'ZOOM', visioUrl: null }));
      const at = (apt: { scheduledAt: string }, hours: number) => new Date(Date.parse(apt.scheduledAt) + hours * HOUR).toISOString();
      const events = await Promise.all(
        apts.map((apt, i) =>
          Promise.all([
            h.client.appointments.booked(apt),
            h.client.appointments.rescheduled({ ...apt, scheduledAt: at(apt, 5) }),
            h.client.appointments.rescheduled({ ...apt, scheduledAt: at(apt, 7) }),
            ...(i % 4 === 0 ? [h.client.appointments.cancelled(apt.id)] : []),
          ]),
        ),
      );
      for (const e of events.flat()) await finished(h, 'appointment', e.id, 30_000);
      // The confirm steps and meeting jobs that follow.
      await until(async () => {
        const c = await h.queue('appointment').getJobCounts('waiting', 'active', 'waiting-children', 'delayed');
        const m = await h.queue('meeting').getJobCounts('waiting', 'active', 'delayed');
        return Object.values(c).every((n) => n === 0) && Object.values(m).every((n) => n === 0);
      }, 30_000, 'follow-ups');

      const store = new AppointmentStore(h.ctx.connection, h.config.redis);
      const delayed = (await h.queue('reminder').getJobs(['delayed', 'waiting'])).map((j) => j.id!);
      for (const apt of apts) {
        const s = (await store.get(apt.id))!;
        const pending = (await h.client.appointments.reminders(apt.id)).map((p) => p.id).sort();
        // No reminder of an older version (or of a cancelled appointment) is left pending.
        expect(delayed.filter((id) => id.startsWith(`${apt.id}-`)).sort()).toEqual(pending);
        if (s.status === 'cancelled') {
          expect(pending).toEqual([]);
          // Deleted, even when the cancellation landed while the meeting was being created.
          expect([...fakes.zoom.meetings.values()].some((m) => m.agenda.includes(apt.id))).toBe(false);
          continue;
        }
        expect(pending).toEqual([`${apt.id}-H-1-v${s.version}`, `${apt.id}-J-1-v${s.version}`]);
        // The meeting sits at the stored time, whichever event won.
        const m = fakes.zoom.meetings.get(Number(s.meeting!.visioMeetingId))!;
        expect(Date.parse(m.start_time)).toBe(Date.parse(s.appointment!.scheduledAt));
      }
    } finally {
      await h.close();
    }
  });
});
