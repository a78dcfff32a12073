import { describe, expect, it } from 'vitest';
import { renderAppointment, type AppointmentView } from '../src/templates/appointment.js';
import { escapeHtml } from '../src/templates/escape.js';
import { fitSms, smsLength } from '../src/templates/sms.js';

const defaults = { locale: 'fr' as const, timezone: 'Europe/Paris' };
const base: AppointmentView = {
  title: 'Rendez-vous découverte',
  scheduledAt: '2024-01-15T10:00:00Z',
  duration: 30,
  timezone: 'Europe/Paris',
  locale: 'fr',
  attendee: { name: 'Paul Durand' },
  host: { name: 'Claire Martin' },
  link: 'https://zoom.us/j/123456789?pwd=abc',
};

describe('appointment templates', () => {
  it('renders French with the time in the appointment zone', () => {
    const r = renderAppointment('confirmation', base, defaults);
    expect(r.email.subject).toBe('Rendez-vous confirmé : Rendez-vous découverte');
    expect(r.email.text).toContain('Bonjour Paul Durand,');
    expect(r.email.text).toContain('Le lundi 15 janvier 2024 à 11:00 (Europe/Paris)');
    expect(r.email.text).toContain('Rejoindre la visio : https://zoom.us/j/123456789?pwd=abc');
    expect(r.email.html).toContain('href="https://zoom.us/j/123456789?pwd=abc"');
    expect(r.email.html).toContain('<html lang="fr">');
    expect(r.sms).toBe('Rendez-vous "Rendez-vous découverte" confirmé le lun. 15 janv. à 11:00. https://zoom.us/j/123456789?pwd=abc');
  });

  it('renders English, in another zone', () => {
    const r = renderAppointment('J-1', { ...base, locale: 'en', timezone: 'America/New_York', title: 'Discovery call' }, defaults);
    expect(r.email.subject).toBe('Reminder: Discovery call, Mon, Jan 15 at 5:00 AM');
    expect(r.email.text).toContain('Hello Paul Durand,');
    expect(r.email.text).toContain('Monday, January 15, 2024 at 5:00 AM (America/New_York)');
    expect(r.sms).toBe('Reminder: appointment "Discovery call" on Mon, Jan 15 at 5:00 AM. https://zoom.us/j/123456789?pwd=abc');
  });

  it('falls back to DEFAULT_LOCALE and DEFAULT_TIMEZONE', () => {
    const r = renderAppointment('H-1', { ...base, locale: undefined, timezone: undefined }, { locale: 'en', timezone: 'Asia/Tokyo' });
    expect(r.locale).toBe('en');
    expect(r.timezone).toBe('Asia/Tokyo');
    expect(r.email.text).toContain('7:00 PM (Asia/Tokyo)');
  });

  it('has every kind in both locales, the link only where there is something to join', () => {
    for (const locale of ['fr', 'en'] as const)
      for (const kind of ['confirmation', 'rescheduled', 'cancelled', 'J-1', 'H-1'] as const) {
        const r = renderAppointment(kind, { ...base, locale }, defaults);
        expect(r.email.subject.length).toBeGreaterThan(5);
        expect(r.email.text).toContain(locale === 'fr' ? '11:00' : '11:00 AM');
        expect(r.sms).toContain(locale === 'fr' ? '11:00' : '11:00 AM');
        expect(r.sms.includes('https://zoom.us')).toBe(kind !== 'cancelled');
        expect(smsLength(r.sms).segments).toBeLessThanOrEqual(2);
      }
  });

  it('escapes every interpolated value in HTML, and keeps the text part raw', () => {
    const evil = '<script>alert("x")</script>';
    const r = renderAppointment(
      'confirmation',
      { ...base, title: `A & B ${evil}`, attendee: { name: evil }, host: { name: `"Claire" <c@x>` }, link: 'https://x.example/?a=1&b="2"' },
      defaults,
    );
    expect(r.email.html).not.toContain('<script>');
    expect(r.email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(r.email.html).toContain('A &amp; B');
    expect(r.email.html).toContain('&quot;Claire&quot; &lt;c@x&gt;');
    expect(r.email.html).toContain('href="https://x.example/?a=1&amp;b=&quot;2&quot;"');
    expect(r.email.text).toContain(`Bonjour ${evil},`);
  });

  it('drops links that are not http(s)', () => {
    const r = renderAppointment('confirmation', { ...base, link: 'javascript:alert(1)' }, defaults);
    expect(r.email.html).not.toContain('javascript:');
    expect(r.sms).not.toContain('javascript:');
  });

  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('SMS length', () => {
  it('counts GSM-7 septets, the extension table double, and UCS-2 code units', () => {
    expect(smsLength('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsLength('a'.repeat(161))).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
    expect(smsLength('€'.repeat(80)).units).toBe(160);
    expect(smsLength('é à è ù Ç').encoding).toBe('GSM-7');
    expect(smsLength('â'.repeat(70))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsLength('â'.repeat(71)).segments).toBe(2);
    expect(smsLength('😀').units).toBe(2);
  });

  it('truncates a long title to stay within two GSM-7 segments, keeping time and link', () => {
    const link = 'https://us02web.zoom.us/j/81234567890?pwd=aBcDeFgHiJkLmNoPqRsTuVwXyZ012345.1';
    const title = 'Consultation '.repeat(16).slice(0, 200);
    const r = renderAppointment('J-1', { ...base, title, link }, defaults);
    const len = smsLength(r.sms);
    expect(len.encoding).toBe('GSM-7');
    expect(len.units).toBeLessThanOrEqual(306);
    expect(len.segments).toBe(2);
    expect(r.sms).toContain('...');
    expect(r.sms).toContain('à 11:00');
    expect(r.sms.endsWith(link)).toBe(true);
  });

  it('truncates within two UCS-2 segments (134 units) when the title is not GSM-7', () => {
    const link = 'https://zoom.us/j/987654321';
    const title = 'Séance de créativité — atelier « pâtisserie » '.repeat(4).trim();
    const r = renderAppointment('H-1', { ...base, title, link }, defaults);
    const len = smsLength(r.sms);
    expect(len.encoding).toBe('UCS-2');
    expect(len.units).toBeLessThanOrEqual(134);
    expect(r.sms).toContain('à 11:00');
    expect(r.sms).toContain('lun. 15 janv.');
    expect(r.sms.endsWith(link)).toBe(true);
  });

  it('keeps a short message whole, and never cuts an over-long link', () => {
    expect(fitSms((t) => `x${t}`, 'short')).toBe('xshort');
    const link = 'https://example.com/' + 'a'.repeat(400);
    const out = fitSms((t) => `RDV${t ? ` "${t}"` : ''} ${link}`, 'Titre');
    expect(out).toBe(`RDV ${link}`);
  });
});

describe('appointment templates: host wording, manage and calendar links', () => {
  const hostile = 'a"b <script>x</script> & ;,';
  it('the host reads their own wording, fr and en, without the manage link', () => {
    const fr = renderAppointment('confirmation', { ...base, manageLink: 'https://app.example.com/b/1' }, defaults, 'host');
    expect(fr.email.subject).toBe('Nouveau rendez-vous : Rendez-vous découverte avec Paul Durand');
    expect(fr.email.text).toMatch(/^Bonjour Claire Martin,\n\nPaul Durand a réservé le rendez-vous « Rendez-vous découverte »\./);
    expect(fr.email.text).toContain('Participant : Paul Durand');
    expect(fr.email.html).not.toContain('app.example.com');
    const en = renderAppointment('cancelled', { ...base, locale: 'en' }, defaults, 'host');
    expect(en.email.subject).toBe('Appointment cancelled: Rendez-vous découverte with Paul Durand');
    expect(en.email.text).toContain('"Rendez-vous découverte" with Paul Durand has been cancelled.');
  });

  it('confirmations and reminders carry the manage link; confirmations and moves the Google Calendar link; all escaped', () => {
    const view = { ...base, title: hostile, manageLink: 'https://app.example.com/b/apt_1' };
    const c = renderAppointment('confirmation', view, defaults);
    expect(c.email.html).toContain('<a href="https://app.example.com/b/apt_1">Déplacer ou annuler le rendez-vous</a>');
    expect(c.email.text).toContain('Déplacer ou annuler le rendez-vous : https://app.example.com/b/apt_1');
    const gcal = /href="(https:\/\/calendar\.google\.com\/[^"]+)"/.exec(c.email.html)![1]!.replaceAll('&amp;', '&');
    const q = new URL(gcal).searchParams;
    expect(q.get('text')).toBe(hostile);
    expect(q.get('dates')).toBe('20240115T100000Z/20240115T103000Z');
    expect(q.get('details')).toBe(base.link);
    expect(c.email.html).not.toContain('<script>');
    expect(renderAppointment('J-1', view, defaults).email.html).toContain('https://app.example.com/b/apt_1');
    expect(renderAppointment('J-1', view, defaults).email.html).not.toContain('calendar.google.com');
    expect(renderAppointment('rescheduled', view, defaults).email.html).not.toContain('app.example.com');
    expect(renderAppointment('rescheduled', view, defaults).email.html).toContain('calendar.google.com');
    expect(renderAppointment('cancelled', view, defaults).email.html).not.toMatch(/app\.example\.com|calendar\.google\.com/);
  });
});
