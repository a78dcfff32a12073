import { escapeHtml, safeLink } from './escape.js';
import { formatWhen, type Locale } from './format.js';
import { fitSms } from './sms.js';
import { STRINGS, type TemplateKind, type Values } from './strings.js';

export type { TemplateKind };

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
}

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

export function renderAppointment(kind: TemplateKind, a: AppointmentView, defaults: Defaults): Rendered {
  const locale = isLocale(a.locale) ? a.locale : defaults.locale;
  const timezone = a.timezone || defaults.timezone;
  const s = STRINGS[locale];
  const when = formatWhen(a.scheduledAt, locale, timezone);
  // A cancelled appointment has nothing to join.
  const link = kind === 'cancelled' ? undefined : safeLink(a.link);
  const raw: Values = {
    title: a.title,
    name: a.attendee.name,
    host: a.host?.name ?? '',
    ...when,
    duration: String(a.duration),
    link: link ?? '',
  };
  const html = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, escapeHtml(v)])) as unknown as Values;

  const subject = s.subject[kind](raw).replace(/[\r\n]+/g, ' ');
  const text = [
    s.greeting(raw),
    '',
    s.intro[kind](raw),
    s.when(raw),
    s.duration(raw),
    ...(a.host ? [s.host(raw)] : []),
    ...(link ? ['', s.linkLine(raw)] : []),
    '',
  ].join('\n');
  const p = (x: string) => `<p style="margin:0 0 12px">${x}</p>`;
  const body = [
    p(s.greeting(html)),
    p(s.intro[kind](html)),
    p(`<strong>${s.when(html)}</strong><br>${s.duration(html)}${a.host ? `<br>${s.host(html)}` : ''}`),
    ...(link
      ? [p(`<a href="${html.link}" style="display:inline-block;padding:10px 16px;background:#2563eb;color:#fff;text-decoration:none;border-radius:6px">${escapeHtml(s.join)}</a>`), p(`<small>${html.link}</small>`)]
      : []),
  ].join('\n');
  const htmlDoc = `<!doctype html>\n<html lang="${locale}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>\n<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#111">\n${body}\n</body></html>\n`;

  const sms = fitSms((title) => s.sms[kind](raw, title ? ` "${title}"` : '', link ? ` ${link}` : ''), a.title.replace(/\s+/g, ' ').trim());
  return { locale, timezone, email: { subject, html: htmlDoc, text }, sms };
}
