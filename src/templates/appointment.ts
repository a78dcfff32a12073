import { escapeHtml, safeLink } from './escape.js';
import { formatWhen, type Locale } from './format.js';
import { fitSms, MAX_SEGMENTS, smsLength } from './sms.js';
import { STRINGS, type HostKind, type TemplateKind, type Values } from './strings.js';

export type { HostKind, TemplateKind };

/** What a message needs to know about an appointment (a subset of the contract's Appointment). */
export interface AppointmentView {
  title: string;
  scheduledAt: string;
  duration: number;
  locale?: Locale | null;
  timezone?: string | null;
  attendee: { name: string };
  host?: { name: string } | null;
  /** The visio link: the producer's visioUrl or the meeting the service created. */
  link?: string | null;
  /** BOOKING_MANAGE_URL with the id in: confirmations and reminders carry it. */
  manageLink?: string | null;
}

/** Who reads it: the attendee (default) or the host, in the host's own wording. */
export type Audience = 'attendee' | 'host';

export interface Rendered {
  locale: Locale;
  timezone: string;
  email: { subject: string; html: string; text: string };
  sms: string;
}

export interface Defaults {
  locale: Locale;
  timezone: string;
}

const isLocale = (l: unknown): l is Locale => l === 'fr' || l === 'en';

const isReminder = (kind: TemplateKind) => kind === 'J-1' || kind === 'H-1';

/** Google Calendar's "add an event" page for the appointment (UTC times). */
export function googleCalendarLink(a: Pick<AppointmentView, 'title' | 'scheduledAt' | 'duration' | 'link'>): string {
  const utc = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const start = Date.parse(a.scheduledAt);
  const link = safeLink(a.link);
  const q = new URLSearchParams({
    action: 'TEMPLATE',
    text: a.title,
    dates: `${utc(start)}/${utc(start + a.duration * 60_000)}`,
    ...(link && { details: link, location: link }),
  });
  return `https://calendar.google.com/calendar/render?${q}`;
}

export function renderAppointment(kind: TemplateKind, a: AppointmentView, defaults: Defaults, audience: Audience = 'attendee'): Rendered {
  const locale = isLocale(a.locale) ? a.locale : defaults.locale;
  const timezone = a.timezone || defaults.timezone;
  const s = STRINGS[locale];
  const when = formatWhen(a.scheduledAt, locale, timezone);
  // A cancelled appointment has nothing to join.
  const link = kind === 'cancelled' ? undefined : safeLink(a.link);
  // The attendee moves or cancels from confirmations and reminders; the host has their own tools.
  const manage = audience === 'attendee' && (kind === 'confirmation' || isReminder(kind)) ? safeLink(a.manageLink) : undefined;
  const forHost = audience === 'host' && !isReminder(kind);
  const raw: Values = {
    title: a.title,
    name: a.attendee.name,
    host: a.host?.name ?? '',
    ...when,
    duration: String(a.duration),
    link: link ?? '',
    manage: manage ?? '',
  };
  const html = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, escapeHtml(v)])) as unknown as Values;
  // The calendar entry goes with the emails that carry the invitation.
  const calendar = kind === 'confirmation' || kind === 'rescheduled' ? googleCalendarLink({ ...a, link }) : undefined;

  const subject = (forHost ? s.hostSubject[kind as HostKind](raw) : s.subject[kind](raw)).replace(/[\r\n]+/g, ' ');
  const greeting = (v: Values) => (forHost ? s.greeting({ ...v, name: v.host }) : s.greeting(v));
  const intro = (v: Values) => (forHost ? s.hostIntro[kind as HostKind](v) : s.intro[kind](v));
  const withWhom = (v: Values) => (forHost ? s.attendee(v) : a.host ? s.host(v) : undefined);
  const text = [
    greeting(raw),
    '',
    intro(raw),
    s.when(raw),
    s.duration(raw),
    ...(withWhom(raw) ? [withWhom(raw)!] : []),
    ...(link ? ['', s.linkLine(raw)] : []),
    ...(manage ? ['', `${s.manage}${locale === 'fr' ? ' :' : ':'} ${manage}`] : []),
    '',
  ].join('\n');
  const p = (x: string) => `<p style="margin:0 0 12px">${x}</p>`;
  const w = withWhom(html);
  const body = [
    p(greeting(html)),
    p(intro(html)),
    p(`<strong>${s.when(html)}</strong><br>${s.duration(html)}${w ? `<br>${w}` : ''}`),
    ...(link
      ? [p(`<a href="${html.link}" style="display:inline-block;padding:10px 16px;background:#2563eb;color:#fff;text-decoration:none;border-radius:6px">${escapeHtml(s.join)}</a>`), p(`<small>${html.link}</small>`)]
      : []),
    ...(calendar ? [p(`<a href="${escapeHtml(calendar)}">${escapeHtml(s.addToCalendar)}</a>`)] : []),
    ...(manage ? [p(`<a href="${html.manage}">${escapeHtml(s.manage)}</a>`)] : []),
  ].join('\n');
  const htmlDoc = `<!doctype html>\n<html lang="${locale}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>\n<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#111">\n${body}\n</body></html>\n`;

  const title = a.title.replace(/\s+/g, ' ').trim();
  const smsWith = (extra: string) => fitSms((t) => s.sms[kind](raw, t ? ` "${t}"` : '', extra), title);
  let sms: string;
  if (isReminder(kind)) {
    // A reminder's links ride along only when they fit in two segments with the rest: the
    // date and time are what it is for. The visio link first, then the manage link.
    const v = link ? ` ${link}` : '';
    const m = manage ? s.manageSms(raw) : '';
    const tries = [...new Set([v + m, v, m, ''])];
    sms = tries.map(smsWith).find((t) => smsLength(t).segments <= MAX_SEGMENTS) ?? smsWith('');
  } else {
    sms = smsWith(link ? ` ${link}` : '');
  }
  return { locale, timezone, email: { subject, html: htmlDoc, text }, sms };
}
