import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { buildInvitation } from '../src/appointments/invitation.js';
import type { StoredAppointment } from '../src/appointments/store.js';
import type { Appointment } from '../src/contract/schemas.js';
import { HOUR, makeAppointment, until, appointmentSuite, ALL_QUEUES } from './support/appointments.js';
import type { DeliveredEmail } from './fakes/resend.js';
import { finished } from './support/harness.js';

const DAY = 24 * HOUR;
const MANAGE = 'https://app.example.com/booking/{id}?from=mail';

/** The one VEVENT of an email's invite.ics, read with ical.js, and the calendar's METHOD. */
function invitationOf(email: DeliveredEmail) {
  const att = email.attachments?.find((a) => a.filename === 'invite.ics');
  expect(att, `invite.ics on "${email.subject}"`).toBeDefined();
  const ics = Buffer.from(att!.content, 'base64').toString('utf8');
  const cal = new ICAL.Component(ICAL.parse(ics));
  const events = cal.getAllSubcomponents('vevent');
  expect(events).toHaveLength(1);
  const ev = events[0]!;
  const prop = (name: string) => ev.getFirstPropertyValue(name);
  return {
    ics,
    contentType: att!.content_type,
    method: cal.getFirstPropertyValue('method'),
    uid: prop('uid') as string,
    sequence: Number(prop('sequence')),
    start: (prop('dtstart') as ICAL.Time).toJSDate().toISOString(),
    startUtc: (prop('dtstart') as ICAL.Time).zone?.tzid,
    end: (prop('dtend') as ICAL.Time).toJSDate().toISOString(),
    summary: prop('summary') as string,
    location: prop('location') as string | null,
    description: prop('description') as string,
    status: prop('status') as string,
    organizer: ev.getFirstProperty('organizer'),
    attendee: ev.getFirstProperty('attendee'),
  };
}

const iso = (s: string) => new Date(s).toISOString();

describe('calendar invitations, the host told, links', () => {
  const { fakes, harness } = appointmentSuite();

  const emailsTo = (to: string, n: number) =>
    until(() => fakes.emails(to).length >= n && fakes.emails(to), 10_000, `${n} emails to ${to}`);
  const bySubject = (list: DeliveredEmail[], re: RegExp) => list.find((m) => re.test(m.subject))!;

  it('booked, moved, cancelled: one UID, SEQUENCE rising, UTC times, REQUEST then CANCEL; the host gets the same', async () => {
    const h = await harness(ALL_QUEUES, { BOOKING_MANAGE_URL: MANAGE });
    const apt = makeAppointment(3 * DAY, { id: `apt_${Date.now()}.x-y`, reminderChannels: ['email'] });
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`, 20_000);
    const [confirmation] = await emailsTo(apt.attendee.email!, 1);

    // The job carries a reference, never the invitation itself.
    const job = await h.queue('email').getJob(`apt-${apt.id}-confirmation-v1-email`);
    expect(job!.data.ref).toEqual({ appointmentId: apt.id, version: 1, kind: 'confirmation', recipient: 'attendee' });
    expect(job!.data.attachments).toBeUndefined();

    const booked = invitationOf(confirmation!);
    expect(booked.contentType).toBe('text/calendar; method=REQUEST');
    expect(booked.method).toBe('REQUEST');
    expect(booked.uid).toBe(`${apt.id}@example.com`);
    expect(booked.sequence).toBe(1);
    expect(booked.ics).toMatch(/^DTSTART:\d{8}T\d{6}Z\r$/m);
    expect(booked.start).toBe(iso(apt.scheduledAt));
    expect(booked.end).toBe(iso(new Date(Date.parse(apt.scheduledAt) + 30 * 60_000).toISOString()));
    expect(booked.summary).toBe(apt.title);
    expect(booked.location).toBe(apt.visioUrl);
    expect(booked.description).toContain(apt.visioUrl!);
    expect(booked.status).toBe('CONFIRMED');
    expect(booked.organizer!.getFirstValue()).toBe('mailto:claire@example.com');
    expect(booked.organizer!.getParameter('cn')).toBe('Claire Martin');
    expect(String(booked.attendee!.getFirstValue()).toLowerCase()).toBe(`mailto:${apt.attendee.email}`);
    // Links: manage (id URL-encoded into the configured page) and Google Calendar.
    const manage = `https://app.example.com/booking/${encodeURIComponent(apt.id)}?from=mail`;
    expect(confirmation!.html).toContain(`href="${manage}"`);
    expect(confirmation!.text).toContain(manage);
    expect(confirmation!.html).toMatch(/href="https:\/\/calendar\.google\.com\/calendar\/render\?action=TEMPLATE&amp;text=[^"]+&amp;dates=\d{8}T\d{6}Z%2F\d{8}T\d{6}Z/);

    const moved = { ...apt, scheduledAt: new Date(Date.parse(apt.scheduledAt) + DAY + 30 * 60_000).toISOString() };
    await finished(h, 'appointment', (await h.client.appointments.rescheduled(moved)).id);
    const afterMove = await emailsTo(apt.attendee.email!, 2);
    const m = invitationOf(bySubject(afterMove, /déplacé/));
    expect(m).toMatchObject({ method: 'REQUEST', uid: booked.uid, sequence: 2, start: iso(moved.scheduledAt), status: 'CONFIRMED' });

    await finished(h, 'appointment', (await h.client.appointments.cancelled(apt.id)).id);
    const afterCancel = await emailsTo(apt.attendee.email!, 3);
    const c = invitationOf(bySubject(afterCancel, /annulé/));
    expect(c).toMatchObject({ method: 'CANCEL', uid: booked.uid, sequence: 3, start: iso(moved.scheduledAt), status: 'CANCELLED' });
    expect(c.contentType).toBe('text/calendar; method=CANCEL');
    // A cancellation has nothing to move or cancel any more.
    expect(bySubject(afterCancel, /annulé/).html).not.toContain('app.example.com/booking');

    // The host: the same three, in their own wording, with the same invitation.
    const host = await until(
      () => fakes.resend.delivered.filter((e) => e.to.includes('claire@example.com') && e.subject.includes(apt.title)).length >= 3 &&
        fakes.resend.delivered.filter((e) => e.to.includes('claire@example.com') && e.subject.includes(apt.title)),
      10_000,
      'three host emails',
    );
    expect(host.map((e) => e.subject)).toEqual([
      `Nouveau rendez-vous : ${apt.title} avec Paul Durand`,
      `Rendez-vous déplacé : ${apt.title} avec Paul Durand`,
      `Rendez-vous annulé : ${apt.title} avec Paul Durand`,
    ]);
    expect(host[0]!.text).toMatch(/^Bonjour Claire Martin,/);
    expect(host[0]!.text).toContain('Participant : Paul Durand');
    expect(host[0]!.html).not.toContain('app.example.com/booking');
    expect(host.map((e) => invitationOf(e)).map((i) => [i.method, i.uid, i.sequence])).toEqual([
      ['REQUEST', booked.uid, 1],
      ['REQUEST', booked.uid, 2],
      ['CANCEL', booked.uid, 3],
    ]);
    for (const [step, v] of [['confirmation', 1], ['rescheduled', 2], ['cancelled', 3]] as const)
      expect(await h.queue('email').getJob(`apt-${apt.id}-host-${step}-v${v}-email`)).toBeDefined();
  });

  it('notifyHost: false tells only the attendee; without host.email the organizer is EMAIL_FROM with the host name; en wording', async () => {
    const h = await harness();
    const quiet = makeAppointment(3 * DAY, { notifyHost: false, title: `Quiet ${Date.now()}` });
    const noHostEmail = makeAppointment(3 * DAY, { host: { name: 'Dr. Who' }, locale: 'en', title: `Solo ${Date.now()}` });
    const english = makeAppointment(3 * DAY, { locale: 'en', host: { name: 'Ann Host', email: 'ann@example.com' }, title: `English ${Date.now()}` });
    for (const a of [quiet, noHostEmail, english]) await h.client.appointments.booked(a);
    for (const a of [quiet, noHostEmail, english]) await finished(h, 'appointment', `apt-${a.id}-confirm-v1`, 20_000);
    await emailsTo(quiet.attendee.email!, 1);
    const [solo] = await emailsTo(noHostEmail.attendee.email!, 1);
    const i = invitationOf(solo!);
    expect(i.organizer!.getFirstValue()).toBe('mailto:no-reply@example.com');
    expect(i.organizer!.getParameter('cn')).toBe('Dr. Who');
    const [hostMail] = await until(() => fakes.emails('ann@example.com').filter((e) => e.subject.includes(english.title)).length > 0 && fakes.emails('ann@example.com').filter((e) => e.subject.includes(english.title)), 10_000, 'host email');
    expect(hostMail!.subject).toBe(`New booking: ${english.title} with Paul Durand`);
    expect(invitationOf(hostMail!).organizer!.getFirstValue()).toBe('mailto:ann@example.com');
    await new Promise((r) => setTimeout(r, 300));
    expect(fakes.resend.delivered.filter((e) => e.subject.includes(quiet.title) && e.to.includes('claire@example.com'))).toEqual([]);
    expect(await h.queue('email').getJob(`apt-${quiet.id}-host-confirmation-v1-email`)).toBeUndefined();
  });

  it('an email job whose version is no longer stored is sent without an invitation; producers cannot set one', async () => {
    const h = await harness();
    const apt = makeAppointment(3 * DAY, { host: { name: 'Claire Martin' } });
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`, 20_000);
    const raw = h.queue('email');
    const stale = await raw.add('send', { to: apt.attendee.email, subject: 'Stale', text: 'x', ref: { appointmentId: apt.id, version: 7, kind: 'rescheduled', recipient: 'attendee' } });
    expect((await finished(h, 'email', stale.id!)).returnvalue).toMatchObject({ status: 'sent' });
    const sent = fakes.emails(apt.attendee.email!).find((e) => e.subject === 'Stale')!;
    expect(sent.attachments).toBeUndefined();
    // The client validates with the producers' schema, which has no such field: it is dropped.
    const { id } = await h.client.sendEmail({ to: apt.attendee.email!, subject: 'Forged', text: 'x', ref: { appointmentId: apt.id, version: 1, kind: 'confirmation', recipient: 'attendee' } } as never);
    expect((await raw.getJob(id))!.data.ref).toBeUndefined();
    const bad = await raw.add('send', { to: apt.attendee.email, subject: 'Bad', text: 'x', ref: { appointmentId: apt.id, version: 0, kind: 'J-2', recipient: 'attendee' } });
    expect((await finished(h, 'email', bad.id!)).failedReason).toMatch(/^INVALID_PAYLOAD: .*ref\.kind.*ref\.version/);
  });

  it('a Google Meet appointment uses the Calendar event iCalUID', async () => {
    const h = await harness();
    const apt = makeAppointment(3 * DAY, { visioProvider: 'GOOGLE_MEET', visioUrl: null });
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`, 20_000);
    const [mail] = await emailsTo(apt.attendee.email!, 1);
    const inv = invitationOf(mail!);
    const event = [...fakes.google.events.values()].find((e) => e.summary === apt.title)!;
    expect(inv.uid).toBe(`${event.id}@google.com`);
    expect(inv.location).toBe(event.hangoutLink);
  });

  it('keeps the first invitation UID when the meeting moves away from Google Meet, so the same calendar entry is updated', async () => {
    const h = await harness();
    const apt = makeAppointment(3 * DAY, { visioProvider: 'GOOGLE_MEET', visioUrl: null });
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`, 20_000);
    const [first] = await emailsTo(apt.attendee.email!, 1);
    const booked = invitationOf(first!);
    expect(booked.uid).toMatch(/@google\.com$/);

    const moved = { ...apt, visioProvider: 'ZOOM' as const, scheduledAt: new Date(Date.parse(apt.scheduledAt) + HOUR).toISOString() };
    await finished(h, 'appointment', (await h.client.appointments.rescheduled(moved)).id, 20_000);
    const m = invitationOf(bySubject(await emailsTo(apt.attendee.email!, 2), /déplacé/));
    expect(m).toMatchObject({ method: 'REQUEST', uid: booked.uid, sequence: 2, start: iso(moved.scheduledAt) });
    // The Meet is gone: its link must not linger in the calendar entry.
    expect(booked.location).toBeTruthy();
    expect(m.location).not.toBe(booked.location);

    await finished(h, 'appointment', (await h.client.appointments.cancelled(apt.id)).id, 20_000);
    const c = invitationOf(bySubject(await emailsTo(apt.attendee.email!, 3), /annulé/));
    expect(c).toMatchObject({ method: 'CANCEL', uid: booked.uid, sequence: 3 });
  });

  it('a hostile title and names give a valid, escaped, folded invitation and escaped html', async () => {
    const h = await harness();
    // Line breaks in a title or name are refused by the schema (README "Queues and payloads"); the
    // unit test below feeds them to the builder directly.
    const title = `a;b,c BEGIN:VEVENT END:VCALENDAR <script>alert(1)</script> "q" \\n ${'é'.repeat(120)}`.slice(0, 200);
    const apt = makeAppointment(3 * DAY, { title, attendee: { ...makeAppointment(0).attendee, name: 'Paul "; x,y <b>' } });
    await h.client.appointments.booked(apt);
    await finished(h, 'appointment', `apt-${apt.id}-confirm-v1`, 20_000);
    const [mail] = await emailsTo(apt.attendee.email!, 1);
    const i = invitationOf(mail!);
    expect(i.summary.replace(/\r/g, '')).toBe(title.replace(/\r/g, ''));
    expect(i.ics.split('\r\n').every((l) => Buffer.byteLength(l) <= 75)).toBe(true);
    expect(i.ics.match(/^BEGIN:VEVENT/gm)).toHaveLength(1);
    expect(mail!.html).not.toContain('<script>');
    expect(mail!.html).toContain('&lt;script&gt;');
  });
});

describe('buildInvitation (unit)', () => {
  const stored = (a: Partial<Appointment>, version = 4): StoredAppointment => ({
    id: 'apt_1',
    version,
    status: 'active',
    eventAt: 0,
    lastEvent: '',
    lastKind: 'book',
    changes: { time: false, meeting: false },
    done: version,
    appointment: { ...makeAppointment(DAY), id: 'apt_1', ...a },
  });

  it('10 KB of hostile text still parses, one VEVENT, lines folded at 75 octets', () => {
    const hostile = `x;,\r\n<script>"END:VEVENT"\n`.repeat(400); // ~10 KB
    const ics = buildInvitation(stored({ title: hostile, attendee: { name: hostile, email: 'p@example.com' }, host: { name: hostile } }), 'confirmation', {
      email: { from: 'Cabinet <no-reply@example.com>' },
    } as never);
    expect(ics.length).toBeGreaterThan(10_000);
    expect(ics.split('\r\n').every((l) => Buffer.byteLength(l) <= 75)).toBe(true);
    const cal = new ICAL.Component(ICAL.parse(ics));
    expect(cal.getAllSubcomponents('vevent')).toHaveLength(1);
    const ev = cal.getFirstSubcomponent('vevent')!;
    expect(ev.getFirstPropertyValue('summary')).toBe(hostile.replace(/\r/g, ''));
    expect(String(ev.getFirstProperty('attendee')!.getFirstValue()).toLowerCase()).toBe('mailto:p@example.com');
    expect(ev.getFirstPropertyValue('sequence')).toBe(4);
  });
});
