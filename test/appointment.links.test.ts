import { describe, expect, it } from 'vitest';
import { whatsappTemplate } from '../src/appointments/channels.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { whatsappTemplatesSummary } from '../src/doctor/run.js';
import { smsLength } from '../src/templates/sms.js';
import { formatWhen } from '../src/templates/format.js';
import { HOUR, makeAppointment, until, appointmentSuite, ALL_QUEUES } from './support/appointments.js';
import { finished } from './support/harness.js';
import { testEnv } from './support/config.js';

const SID = (c: string) => `HX${c.repeat(32)}`;
const TEMPLATES = JSON.stringify({ reminder: SID('a'), 'reminder.fr': SID('b'), cancelled: SID('c') });
const MANAGE = 'https://app.example.com/b/{id}';

describe('reminders carry the links; WhatsApp templates', () => {
  const { fakes, harness } = appointmentSuite();
  const env = { BOOKING_MANAGE_URL: MANAGE, WHATSAPP_TEMPLATES: TEMPLATES, TWILIO_WHATSAPP_NUMBER: 'whatsapp:+14155238886' };
  const whatsapp = (phone: string) => fakes.twilio.delivered.filter((m) => m.to === `whatsapp:${phone}`);

  it('H-1 by email, SMS and WhatsApp: visio and manage links; the WhatsApp template with its variables', async () => {
    const h = await harness([...ALL_QUEUES, 'whatsapp'], env);
    // H-1 is due in about 2 s.
    const apt = makeAppointment(HOUR + 2_000, { reminderChannels: ['email', 'sms', 'whatsapp'] });
    await h.client.appointments.booked(apt);
    const fired = await finished(h, 'reminder', `${apt.id}-H-1-v1`, 15_000);
    expect(fired.returnvalue).toMatchObject({ status: 'queued', channels: ['email', 'sms', 'whatsapp'] });
    const manage = `https://app.example.com/b/${apt.id}`;

    const reminder = await until(() => fakes.emails(apt.attendee.email!).find((e) => /^Bientôt/.test(e.subject)), 10_000, 'H-1 email');
    expect(reminder.html).toContain(`href="${apt.visioUrl}"`);
    expect(reminder.html).toContain(`href="${manage}"`);
    expect(reminder.attachments).toBeUndefined(); // reminders carry no invitation

    const [sms] = await until(() => fakes.sms(apt.attendee.phone!).length > 0 && fakes.sms(apt.attendee.phone!), 10_000, 'H-1 SMS');
    expect(sms!.body).toContain(apt.visioUrl);
    expect(sms!.body).toContain(`Modifier : ${manage}`);
    expect(smsLength(sms!.body!).segments).toBeLessThanOrEqual(2);

    const [wa] = await until(() => whatsapp(apt.attendee.phone!).length > 0 && whatsapp(apt.attendee.phone!), 10_000, 'H-1 WhatsApp');
    const when = formatWhen(apt.scheduledAt, 'fr', 'Europe/Paris');
    expect(wa!.contentSid).toBe(SID('b')); // reminder.fr wins over reminder
    expect(wa!.body).toBeUndefined();
    expect(JSON.parse(wa!.contentVariables!)).toEqual({ '1': 'Paul Durand', '2': apt.title, '3': when.date, '4': when.time, '5': apt.visioUrl });
  });

  it('a visio link too long for two segments is left out of the SMS reminder, kept in the email', async () => {
    const h = await harness(ALL_QUEUES, { BOOKING_MANAGE_URL: MANAGE });
    const long = `https://visio.example.com/r/${'x'.repeat(300)}`;
    const apt = makeAppointment(HOUR + 2_000, { visioUrl: long, reminderChannels: ['email', 'sms'] });
    await h.client.appointments.booked(apt);
    await finished(h, 'reminder', `${apt.id}-H-1-v1`, 15_000);
    const [sms] = await until(() => fakes.sms(apt.attendee.phone!).length > 0 && fakes.sms(apt.attendee.phone!), 10_000, 'H-1 SMS');
    expect(sms!.body).not.toContain('visio.example.com');
    expect(sms!.body).toContain(`https://app.example.com/b/${apt.id}`);
    expect(smsLength(sms!.body!).segments).toBeLessThanOrEqual(2);
    const email = await until(() => fakes.emails(apt.attendee.email!).find((e) => /^Bientôt/.test(e.subject)), 10_000, 'H-1 email');
    expect(email.html).toContain(long);
  });

  it('without a template for the kind, WhatsApp gets the plain body; a cancellation uses its own', async () => {
    const h = await harness([...ALL_QUEUES, 'whatsapp'], env);
    const apt = makeAppointment(3 * 24 * HOUR, { reminderChannels: ['whatsapp'], locale: 'en' });
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`, 20_000);
    const moved = { ...apt, scheduledAt: new Date(Date.parse(apt.scheduledAt) + HOUR).toISOString() };
    await finished(h, 'appointment', (await h.client.appointments.rescheduled(moved)).id);
    const [notice] = await until(() => whatsapp(apt.attendee.phone!).length > 0 && whatsapp(apt.attendee.phone!), 10_000, 'move notice');
    expect(notice!.contentSid).toBeUndefined();
    expect(notice!.body).toMatch(/^Appointment .* moved to /);
    await finished(h, 'appointment', (await h.client.appointments.cancelled(apt.id)).id);
    const all = await until(() => whatsapp(apt.attendee.phone!).length > 1 && whatsapp(apt.attendee.phone!), 10_000, 'cancel notice');
    expect(all[1]!.contentSid).toBe(SID('c'));
    expect(JSON.parse(all[1]!.contentVariables!)['5']).toBe(''); // nothing to join any more
  });
});

describe('BOOKING_MANAGE_URL and WHATSAPP_TEMPLATES configuration', () => {
  const load = (env: Record<string, string>) => () => loadConfig(testEnv(env));

  it('stops start-up naming the variable', () => {
    for (const bad of ['not json', '[]', JSON.stringify({ reminder: 'HX123' }), JSON.stringify({ birthday: SID('a') }), JSON.stringify({ 'reminder.de': SID('a') })]) {
      expect(load({ WHATSAPP_TEMPLATES: bad })).toThrow(ConfigError);
      expect(load({ WHATSAPP_TEMPLATES: bad })).toThrow(/WHATSAPP_TEMPLATES/);
    }
    expect(load({ BOOKING_MANAGE_URL: 'https://app.example.com/booking' })).toThrow(/BOOKING_MANAGE_URL: must contain \{id\}/);
    expect(load({ BOOKING_MANAGE_URL: 'ftp://x/{id}' })).toThrow(/BOOKING_MANAGE_URL/);
  });

  it('`<kind>.<locale>` wins over `<kind>`; J-1 and H-1 use `reminder`; doctor names the kinds', () => {
    const config = loadConfig(testEnv({ WHATSAPP_TEMPLATES: TEMPLATES }));
    expect(whatsappTemplate(config, 'J-1', 'fr')).toBe(SID('b'));
    expect(whatsappTemplate(config, 'H-1', 'en')).toBe(SID('a'));
    expect(whatsappTemplate(config, 'confirmation', 'fr')).toBeUndefined();
    expect(whatsappTemplatesSummary(config)).toBe('templates: cancelled, reminder, reminder.fr; plain text for confirmation, rescheduled');
    expect(whatsappTemplatesSummary(loadConfig(testEnv()))).toBe('templates: none');
  });
});
