export type Locale = 'fr' | 'en';

export interface When {
  /** "lundi 15 janvier 2024" / "Monday, January 15, 2024" */
  date: string;
  /** "lun. 15 janv." / "Mon, Jan 15": for SMS */
  shortDate: string;
  /** "11:00" / "11:00 AM" */
  time: string;
  /** The IANA zone the times are in, e.g. "Europe/Paris". */
  zone: string;
}

// ICU puts narrow/non-breaking spaces in times ("11:00\u202fAM"): harmless in email but
// they are not GSM-7 and would turn a whole SMS into UCS-2 (70 chars a segment).
const plainSpaces = (s: string) => s.replace(/[\u00a0\u202f\u2009]/g, ' ');

const fmt = (locale: Locale, timeZone: string, o: Intl.DateTimeFormatOptions, d: Date) =>
  plainSpaces(new Intl.DateTimeFormat(locale, { ...o, timeZone }).format(d));

/** The appointment's moment as its attendee reads it: their locale, the appointment's zone. */
export function formatWhen(at: Date | string, locale: Locale, timeZone: string): When {
  const d = typeof at === 'string' ? new Date(at) : at;
  return {
    date: fmt(locale, timeZone, { dateStyle: 'full' }, d),
    shortDate: fmt(locale, timeZone, { weekday: 'short', day: 'numeric', month: 'short' }, d),
    time: fmt(locale, timeZone, { timeStyle: 'short' }, d),
    zone: timeZone,
  };
}
