/**
 * Seeded generator of random and malformed job payloads for the fuzz test: the same seed
 * gives the same jobs, so a failure reproduces.
 */

/** mulberry32: small, fast, good enough for test data. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzJob {
  queue: FuzzQueue;
  name: string;
  data: unknown;
  /** Half the jobs come without retry options, as from a plain producer in another language. */
  withOptions: boolean;
}

export const FUZZ_QUEUES = ['email', 'sms', 'whatsapp', 'meeting', 'appointment'] as const;
export type FuzzQueue = (typeof FUZZ_QUEUES)[number];

const APPOINTMENT = {
  id: 'apt_123',
  scheduledAt: '2030-01-15T10:00:00Z',
  duration: 30,
  title: 'Rendez-vous découverte',
  timezone: 'Europe/Paris',
  locale: 'fr',
  visioProvider: 'ZOOM',
  visioUrl: null,
  host: { name: 'Claire Martin', email: 'claire@example.com' },
  attendee: { name: 'Paul Durand', email: 'paul@example.com', phone: '+33612345678' },
  reminderChannels: ['sms'],
};

/** A valid payload per (queue, job name): the starting point of most mutations. */
const TEMPLATES: Record<FuzzQueue, Record<string, () => Record<string, unknown>>> = {
  email: { send: () => ({ to: 'paul@example.com', subject: 'Bonjour', html: '<p>Bonjour</p>', text: 'Bonjour' }) },
  sms: { send: () => ({ to: '+33612345678', body: 'Votre rendez-vous est demain' }) },
  whatsapp: {
    send: () => ({ to: '+33612345678', contentSid: 'HX' + 'ab'.repeat(16), contentVariables: { '1': 'Paul' } }),
  },
  meeting: {
    create: () => ({ appointmentId: 'apt_123', scheduledAt: '2030-01-15T10:00:00Z', duration: 30, visioProvider: 'ZOOM' }),
    update: () => ({ appointmentId: 'apt_123', scheduledAt: '2030-01-16T10:00:00+01:00', duration: 45 }),
    delete: () => ({ appointmentId: 'apt_123' }),
  },
  appointment: {
    booked: () => structuredClone(APPOINTMENT),
    rescheduled: () => structuredClone(APPOINTMENT),
    cancelled: () => ({ id: 'apt_123', reason: 'empêchement' }),
  },
};

const STRINGS = [
  '',
  ' ',
  'send',
  '+33612345678',
  '33612345678',
  '+1',
  '+999999999999999999999',
  '+33 6 12 34 56 78',
  'paul@example.com',
  'a@b',
  'Paul <paul@example.com>',
  'x\r\nBcc: evil@example.com',
  'paul@example.com\r\n',
  'line1\nline2',
  '\u0000\u0001\u001f',
  '\u202e\u200b\ufeff',
  '\ud800', // lone surrogate
  '😀'.repeat(40),
  '日本語のテキスト',
  'ZOOM',
  'GOOGLE_MEET',
  'CUSTOM',
  '2030-01-15T10:00:00Z',
  '2030-01-15T10:00:00',
  '2030-02-30T25:61:00Z',
  'not a date',
  '<script>alert(1)</script>',
  '${7*7}{{7*7}}',
  "'; DROP TABLE jobs; --",
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'true',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e400',
  'Europe/Paris',
  'Mars/Olympus_Mons',
  'fr',
  'en',
  'whatsapp:+33612345678',
  'HX123',
  'https://example.com/visio',
  'javascript:alert(1)',
  'apt_123',
  'apt/../../etc/passwd',
];

const KEYS = [
  'to',
  'body',
  'subject',
  'html',
  'text',
  'from',
  'replyTo',
  'tags',
  'contentSid',
  'contentVariables',
  'appointmentId',
  'scheduledAt',
  'duration',
  'visioProvider',
  'visioUrl',
  'topic',
  'timezone',
  'attendees',
  'id',
  'title',
  'locale',
  'host',
  'attendee',
  'phone',
  'email',
  'name',
  'reminderChannels',
  'reason',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '',
  ' ',
  'é',
  '😀',
  'a.b',
  '$where',
];

const NUMBERS = [0, -0, 1, -1, 30, 1.5, 1440, 1441, 2 ** 31, 2 ** 53 + 1, -1e308, 1e308, Number.MIN_VALUE];

export class FuzzGenerator {
  private readonly r: () => number;
  constructor(seed: number) {
    this.r = prng(seed);
  }

  private int(n: number) {
    return Math.floor(this.r() * n);
  }
  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  private chance(p: number) {
    return this.r() < p;
  }

  /** Sets an own, enumerable property even for `__proto__` (which an assignment would not). */
  private put(o: Record<string, unknown>, k: string, v: unknown) {
    Object.defineProperty(o, k, { value: v, enumerable: true, configurable: true, writable: true });
  }

  huge(): string {
    const size = 64 * 1024 + this.int(512 * 1024);
    return this.chance(0.5) ? 'x'.repeat(size) : '\u00e9\r\n😀'.repeat(Math.ceil(size / 5));
  }

  string(): string {
    const k = this.int(10);
    if (k < 6) return this.pick(STRINGS);
    if (k < 9) {
      // Random code points, including controls, CR/LF and astral characters.
      const len = 1 + this.int(40);
      let s = '';
      for (let i = 0; i < len; i++) {
        const c = this.pick([this.int(32), 32 + this.int(95), 0x80 + this.int(0x780), 0x1f300 + this.int(0x300), 0x2028]);
        s += String.fromCodePoint(c);
      }
      return s;
    }
    return this.pick(STRINGS) + '\r\n' + this.pick(STRINGS);
  }

  value(depth = 0): unknown {
    const k = this.int(depth > 3 ? 5 : 8);
    switch (k) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.chance(0.7) ? this.pick(NUMBERS) : (this.r() - 0.5) * 10 ** this.int(20);
      case 3:
      case 4:
        return this.string();
      case 5:
        return Array.from({ length: this.int(5) }, () => this.value(depth + 1));
      case 6:
        return this.object(depth + 1);
      default:
        return this.nested(5 + this.int(150));
    }
  }

  object(depth = 0): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    const n = this.int(6);
    for (let i = 0; i < n; i++) this.put(o, this.chance(0.8) ? this.pick(KEYS) : this.string(), this.value(depth + 1));
    return o;
  }

  /** Deeply nested junk: arrays and objects inside each other. */
  nested(depth: number): unknown {
    let v: unknown = this.pick(STRINGS);
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { [this.pick(KEYS)]: v };
    return v;
  }

  /** `{"__proto__": {...}}` and friends, as JSON from another language would carry them. */
  pollution(): Record<string, unknown> {
    return this.pick([
      () => JSON.parse('{"__proto__": {"polluted": "yes", "to": "+33612345678"}}'),
      () => JSON.parse('{"constructor": {"prototype": {"polluted": "yes"}}}'),
      () => JSON.parse('{"to": "+33612345678", "__proto__": {"body": "from the prototype"}}'),
      () => JSON.parse('{"__proto__": null}'),
    ])();
  }

  mutate(payload: Record<string, unknown>): Record<string, unknown> {
    const n = 1 + this.int(4);
    for (let i = 0; i < n; i++) {
      const keys = Object.keys(payload);
      const target = keys.length && this.chance(0.8) ? this.pick(keys) : this.pick(KEYS);
      switch (this.int(8)) {
        case 0:
          delete payload[target];
          break;
        case 1:
        case 2:
          this.put(payload, target, this.value());
          break;
        case 3:
          // A few huge strings (64-576 KB), more merely long ones.
          this.put(payload, target, this.chance(0.05) ? this.huge() : this.string().slice(0, 8).repeat(100 + this.int(1000)));
          break;
        case 4:
          this.put(payload, target, `${typeof payload[target] === 'string' ? payload[target] : ''}\r\n${this.string()}`);
          break;
        case 5:
          this.put(payload, target, this.nested(2 + this.int(60)));
          break;
        case 6:
          Object.assign(payload, this.pollution());
          this.put(payload, '__proto__', this.object());
          break;
        default:
          this.put(payload, this.string(), this.value());
      }
    }
    return payload;
  }

  job(queues: readonly FuzzQueue[]): FuzzJob {
    const queue = this.pick(queues);
    const names = Object.keys(TEMPLATES[queue]);
    const withOptions = this.chance(0.5);
    const k = this.int(20);
    if (k < 3) {
      // Not an object at all, or an object of junk.
      const data = this.pick<() => unknown>([
        () => null,
        () => 0,
        () => 42,
        () => -1.5,
        () => true,
        () => false,
        () => '',
        () => 'send',
        () => this.huge(),
        () => [],
        () => [1, 2],
        () => this.value(),
        () => this.object(),
        () => this.pollution(),
      ])();
      return { queue, name: this.pick(names), data, withOptions };
    }
    const name = this.pick(names);
    const data = TEMPLATES[queue][name]!();
    if (k < 5) {
      // A valid payload under a wrong job name.
      const wrong = this.pick(['', 'Send', 'SEND', 'send ', 'create\n', 'booked\r\n', '__proto__', 'constructor', 'J-1', 'deliver', '日本', this.string()]);
      return { queue, name: names.includes(wrong) ? `${wrong}-x` : wrong, data: this.chance(0.3) ? this.mutate(data) : data, withOptions };
    }
    return { queue, name, data: this.mutate(data), withOptions };
  }
}
