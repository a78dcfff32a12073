import type { Config, WhatsAppTemplateKind } from '../config.js';
import type { Appointment, WhatsAppPayload } from '../contract/schemas.js';
import type { Rendered, TemplateKind } from '../templates/appointment.js';
import { safeLink } from '../templates/escape.js';
import { formatWhen } from '../templates/format.js';
import type { Channel } from './ids.js';

/** README "Queues and payloads": `reminderChannels`, by default `sms` when the attendee has a phone, else `email`. */
export function reminderChannels(a: Appointment): Channel[] {
  if (a.reminderChannels) return [...new Set(a.reminderChannels)];
  return a.attendee.phone ? ['sms'] : ['email'];
}

/**
 * A move or a cancellation is told where the confirmation went (email) and where the
 * reminders would have gone: the attendee hears about it wherever they expect news.
 */
export function noticeChannels(a: Appointment): Channel[] {
  return [...new Set<Channel>([...(a.attendee.email ? (['email'] as const) : []), ...reminderChannels(a)])];
}

/** The address a channel needs, if the attendee gave one. */
export function addressFor(a: Appointment, channel: Channel): string | undefined {
  return channel === 'email' ? a.attendee.email : a.attendee.phone;
}

/** README "Channel fallback": `fallbackChannels`, by default `sms` then `email`; `[]` turns it off. */
export function fallbackChannels(a: Appointment): Channel[] {
  return [...new Set(a.fallbackChannels ?? (['sms', 'email'] as const))];
}

/** The host's address when they are to be told (README "The host is told"): `notifyHost: false` opts out. */
export function hostEmail(a: Appointment): string | undefined {
  return a.notifyHost === false ? undefined : a.host?.email;
}

/** BOOKING_MANAGE_URL with `{id}` replaced (URL-encoded), when configured. */
export function manageLink(config: Pick<Config, 'appointments'>, id: string): string | undefined {
  return config.appointments.manageUrl?.replaceAll('{id}', encodeURIComponent(id));
}

/** The Content SID for a kind and locale: `<kind>.<locale>` wins over `<kind>`. */
export function whatsappTemplate(config: Pick<Config, 'appointments'>, kind: TemplateKind, locale: string): string | undefined {
  const k: WhatsAppTemplateKind = kind === 'J-1' || kind === 'H-1' ? 'reminder' : kind;
  const t = config.appointments.whatsappTemplates;
  return t[`${k}.${locale}`] ?? t[k];
}

/**
 * A WhatsApp template message (README "WhatsApp templates"): WhatsApp accepts only approved
 * templates outside the 24 h session window. Undefined when no template is configured.
 */
export function whatsappContent(
  config: Pick<Config, 'appointments' | 'defaults'>,
  kind: TemplateKind,
  a: Appointment & { link?: string | undefined },
  r: Pick<Rendered, 'locale' | 'timezone'>,
): Pick<WhatsAppPayload, 'contentSid' | 'contentVariables'> | undefined {
  const contentSid = whatsappTemplate(config, kind, r.locale);
  if (!contentSid) return undefined;
  const when = formatWhen(a.scheduledAt, r.locale, r.timezone);
  const link = kind === 'cancelled' ? undefined : safeLink(a.link);
  // Twilio caps each variable; a long title or name is cut rather than refused.
  const cap = (v: string) => (v.length > 1024 ? `${v.slice(0, 1021)}...` : v);
  return {
    contentSid,
    contentVariables: { '1': cap(a.attendee.name), '2': cap(a.title), '3': when.date, '4': when.time, '5': cap(link ?? '') },
  };
}
