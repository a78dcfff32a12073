import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Env } from '../../src/config.js';
import type { Appointment } from '../../src/contract/schemas.js';
import type { QueueName } from '../../src/contract/queues.js';
import { FakeGoogle } from '../fakes/google.js';
import { FakeResend } from '../fakes/resend.js';
import { FakeTwilio } from '../fakes/twilio.js';
import { FakeZoom } from '../fakes/zoom.js';
import { startHarness, until } from './harness.js';
import { googleEnv, zoomEnv } from './meetings.js';

export const HOUR = 3_600_000;
export const ALL_QUEUES: QueueName[] = ['appointment', 'reminder', 'email', 'sms', 'meeting'];

/** The provider fakes the appointment flow talks to, started once per test file. */
export class AppointmentFakes {
  readonly twilio = new FakeTwilio();
  readonly resend = new FakeResend();
  readonly zoom = new FakeZoom();
  readonly google = new FakeGoogle();
  private readonly all = [this.twilio, this.resend, this.zoom, this.google];

  async start() {
    await Promise.all(this.all.map((f) => f.start()));
  }

  async stop() {
    await Promise.all(this.all.map((f) => f.stop()));
  }

  env(extra: Env = {}): Env {
    return {
      TWILIO_ACCOUNT_SID: this.twilio.accountSid,
      TWILIO_AUTH_TOKEN: this.twilio.authToken,
      TWILIO_PHONE_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: this.twilio.url,
      RESEND_API_KEY: this.resend.apiKey,
      RESEND_BASE_URL: this.resend.url,
      EMAIL_FROM: 'Cabinet Martin <no-reply@example.com>',
      ...zoomEnv(this.zoom),
      ...googleEnv(this.google),
      ...extra,
    };
  }

  /** SMS the fake Twilio accepted for `phone`. */
  sms(phone: string) {
    return this.twilio.delivered.filter((m) => m.to === phone);
  }

  /** Emails the fake Resend accepted for `email`. */
  emails(email: string) {
    return this.resend.delivered.filter((m) => m.to.includes(email));
  }
}

export const harness = (fakes: AppointmentFakes, queues: QueueName[] = ALL_QUEUES, extra: Env = {}) =>
  startHarness(fakes.env(extra), queues);

/**
 * For a describe block: the fakes, started once, and a harness opener whose harnesses are
 * all closed after each test (also those a test closed itself: closing twice is harmless).
 */
export function appointmentSuite() {
  const fakes = new AppointmentFakes();
  const opened: Awaited<ReturnType<typeof startHarness>>[] = [];
  beforeAll(() => fakes.start());
  afterAll(() => fakes.stop());
  afterEach(async () => {
    for (const h of opened.splice(0)) await h.close().catch(() => {});
  });
  return {
    fakes,
    async harness(queues: QueueName[] = ALL_QUEUES, extra: Env = {}) {
      const h = await harness(fakes, queues, extra);
      opened.push(h);
      return h;
    },
  };
}

/** An appointment with a fresh id, phone and email, `inMs` from now (whole seconds, so exact). */
export function makeAppointment(inMs: number, overrides: Partial<Appointment> = {}): Appointment {
  const tag = randomBytes(4).toString('hex');
  const digits = String(parseInt(tag, 16) % 10_000_000).padStart(7, '0');
  return {
    id: `apt_${tag}`,
    scheduledAt: new Date(Math.ceil((Date.now() + inMs) / 1000) * 1000).toISOString(),
    duration: 30,
    title: 'Rendez-vous découverte',
    timezone: 'Europe/Paris',
    locale: 'fr',
    visioProvider: 'CUSTOM',
    visioUrl: `https://visio.example.com/r/${tag}`,
    host: { name: 'Claire Martin', email: 'claire@example.com' },
    attendee: { name: 'Paul Durand', email: `paul.${tag}@example.com`, phone: `+3361${digits}` },
    reminderChannels: ['sms'],
    ...overrides,
  };
}

export { until };
