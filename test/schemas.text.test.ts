import { describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { issuesOf } from '../src/contract/registry.js';
import {
  MAX_RECORD_KEYS,
  appointment,
  appointmentCancelled,
  emailPayload,
  meetingCreatePayload,
  smsPayload,
  whatsappPayload,
} from '../src/contract/schemas.js';

/** The issues a payload gets, as `path: message` lines (empty when it is valid). */
const issues = (schema: ZodType, data: unknown) => {
  const r = schema.safeParse(data);
  return r.success ? [] : issuesOf(r.error).map((i) => `${i.path}: ${i.message}`);
};

const EMAIL = { to: 'paul@example.com', subject: 'Bonjour', text: 'Bonjour Paul' };
const APT = {
  id: 'apt_1',
  scheduledAt: '2030-01-15T10:00:00Z',
  duration: 30,
  title: 'Consultation',
  attendee: { name: 'Paul Durand', phone: '+33612345678' },
};
const SID = 'HX' + 'ab'.repeat(16);

// Every C0 control character but tab, LF and CR, and DEL.
const BODY_FORBIDDEN = [...Array(32).keys(), 0x7f].filter((c) => ![9, 10, 13].includes(c)).map((c) => String.fromCharCode(c));
const ALL_CONTROLS = [...Array(32).keys(), 0x7f].map((c) => String.fromCharCode(c));
const SUBJECT_ONLY = ['\u2028', '\u2029', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];

describe('schema text rules', () => {
  it('bodies keep tab, CR and LF but refuse every other control character and DEL', () => {
    expect(issues(smsPayload, { to: '+33612345678', body: 'a\tb\r\nc' })).toEqual([]);
    expect(issues(emailPayload, { ...EMAIL, html: '<p>\ta\r\n</p>', text: 'x\ny' })).toEqual([]);
    for (const c of BODY_FORBIDDEN) {
      const code = `U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
      expect(issues(smsPayload, { to: '+33612345678', body: `a${c}b` }), code).toEqual([
        'body: must not contain control characters (tab, CR and LF are allowed)',
      ]);
      expect(issues(whatsappPayload, { to: '+33612345678', body: `a${c}` })[0], code).toMatch(/^body: must not contain control/);
      expect(issues(emailPayload, { ...EMAIL, html: `<p>${c}</p>` })[0], code).toMatch(/^html: must not contain control/);
      expect(issues(emailPayload, { ...EMAIL, text: `${c}` })[0], code).toMatch(/^text: must not contain control/);
      expect(issues(appointmentCancelled, { id: 'apt_1', reason: `x${c}` })[0], code).toMatch(/^reason: /);
      expect(issues(whatsappPayload, { to: '+33612345678', contentSid: SID, contentVariables: { '1': `P${c}` } })[0], code).toMatch(/^contentVariables\.1: /);
    }
  });

  it('subjects, names, titles and topics refuse every control character, tab and line breaks included', () => {
    for (const c of ALL_CONTROLS) {
      const code = `U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
      expect(issues(emailPayload, { ...EMAIL, subject: `Bon${c}jour` }), code).toEqual(['subject: must not contain line breaks or other control characters']);
      expect(issues(appointment, { ...APT, title: `C${c}` })[0], code).toMatch(/^title: must not contain line breaks or other control/);
      expect(issues(appointment, { ...APT, attendee: { name: `Paul${c}` } })[0], code).toMatch(/^attendee\.name: must not contain/);
      expect(issues(appointment, { ...APT, host: { name: `C${c}` } })[0], code).toMatch(/^host\.name: /);
      expect(issues(emailPayload, { ...EMAIL, from: `Cabinet${c} <rdv@example.com>` })[0], code).toMatch(/^from: must not contain line breaks or other control/);
      expect(
        issues(meetingCreatePayload, { appointmentId: 'a', scheduledAt: APT.scheduledAt, duration: 30, visioProvider: 'ZOOM', topic: `T${c}` })[0],
        code,
      ).toMatch(/^topic: /);
    }
  });

  it('subjects and titles refuse line separators and bidi overrides; bodies and names may carry them', () => {
    for (const c of SUBJECT_ONLY) {
      const code = `U+${c.charCodeAt(0).toString(16)}`;
      expect(issues(emailPayload, { ...EMAIL, subject: `Facture ${c}fdp.exe` }), code).toEqual([
        'subject: must not contain U+2028/U+2029 or bidi override/isolate characters (U+202A-U+202E, U+2066-U+2069)',
      ]);
      expect(issues(appointment, { ...APT, title: `x${c}` })[0], code).toMatch(/^title: must not contain U\+2028/);
      expect(issues(smsPayload, { to: '+33612345678', body: `x${c}` }), code).toEqual([]);
      expect(issues(appointment, { ...APT, attendee: { name: `\u2067محمد\u2069` } }), code).toEqual([]);
    }
    expect(issues(emailPayload, { ...EMAIL, subject: 'Rendez-vous confirmé : مرحبا 🎉' })).toEqual([]);
  });

  it(`tags and contentVariables take at most ${MAX_RECORD_KEYS} keys`, () => {
    const record = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    expect(issues(emailPayload, { ...EMAIL, tags: record(MAX_RECORD_KEYS) })).toEqual([]);
    expect(issues(emailPayload, { ...EMAIL, tags: record(MAX_RECORD_KEYS + 1) })).toEqual([`tags: at most ${MAX_RECORD_KEYS} keys`]);
    expect(issues(emailPayload, { ...EMAIL, tags: record(60_000) })).toEqual([`tags: at most ${MAX_RECORD_KEYS} keys`]);
    expect(issues(whatsappPayload, { to: '+33612345678', contentSid: SID, contentVariables: record(MAX_RECORD_KEYS) })).toEqual([]);
    expect(issues(whatsappPayload, { to: '+33612345678', contentSid: SID, contentVariables: record(MAX_RECORD_KEYS + 1) })).toEqual([
      `contentVariables: at most ${MAX_RECORD_KEYS} keys`,
    ]);
  });
});
