import type { Appointment } from '../contract/schemas.js';
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
