import { ConfigError, integrations, loadConfig, TEMPLATE_KINDS, type Config, type Env } from '../config.js';
import { createRedis } from '../redis.js';
import { runningRedis } from '../runtime/embedded-redis.js';
import { pingRedis } from '../server/ping.js';
import { redactUrl } from '../runtime/context.js';
import { checkGoogle, checkResend, checkSendGrid, checkTwilio, checkWebhook, checkZoom, type CheckResult } from './checks.js';

export interface DoctorRow {
  name: string;
  configured: boolean;
  /** Undefined when not configured (nothing to check). */
  ok?: boolean;
  detail: string;
}

export interface DoctorReport {
  rows: DoctorRow[];
  /** 0 when every configured integration works (and the configuration is valid), 1 otherwise. */
  exitCode: 0 | 1;
}

async function guarded(check: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await check();
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

async function checkRedis(config: Config, timeoutMs: number): Promise<CheckResult> {
  const r = createRedis(config.redis, 'producer');
  r.on('error', () => {}); // the failure is reported in the row
  try {
    const pong = await pingRedis(r, timeoutMs);
    return { ok: pong === 'PONG', detail: `${redactUrl(config.redis.url)} answered ${pong}` };
  } catch (err) {
    return { ok: false, detail: `${redactUrl(config.redis.url)}: ${(err as Error).message}; start one with \`redis-server\` or set REDIS_URL` };
  } finally {
    r.disconnect();
  }
}

/** Which appointment kinds have a WhatsApp template (WHATSAPP_TEMPLATES), and in which locales. */
export function whatsappTemplatesSummary(config: Pick<Config, 'appointments'>): string {
  const keys = Object.keys(config.appointments.whatsappTemplates);
  const has = TEMPLATE_KINDS.map((k) => [k, keys.filter((x) => x === k || x.startsWith(`${k}.`))] as const);
  const with_ = has.filter(([, ks]) => ks.length > 0).map(([, ks]) => ks.join(', '));
  const without = has.filter(([, ks]) => ks.length === 0).map(([k]) => k);
  return `templates: ${with_.length > 0 ? with_.join(', ') : 'none'}${without.length > 0 && with_.length > 0 ? `; plain text for ${without.join(', ')}` : ''}`;
}

/**
 * Validates the configuration, then checks Redis and each configured integration with one
 * harmless call, all at once. Unconfigured integrations are listed with the reason.
 */
export async function runDoctor(config: Config, opts: { timeoutMs?: number } = {}): Promise<DoctorReport> {
  const timeoutMs = opts.timeoutMs ?? Math.min(config.jobs.providerTimeoutMs, 10_000);
  const why = Object.fromEntries(integrations(config).map((i) => [i.name, i.reason]));
  const twilio = config.twilio ? guarded(() => checkTwilio(config.twilio!, timeoutMs)) : undefined; // one call for SMS and WhatsApp
  const row = async (name: string, configured: boolean, check: (() => Promise<CheckResult>) | undefined, notConfigured: string, note = ''): Promise<DoctorRow> => {
    if (!configured || !check) return { name, configured: false, detail: notConfigured };
    const r = await guarded(check);
    return { name, configured: true, ok: r.ok, detail: r.ok ? r.detail + note : r.detail };
  };
  const { email } = config;
  const rows = await Promise.all([
    row('redis', true, () => checkRedis(config, timeoutMs), ''),
    row('resend', !!email.resend, email.resend && (() => checkResend(email.resend!, timeoutMs)), why.resend ?? ''),
    row(
      'sendgrid',
      !!email.sendgrid,
      email.sendgrid && (() => checkSendGrid(email.sendgrid!, timeoutMs)),
      why.sendgrid ?? '',
      email.resend ? ' (standby: Resend is configured and preferred)' : '',
    ),
    row('twilio-sms', !!config.sms, twilio && (() => twilio), why['twilio-sms'] ?? '', config.sms ? `; sends from ${config.sms.from}` : ''),
    row(
      'twilio-whatsapp',
      !!config.whatsapp,
      twilio && (() => twilio),
      why['twilio-whatsapp'] ?? '',
      config.whatsapp ? `; sends from ${config.whatsapp.from}; ${whatsappTemplatesSummary(config)}` : '',
    ),
    row('zoom', !!config.zoom, config.zoom && (() => checkZoom(config.zoom!, timeoutMs)), why.zoom ?? ''),
    row('google-meet', !!config.google, config.google && (() => checkGoogle(config.google!, timeoutMs)), why['google-meet'] ?? ''),
    row('webhooks', !!config.webhook, config.webhook && (() => checkWebhook(config.webhook!, timeoutMs)), why.webhooks ?? ''),
  ]);
  return { rows, exitCode: rows.every((r) => !r.configured || r.ok) ? 0 : 1 };
}

/** `npm run doctor`: an invalid configuration is itself a failing row. */
export async function doctor(env?: Env, opts: { timeoutMs?: number } = {}): Promise<DoctorReport> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { rows: [{ name: 'configuration', configured: true, ok: false, detail: err.message }], exitCode: 1 };
  }
  // Beside `npm start` on its private redis-server, check that one (README, first screen: "Redis.").
  const report = await runDoctor(await runningRedis(config), opts);
  return { ...report, rows: [{ name: 'configuration', configured: true, ok: true, detail: 'valid' }, ...report.rows] };
}

/** One row per integration, aligned for a terminal. */
export function formatReport(report: DoctorReport): string {
  const cells = report.rows.map((r) => [r.name, r.configured ? 'yes' : 'no', r.ok === undefined ? '-' : r.ok ? 'ok' : 'FAILED', r.detail]);
  const header = ['INTEGRATION', 'CONFIGURED', 'STATUS', 'DETAIL'];
  const widths = header.slice(0, 3).map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i < 3 ? v.padEnd(widths[i]!) : v)).join('  ').trimEnd();
  const summary =
    report.exitCode === 0
      ? 'Every configured integration works.'
      : `${report.rows.filter((r) => r.configured && !r.ok).length} check(s) failed.`;
  return [line(header), ...cells.map(line), '', summary].join('\n');
}
