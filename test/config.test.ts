import { describe, expect, it } from 'vitest';
import { ConfigError, integrations, loadConfig, parseRateLimit } from '../src/config.js';
import { limiterFor } from '../src/runtime/worker.js';

describe('config', () => {
  it('has working defaults with nothing set', () => {
    const c = loadConfig({});
    expect(c.redis).toMatchObject({ url: 'redis://127.0.0.1:6379', prefix: 'notif' });
    expect(c.jobs).toMatchObject({ attempts: 6, backoffMs: 5000 });
    expect(c.shutdownTimeoutMs).toBe(30_000);
    expect(integrations(c).every((i) => !i.enabled)).toBe(true);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ SMS_RATE_LIMIT: '10 per second' }, /SMS_RATE_LIMIT: expected MAX\/DURATION/],
    [{ TWILIO_ACCOUNT_SID: 'XX123', TWILIO_AUTH_TOKEN: 't' }, /TWILIO_ACCOUNT_SID: must start with "AC"/],
    [{ RESEND_API_KEY: 're_x' }, /EMAIL_FROM: required/],
    [{ TWILIO_PHONE_NUMBER: '0612345678' }, /TWILIO_PHONE_NUMBER: must be E\.164/],
    [{ DEFAULT_TIMEZONE: 'Mars/Olympus' }, /DEFAULT_TIMEZONE/],
    [{ REDIS_URL: 'not a url' }, /REDIS_URL/],
    [{ PUBLIC_URL: 'notify.example.com' }, /PUBLIC_URL/],
    [{ PUBLIC_URL: 'ftp://notify.example.com' }, /PUBLIC_URL: must be an http\(s\) URL/],
    [{ RESEND_WEBHOOK_SECRET: 'secret' }, /RESEND_WEBHOOK_SECRET: must be/],
    [{ SENDGRID_WEBHOOK_PUBLIC_KEY: 'bm90IGEga2V5' }, /SENDGRID_WEBHOOK_PUBLIC_KEY: must be/],
  ])('stops with a message naming the variable: %o', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('parses rate limits and shapes them so no rolling window passes MAX + 1', () => {
    expect(parseRateLimit('10/1s')).toEqual({ max: 10, durationMs: 1000 });
    expect(parseRateLimit('600/1m')).toEqual({ max: 600, durationMs: 60_000 });
    expect(parseRateLimit('off')).toBe('off');
    expect(limiterFor({ max: 5, durationMs: 1000 })).toEqual({ max: 1, duration: 200 });
    expect(limiterFor({ max: 7, durationMs: 1000 })).toEqual({ max: 1, duration: 143 });
    expect(limiterFor('off').max).toBeGreaterThan(1e9);
  });

  it('reads the delivery variables, PUBLIC_URL without its trailing slash', () => {
    const c = loadConfig({ PUBLIC_URL: 'https://notify.example.com/', RESEND_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
    expect(c.delivery).toMatchObject({ publicUrl: 'https://notify.example.com', resendWebhookSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
    expect(c.queues.delivery).toEqual({ concurrency: 1, rateLimit: 'off' });
  });

  it('explains why Zoom is disabled without an account id', () => {
    const c = loadConfig({ ZOOM_API_KEY: 'id', ZOOM_API_SECRET: 'secret' });
    expect(integrations(c).find((i) => i.name === 'zoom')).toMatchObject({ enabled: false, reason: expect.stringMatching(/ZOOM_ACCOUNT_ID.*Server-to-Server/) });
  });

  it('prefers Resend and says SendGrid is standing by', () => {
    const c = loadConfig({ RESEND_API_KEY: 're_1', SENDGRID_API_KEY: 'SG.1', EMAIL_FROM: 'a@example.com' });
    const byName = Object.fromEntries(integrations(c).map((i) => [i.name, i]));
    expect(byName.resend!.enabled).toBe(true);
    expect(byName.sendgrid).toMatchObject({ enabled: false, reason: expect.stringMatching(/preferred/) });
  });
});

describe('.env.example', () => {
  it('lists every variable the service reads, and loads as it is', async () => {
    const { readFileSync } = await import('node:fs');
    const { CONFIG_VARIABLES } = await import('../src/config.js');
    const env = Object.fromEntries(
      readFileSync(new URL('../.env.example', import.meta.url), 'utf8')
        .split('\n')
        .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, m[2]!]),
    );
    expect(Object.keys(env).sort()).toEqual(CONFIG_VARIABLES.filter((v) => v !== 'NODE_ENV').sort());
    expect(() => loadConfig(env)).not.toThrow();
  });
});

describe('.env for the npm scripts', () => {
  it('is read only under an npm script, and never over a variable already set', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { loadDotEnv } = await import('../src/config.js');
    const file = join(mkdtempSync(join(tmpdir(), 'dotenv-')), '.env');
    writeFileSync(file, 'NOTIF_DOTENV_A=from-file\nNOTIF_DOTENV_B=from-file\n');
    process.env.NOTIF_DOTENV_B = 'already-set';
    try {
      expect(loadDotEnv({}, file)).toBe(false); // not started by npm: nothing read
      expect(process.env.NOTIF_DOTENV_A).toBeUndefined();
      expect(loadDotEnv({ npm_lifecycle_event: 'start' }, file)).toBe(true);
      expect(process.env.NOTIF_DOTENV_A).toBe('from-file');
      expect(process.env.NOTIF_DOTENV_B).toBe('already-set');
      expect(loadDotEnv({ npm_lifecycle_event: 'start' }, `${file}.missing`)).toBe(false);
    } finally {
      delete process.env.NOTIF_DOTENV_A;
      delete process.env.NOTIF_DOTENV_B;
    }
  });
});
