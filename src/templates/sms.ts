/**
 * SMS length rules (3GPP TS 23.038): GSM-7 gives 160 characters in one segment and 153
 * per segment when split; any character outside GSM-7 switches the whole message to
 * UCS-2: 70, then 67 per segment. The extension table costs two septets a character.
 */
const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENDED = '^{}\\[~]|€\f';
const BASIC = new Set(GSM7_BASIC);
const EXTENDED = new Set(GSM7_EXTENDED);

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsLength {
  encoding: SmsEncoding;
  /** Septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
  segments: number;
}

export function smsLength(text: string): SmsLength {
  let septets = 0;
  let gsm = true;
  for (const ch of text) {
    if (BASIC.has(ch)) septets += 1;
    else if (EXTENDED.has(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) return { encoding: 'GSM-7', units: septets, segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
  const units = text.length; // UTF-16 code units: an emoji takes two
  return { encoding: 'UCS-2', units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
}

/** At most two segments: 306 GSM-7 septets or 134 UCS-2 units. */
export const MAX_SEGMENTS = 2;

/**
 * Builds the message with the longest title that keeps it within MAX_SEGMENTS. Only the
 * title gives way: the date, time and link are what the attendee needs. A link too long
 * for two segments on its own is still sent whole (more segments), never cut.
 */
export function fitSms(build: (title: string) => string, title: string, maxSegments = MAX_SEGMENTS): string {
  const full = build(title);
  if (smsLength(full).segments <= maxSegments) return full;
  const chars = [...title];
  for (let n = chars.length - 1; n >= 0; n--) {
    const cut = n === 0 ? '' : chars.slice(0, n).join('').trimEnd() + '...';
    const text = build(cut);
    if (smsLength(text).segments <= maxSegments) return text;
  }
  return build('');
}
