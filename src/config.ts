import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bool, cleanEnv, email, makeValidator, num, port, str, url, EnvError, EnvMissingError } from 'envalid';
import { isTimeZone } from './contract/time.js';
import type { LogFormat } from './logger.js';
import { QUEUES, type QueueName } from './contract/queues.js';

/** `MAX/DURATION` (e.g. `10/1s`, `600/1m`) or `off`. */
export interface RateLimit {
  max: number;
  durationMs: number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseRateLimit(value: string): RateLimit | 'off' {
  const v = value.trim().toLowerCase();
  if (v === 'off') return 'off';
  const m = /^(\d+)\/(\d*)(ms|s|m|h)$/.exec(v);
  if (!m) throw new EnvError(`expected MAX/DURATION like 10/1s or 600/1m, or off; got "${value}"`);
  const max = Number(m[1]);
  const durationMs = Number(m[2] || '1') * UNITS[m[3]!]!;
  if (max < 1 || durationMs < 1) throw new EnvError(`MAX and DURATION must be positive; got "${value}"`);
  return { max, durationMs };
}

const rateLimit = makeValidator<RateLimit | 'off'>((v) => parseRateLimit(v));
const optionalUrl = (docs: string) => url({ default: undefined, docs });
const optional = (docs: string) => str({ default: undefined, docs });

/** Providers' documented defaults, used when `<QUEUE>_RATE_LIMIT` is unset. */
const DEFAULT_RATE_LIMIT: Record<QueueName, string> = {
  email: '5/1s', // Resend: 5 requests/s per team (SendGrid allows far more)
  sms: '30/1s', // Twilio queues beyond each sender's MPS; keep REST calls civil
  whatsapp: '80/1s', // WhatsApp Business default throughput: 80 messages/s
  meeting: '10/1s', // Zoom "medium" API class; Google Calendar per-user quota
  appointment: 'off',
  reminder: 'off',
  webhook: 'off',
  delivery: 'off',
};
const DEFAULT_CONCURRENCY: Record<QueueName, number> = {
  email: 10,
  sms: 10,
  whatsapp: 10,
  meeting: 5,
  appointment: 10,
  reminder: 10,
  webhook: 10,
  // A delivery job is a few Redis calls and no provider: one at a time keeps up (README
  // "Delivery status"), and spares BullMQ's calls to fill idle slots, one per job.
  delivery: 1,
};

const queueSpecs = Object.fromEntries(
  QUEUES.flatMap((q) => {
    const u = q.toUpperCase();
    return [
      [`${u}_CONCURRENCY`, num({ default: DEFAULT_CONCURRENCY[q], docs: `jobs in flight per process on ${q}` })],
      [`${u}_RATE_LIMIT`, rateLimit({ default: parseRateLimit(DEFAULT_RATE_LIMIT[q]), docs: `global limit on ${q}` })],
    ];
  }),
) as Record<string, ReturnType<typeof num> | ReturnType<typeof rateLimit>>;

const specs = {
  NODE_ENV: str({ default: 'production', choices: ['production', 'development', 'test'] }),
  REDIS_URL: url({ default: undefined, docs: 'Redis (rediss:// for TLS); unset: npm start uses REDIS_PROBE_URL or a Redis of its own' }),
  REDIS_PROBE_URL: url({ default: 'redis://127.0.0.1:6379', docs: 'without REDIS_URL: the Redis used when it answers' }),
  REDIS_EMBEDDED_DIR: str({ default: '.data/redis', docs: 'npm start without REDIS_URL and nothing at REDIS_PROBE_URL: data of its own redis-server' }),
  REDIS_CLUSTER_NODES: optional('comma-separated host:port seeds: connect to a Redis Cluster instead'),
  REDIS_SENTINELS: optional('comma-separated host:port Sentinels: ask them for the master instead of REDIS_URL\'s host'),
  REDIS_SENTINEL_NAME: str({ default: 'mymaster', docs: 'the master group name the Sentinels monitor' }),
  QUEUE_PREFIX: str({ default: 'notif', docs: 'BullMQ key prefix' }),
  LOG_LEVEL: str({ default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
  LOG_FORMAT: str({ default: 'auto', choices: ['auto', 'json', 'pretty'], docs: 'auto: pretty at a terminal, JSON otherwise' }),
  PORT: port({ default: 3000 }),
  HOST: str({ default: '0.0.0.0' }),
  API_TOKENS: optional('comma-separated bearer tokens for /v1'),
  DASHBOARD_USER: optional('basic auth user for /admin/queues'),
  DASHBOARD_PASSWORD: optional('basic auth password for /admin/queues'),
  DASHBOARD_READ_ONLY: str({ default: 'false', choices: ['true', 'false'] }),
  EMAIL_FROM: optional('default sender'),
  RESEND_API_KEY: optional('Resend API key'),
  RESEND_BASE_URL: optionalUrl('Resend API address'),
  SENDGRID_API_KEY: optional('SendGrid API key'),
  SENDGRID_API_BASE_URL: optionalUrl('SendGrid API address'),
  TWILIO_ACCOUNT_SID: optional('Twilio account SID (AC...)'),
  TWILIO_AUTH_TOKEN: optional('Twilio auth token'),
  TWILIO_PHONE_NUMBER: optional('SMS sender, E.164'),
  TWILIO_WHATSAPP_NUMBER: optional('WhatsApp sender, whatsapp:+E164'),
  TWILIO_API_BASE_URL: optionalUrl('Twilio API address'),
  ZOOM_API_KEY: optional('Zoom S2S OAuth client id'),
  ZOOM_API_SECRET: optional('Zoom S2S OAuth client secret'),
  ZOOM_ACCOUNT_ID: optional('Zoom account id'),
  ZOOM_USER_ID: str({ default: 'me' }),
  ZOOM_HOST_FROM_APPOINTMENT: bool({ default: false, docs: 'create each meeting as the Zoom user whose email is the host\'s' }),
  ZOOM_API_BASE_URL: url({ default: 'https://api.zoom.us/v2' }),
  ZOOM_OAUTH_BASE_URL: url({ default: 'https://zoom.us' }),
  GOOGLE_CLIENT_ID: optional('Google OAuth client id'),
  GOOGLE_CLIENT_SECRET: optional('Google OAuth client secret'),
  GOOGLE_REFRESH_TOKEN: optional('Google OAuth refresh token'),
  GOOGLE_CALENDAR_ID: str({ default: 'primary' }),
  GOOGLE_SERVICE_ACCOUNT_KEY: optional('service account JSON key (or a path to it) with domain-wide delegation'),
  GOOGLE_DEFAULT_HOST: email({ default: undefined, docs: 'user acted as for a meeting without a host email' }),
  GOOGLE_API_BASE_URL: url({ default: 'https://www.googleapis.com/' }),
  GOOGLE_OAUTH_TOKEN_URL: url({ default: 'https://oauth2.googleapis.com/token' }),
  PUBLIC_URL: optionalUrl('base URL at which providers reach the HTTP server (delivery events)'),
  RESEND_WEBHOOK_SECRET: optional('Resend webhook signing secret (whsec_...)'),
  SENDGRID_WEBHOOK_PUBLIC_KEY: optional('SendGrid signed Event Webhook verification key (base64)'),
  WEBHOOK_URL: optionalUrl('outbound events receiver'),
  WEBHOOK_SECRET: optional('HMAC secret for X-Signature'),
  BOOKING_MANAGE_URL: optional('page where the attendee moves or cancels, with {id}, e.g. https://app.example.com/booking/{id}'),
  WHATSAPP_TEMPLATES: optional('JSON: {"<kind>" or "<kind>.<locale>": "HX..."}, kinds confirmation, rescheduled, cancelled, reminder'),
  DEFAULT_LOCALE: str({ default: 'fr', choices: ['fr', 'en'] }),
  DEFAULT_TIMEZONE: str({ default: 'Europe/Paris' }),
  JOB_ATTEMPTS: num({ default: 6 }),
  JOB_BACKOFF_MS: num({ default: 5000 }),
  RATE_LIMIT_DEFAULT_WAIT_MS: num({ default: 60_000, docs: 'pause after a 429 without Retry-After' }),
  MAX_RATE_LIMITED_STARTS: num({ default: 20, docs: 'extra starts a job may spend on 429s' }),
  KEEP_COMPLETED_SECONDS: num({ default: 86_400 }),
  KEEP_FAILED_SECONDS: num({ default: 604_800 }),
  SHUTDOWN_TIMEOUT_MS: num({ default: 30_000 }),
  LOCK_DURATION_MS: num({ default: 30_000, docs: 'job lock; a dead worker\'s jobs are re-run after about this long' }),
  PROVIDER_TIMEOUT_MS: num({ default: 15_000, docs: 'HTTP timeout of one provider call' }),
  STUCK_AFTER_MS: num({ default: 180_000, docs: 'a queue with waiting jobs, none active and none finished for this long is reported stuck' }),
  ...queueSpecs,
};

/** Every variable the service reads (for .env.example and the container checks). */
export const CONFIG_VARIABLES = Object.keys(specs);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface QueueSettings {
  concurrency: number;
  rateLimit: RateLimit | 'off';
}

export type Env = Record<string, string | undefined>;

/** `auto`: pretty at a terminal, JSON otherwise (see logger.ts). */
export type { LogFormat };

/** Where Redis is: one server (`url`), a Redis Cluster, or a master found through Sentinels. */
export interface RedisSettings {
  url: string;
  clusterNodes?: string[] | undefined;
  /** The Sentinels and the master group name; `url` then gives password, db and TLS. */
  sentinels?: { nodes: string[]; name: string } | undefined;
  prefix: string;
}

/**
 * A Redis node: `host:port` or `[ipv6]:port` (a bare IPv6 address needs its brackets).
 * Without `defaultPort` the port is required.
 */
export function hostPort(node: string, defaultPort?: number): { host: string; port: number } {
  const m = /^\s*(?:\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]|([^\s:[\]]+))(?::(\d{1,5}))?\s*$/.exec(node);
  const port = m?.[3] ? Number(m[3]) : defaultPort;
  if (!m || port === undefined || port < 1 || port > 65_535)
    throw new Error(`Redis node "${node}": expected host:port or [ipv6]:port`);
  return { host: m[1] ?? m[2]!, port };
}

const safeHostPort = (node: string) => {
  try {
    return hostPort(node);
  } catch {
    return undefined;
  }
};

function validate(env: Env) {
  return cleanEnv(env, specs, {
    reporter: ({ errors }) => {
      const names = Object.entries(errors);
      if (names.length === 0) return;
      const lines = names.map(([k, e]) =>
        e instanceof EnvMissingError ? `${k}: missing` : `${k}: ${(e as Error).message}`,
      );
      throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
    },
  });
}

export interface Integration {
  name: 'resend' | 'sendgrid' | 'twilio-sms' | 'twilio-whatsapp' | 'zoom' | 'google-meet' | 'webhooks';
  enabled: boolean;
  reason?: string;
}

function fail(variable: string, why: string): never {
  throw new ConfigError(`Invalid configuration: ${variable}: ${why}`);
}

const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * GOOGLE_SERVICE_ACCOUNT_KEY: the JSON key itself, or a path to the file. Errors name the
 * variable and never quote the value (it holds the private key).
 */
export function parseServiceAccountKey(value: string): { clientEmail: string; privateKey: string; clientId?: string } {
  const V = 'GOOGLE_SERVICE_ACCOUNT_KEY';
  let text = value.trim();
  if (!text.startsWith('{')) {
    try {
      text = readFileSync(text, 'utf8');
    } catch {
      fail(V, "expected the service account's JSON key, or the path of a readable file holding it");
    }
  }
  let key: Record<string, unknown>;
  try {
    key = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input: not repeated here.
    fail(V, "is not valid JSON (expected the service account's JSON key, as downloaded)");
  }
  if (!key || typeof key !== 'object') fail(V, "expected a JSON object (the service account's key)");
  if (key.type !== undefined && key.type !== 'service_account') fail(V, `type is "${String(key.type)}", expected "service_account"`);
  if (typeof key.client_email !== 'string' || !key.client_email.includes('@')) fail(V, 'client_email is missing');
  if (typeof key.private_key !== 'string' || !key.private_key) fail(V, 'private_key is missing');
  try {
    createPrivateKey(key.private_key);
  } catch {
    fail(V, 'private_key is not a PEM private key (keep the key\'s "\\n" escapes as they are in the file)');
  }
  return {
    clientEmail: key.client_email,
    privateKey: key.private_key,
    ...(typeof key.client_id === 'string' && { clientId: key.client_id }),
  };
}

export const TEMPLATE_KINDS = ['confirmation', 'rescheduled', 'cancelled', 'reminder'] as const;
export type WhatsAppTemplateKind = (typeof TEMPLATE_KINDS)[number];
/** `<kind>` or `<kind>.<locale>` -> Content SID (README "WhatsApp templates"). */
export type WhatsAppTemplates = Partial<Record<string, string>>;

/** WHATSAPP_TEMPLATES: a JSON object of `<kind>` / `<kind>.<locale>` to `HX` + 32 hex. */
export function parseWhatsAppTemplates(value: string): WhatsAppTemplates {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    fail('WHATSAPP_TEMPLATES', 'must be a JSON object, e.g. {"reminder": "HX0123...", "reminder.en": "HX4567..."}');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    fail('WHATSAPP_TEMPLATES', 'must be a JSON object, e.g. {"reminder": "HX0123..."}');
  const out: WhatsAppTemplates = {};
  for (const [k, sid] of Object.entries(parsed)) {
    const m = /^([a-z]+)(?:\.(fr|en))?$/.exec(k);
    if (!m || !(TEMPLATE_KINDS as readonly string[]).includes(m[1]!))
      fail('WHATSAPP_TEMPLATES', `unknown key "${k}": expected <kind> or <kind>.<locale>, kind one of ${TEMPLATE_KINDS.join(', ')}, locale fr or en`);
    if (typeof sid !== 'string' || !/^HX[0-9a-fA-F]{32}$/.test(sid))
      fail('WHATSAPP_TEMPLATES', `"${k}" must be a Twilio Content SID: HX and 32 hex digits`);
    out[k] = sid;
  }
  return out;
}

/** SendGrid shows its verification key as base64 DER (SubjectPublicKeyInfo) of a P-256 key. */
function isEcPublicKey(b64: string): boolean {
  try {
    return createPublicKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'spki' }).asymmetricKeyType === 'ec';
  } catch {
    return false;
  }
}

/**
 * `.env` in the working directory (README "Configuring providers"), read when the service is
 * started through an npm script (`npm start`, `npm run worker`...): tests and containers see
 * exactly the environment they were given. Variables already set win over the file.
 */
export function loadDotEnv(env: Env = process.env, file = '.env'): boolean {
  if (!env.npm_lifecycle_event || !existsSync(file)) return false;
  process.loadEnvFile(file);
  return true;
}

/** Reads and validates the environment once; everything else receives the result. */
export function loadConfig(env: Env = process.env) {
  // `FOO=` in a .env file means "not set", as in the shipped .env.example.
  const e = validate(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  const has = (v: string | undefined): v is string => typeof v === 'string' && v.length > 0;

  if (has(e.TWILIO_ACCOUNT_SID) && !e.TWILIO_ACCOUNT_SID.startsWith('AC'))
    fail('TWILIO_ACCOUNT_SID', 'must start with "AC"');
  if (has(e.TWILIO_PHONE_NUMBER) && !E164.test(e.TWILIO_PHONE_NUMBER))
    fail('TWILIO_PHONE_NUMBER', 'must be E.164, e.g. +33612345678');
  if (has(e.TWILIO_WHATSAPP_NUMBER) && !/^whatsapp:\+[1-9]\d{6,14}$/.test(e.TWILIO_WHATSAPP_NUMBER))
    fail('TWILIO_WHATSAPP_NUMBER', 'must look like whatsapp:+33612345678');
  if ((has(e.RESEND_API_KEY) || has(e.SENDGRID_API_KEY)) && !has(e.EMAIL_FROM))
    fail('EMAIL_FROM', 'required when an email provider is configured');
  if (has(e.DASHBOARD_USER) !== has(e.DASHBOARD_PASSWORD))
    fail(has(e.DASHBOARD_USER) ? 'DASHBOARD_PASSWORD' : 'DASHBOARD_USER', 'set both or neither');
  if (has(e.WEBHOOK_URL) && !has(e.WEBHOOK_SECRET)) fail('WEBHOOK_SECRET', 'required when WEBHOOK_URL is set');
  if (has(e.PUBLIC_URL) && !/^https?:\/\//.test(e.PUBLIC_URL)) fail('PUBLIC_URL', 'must be an http(s) URL, e.g. https://notify.example.com');
  if (has(e.RESEND_WEBHOOK_SECRET) && !/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(e.RESEND_WEBHOOK_SECRET))
    fail('RESEND_WEBHOOK_SECRET', 'must be the signing secret Resend shows, whsec_ and base64');
  if (has(e.SENDGRID_WEBHOOK_PUBLIC_KEY) && !isEcPublicKey(e.SENDGRID_WEBHOOK_PUBLIC_KEY))
    fail('SENDGRID_WEBHOOK_PUBLIC_KEY', 'must be the base64 ECDSA public key SendGrid shows (Mail Settings > Signed Event Webhook)');
  if (!isTimeZone(e.DEFAULT_TIMEZONE)) fail('DEFAULT_TIMEZONE', `unknown IANA time zone "${e.DEFAULT_TIMEZONE}"`);
  if (has(e.BOOKING_MANAGE_URL)) {
    if (!e.BOOKING_MANAGE_URL.includes('{id}')) fail('BOOKING_MANAGE_URL', 'must contain {id}, replaced by the appointment id');
    if (!/^https?:\/\/[^\s/]+/.test(e.BOOKING_MANAGE_URL) || !URL.canParse(e.BOOKING_MANAGE_URL.replaceAll('{id}', 'x')))
      fail('BOOKING_MANAGE_URL', 'must be an http(s) URL, e.g. https://app.example.com/booking/{id}');
  }
  const whatsappTemplates = has(e.WHATSAPP_TEMPLATES) ? parseWhatsAppTemplates(e.WHATSAPP_TEMPLATES) : {};
  if (e.JOB_ATTEMPTS < 1) fail('JOB_ATTEMPTS', 'must be at least 1');
  if (has(e.REDIS_CLUSTER_NODES) && has(e.REDIS_SENTINELS)) fail('REDIS_SENTINELS', 'set REDIS_CLUSTER_NODES or REDIS_SENTINELS, not both');
  for (const [name, list] of [['REDIS_CLUSTER_NODES', e.REDIS_CLUSTER_NODES], ['REDIS_SENTINELS', e.REDIS_SENTINELS]] as const)
    if (has(list) && !list.split(',').every((n) => safeHostPort(n)))
      fail(name, 'expected host:port,host:port (an IPv6 address in brackets: [::1]:6379)');

  const queues = Object.fromEntries(
    QUEUES.map((q) => {
      const u = q.toUpperCase();
      const concurrency = (e as unknown as Record<string, number>)[`${u}_CONCURRENCY`]!;
      if (!Number.isInteger(concurrency) || concurrency < 1) fail(`${u}_CONCURRENCY`, 'must be a positive integer');
      return [q, { concurrency, rateLimit: (e as unknown as Record<string, RateLimit | 'off'>)[`${u}_RATE_LIMIT`]! }];
    }),
  ) as Record<QueueName, QueueSettings>;

  const serviceAccount = has(e.GOOGLE_SERVICE_ACCOUNT_KEY) ? parseServiceAccountKey(e.GOOGLE_SERVICE_ACCOUNT_KEY) : undefined;
  const googleRefresh = has(e.GOOGLE_CLIENT_ID) && has(e.GOOGLE_CLIENT_SECRET) && has(e.GOOGLE_REFRESH_TOKEN);
  if (has(e.GOOGLE_DEFAULT_HOST) && !serviceAccount) fail('GOOGLE_DEFAULT_HOST', 'needs GOOGLE_SERVICE_ACCOUNT_KEY (it is acted as by domain-wide delegation)');

  const twilio =
    has(e.TWILIO_ACCOUNT_SID) && has(e.TWILIO_AUTH_TOKEN)
      ? { accountSid: e.TWILIO_ACCOUNT_SID, authToken: e.TWILIO_AUTH_TOKEN, baseUrl: e.TWILIO_API_BASE_URL }
      : undefined;

  return {
    env: e.NODE_ENV,
    redis: {
      url: e.REDIS_URL ?? e.REDIS_PROBE_URL,
      clusterNodes: has(e.REDIS_CLUSTER_NODES) ? e.REDIS_CLUSTER_NODES.split(',').map((s) => s.trim()) : undefined,
      sentinels: has(e.REDIS_SENTINELS)
        ? { nodes: e.REDIS_SENTINELS.split(',').map((s) => s.trim()).filter(Boolean), name: e.REDIS_SENTINEL_NAME }
        : undefined,
      prefix: e.QUEUE_PREFIX,
    } as RedisSettings,
    /**
     * Set when no Redis was named (no REDIS_URL, cluster or Sentinels): `npm start` may then
     * run a redis-server of its own on this data folder if nothing answers at `redis.url`.
     */
    embeddedRedis:
      has(e.REDIS_URL) || has(e.REDIS_CLUSTER_NODES) || has(e.REDIS_SENTINELS)
        ? undefined
        : { dir: resolve(e.REDIS_EMBEDDED_DIR) },
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT as LogFormat,
    http: {
      port: e.PORT,
      host: e.HOST,
      apiTokens: has(e.API_TOKENS) ? e.API_TOKENS.split(',').map((t) => t.trim()).filter(Boolean) : [],
      dashboard:
        has(e.DASHBOARD_USER) && has(e.DASHBOARD_PASSWORD)
          ? { user: e.DASHBOARD_USER, password: e.DASHBOARD_PASSWORD, readOnly: e.DASHBOARD_READ_ONLY === 'true' }
          : undefined,
    },
    email: {
      from: e.EMAIL_FROM,
      resend: has(e.RESEND_API_KEY) ? { apiKey: e.RESEND_API_KEY, baseUrl: e.RESEND_BASE_URL } : undefined,
      sendgrid: has(e.SENDGRID_API_KEY) ? { apiKey: e.SENDGRID_API_KEY, baseUrl: e.SENDGRID_API_BASE_URL } : undefined,
    },
    twilio,
    sms: twilio && has(e.TWILIO_PHONE_NUMBER) ? { from: e.TWILIO_PHONE_NUMBER } : undefined,
    whatsapp: twilio && has(e.TWILIO_WHATSAPP_NUMBER) ? { from: e.TWILIO_WHATSAPP_NUMBER } : undefined,
    zoom:
      has(e.ZOOM_API_KEY) && has(e.ZOOM_API_SECRET) && has(e.ZOOM_ACCOUNT_ID)
        ? {
            clientId: e.ZOOM_API_KEY,
            clientSecret: e.ZOOM_API_SECRET,
            accountId: e.ZOOM_ACCOUNT_ID,
            userId: e.ZOOM_USER_ID,
            hostFromAppointment: e.ZOOM_HOST_FROM_APPOINTMENT,
            apiBaseUrl: e.ZOOM_API_BASE_URL.replace(/\/+$/, ''),
            oauthBaseUrl: e.ZOOM_OAUTH_BASE_URL.replace(/\/+$/, ''),
          }
        : undefined,
    zoomHalfConfigured: (has(e.ZOOM_API_KEY) || has(e.ZOOM_API_SECRET)) && !has(e.ZOOM_ACCOUNT_ID),
    google:
      googleRefresh || serviceAccount
        ? {
            ...(googleRefresh && { clientId: e.GOOGLE_CLIENT_ID, clientSecret: e.GOOGLE_CLIENT_SECRET, refreshToken: e.GOOGLE_REFRESH_TOKEN }),
            ...(serviceAccount && { serviceAccount }),
            ...(has(e.GOOGLE_DEFAULT_HOST) && { defaultHost: e.GOOGLE_DEFAULT_HOST }),
            calendarId: e.GOOGLE_CALENDAR_ID,
            apiBaseUrl: e.GOOGLE_API_BASE_URL,
            tokenUrl: e.GOOGLE_OAUTH_TOKEN_URL,
          }
        : undefined,
    delivery: {
      /** PUBLIC_URL without its trailing '/'. */
      publicUrl: has(e.PUBLIC_URL) ? e.PUBLIC_URL.replace(/\/+$/, '') : undefined,
      resendWebhookSecret: has(e.RESEND_WEBHOOK_SECRET) ? e.RESEND_WEBHOOK_SECRET : undefined,
      sendgridWebhookPublicKey: has(e.SENDGRID_WEBHOOK_PUBLIC_KEY) ? e.SENDGRID_WEBHOOK_PUBLIC_KEY : undefined,
    },
    webhook: has(e.WEBHOOK_URL) && has(e.WEBHOOK_SECRET) ? { url: e.WEBHOOK_URL, secret: e.WEBHOOK_SECRET } : undefined,
    defaults: { locale: e.DEFAULT_LOCALE as 'fr' | 'en', timezone: e.DEFAULT_TIMEZONE },
    appointments: {
      manageUrl: has(e.BOOKING_MANAGE_URL) ? e.BOOKING_MANAGE_URL : undefined,
      whatsappTemplates,
    },
    jobs: {
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
      keepCompletedSeconds: e.KEEP_COMPLETED_SECONDS,
      keepFailedSeconds: e.KEEP_FAILED_SECONDS,
      rateLimitDefaultWaitMs: e.RATE_LIMIT_DEFAULT_WAIT_MS,
      maxRateLimitedStarts: e.MAX_RATE_LIMITED_STARTS,
      providerTimeoutMs: e.PROVIDER_TIMEOUT_MS,
      lockDurationMs: e.LOCK_DURATION_MS,
    },
    queues,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    metrics: { stuckAfterMs: e.STUCK_AFTER_MS },
  };
}

export type Config = ReturnType<typeof loadConfig>;

export { isTimeZone };

/** What is on and off, for the one start-up log line and `npm run doctor`. */
export function integrations(c: Config): Integration[] {
  const off = (name: Integration['name'], reason: string): Integration => ({ name, enabled: false, reason });
  const on = (name: Integration['name']): Integration => ({ name, enabled: true });
  return [
    c.email.resend ? on('resend') : off('resend', 'RESEND_API_KEY not set'),
    c.email.sendgrid
      ? c.email.resend
        ? off('sendgrid', 'Resend is configured and preferred')
        : on('sendgrid')
      : off('sendgrid', 'SENDGRID_API_KEY not set'),
    c.sms ? on('twilio-sms') : off('twilio-sms', c.twilio ? 'TWILIO_PHONE_NUMBER not set' : 'TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN not set'),
    c.whatsapp
      ? on('twilio-whatsapp')
      : off('twilio-whatsapp', c.twilio ? 'TWILIO_WHATSAPP_NUMBER not set' : 'TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN not set'),
    c.zoom
      ? on('zoom')
      : off(
          'zoom',
          c.zoomHalfConfigured
            ? 'ZOOM_ACCOUNT_ID not set: Zoom retired API-key apps, create a Server-to-Server OAuth app'
            : 'ZOOM_API_KEY/ZOOM_API_SECRET/ZOOM_ACCOUNT_ID not set',
        ),
    c.google
      ? on('google-meet')
      : off('google-meet', 'GOOGLE_CLIENT_ID/GOOGLE_CLIENT_SECRET/GOOGLE_REFRESH_TOKEN or GOOGLE_SERVICE_ACCOUNT_KEY not set'),
    c.webhook ? on('webhooks') : off('webhooks', 'WEBHOOK_URL not set'),
  ];
}
