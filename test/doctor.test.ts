import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctor, formatReport, type DoctorRow } from '../src/doctor/run.js';
import { sendTest, testJob } from '../src/doctor/send-test.js';
import { emailPayload, meetingCreatePayload, smsPayload } from '../src/contract/schemas.js';
import { FakeGoogle } from './fakes/google.js';
import { FakeResend } from './fakes/resend.js';
import { FakeSendGrid } from './fakes/sendgrid.js';
import { FakeServer } from './fakes/server.js';
import { FakeTwilio } from './fakes/twilio.js';
import { FakeZoom } from './fakes/zoom.js';
import { testConfig, testEnv } from './support/config.js';
import { freePort } from './support/redis.js';

const rowsByName = (rows: DoctorRow[]) => Object.fromEntries(rows.map((r) => [r.name, r]));

describe('npm run doctor', () => {
  const twilio = new FakeTwilio();
  const resend = new FakeResend();
  const sendgrid = new FakeSendGrid();
  const zoom = new FakeZoom();
  const google = new FakeGoogle();
  const hooks = new FakeServer().route('HEAD', /^\/hooks$/, () => ({ status: 405 }));
  const fakes = [twilio, resend, sendgrid, zoom, google, hooks];
  beforeAll(() => Promise.all(fakes.map((f) => f.start())));
  afterAll(() => Promise.all(fakes.map((f) => f.stop())));

  const working = () => ({
    EMAIL_FROM: 'Clinic <rdv@example.com>',
    RESEND_API_KEY: resend.apiKey,
    RESEND_BASE_URL: resend.url,
    SENDGRID_API_KEY: sendgrid.apiKey,
    SENDGRID_API_BASE_URL: sendgrid.url,
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_PHONE_NUMBER: '+15005550006',
    TWILIO_WHATSAPP_NUMBER: 'whatsapp:+14155238886',
    TWILIO_API_BASE_URL: twilio.url,
    ZOOM_API_KEY: zoom.clientId,
    ZOOM_API_SECRET: zoom.clientSecret,
    ZOOM_ACCOUNT_ID: zoom.accountId,
    ZOOM_OAUTH_BASE_URL: zoom.url,
    GOOGLE_CLIENT_ID: google.clientId,
    GOOGLE_CLIENT_SECRET: google.clientSecret,
    GOOGLE_REFRESH_TOKEN: google.refreshToken,
    GOOGLE_OAUTH_TOKEN_URL: `${google.url}/token`,
    WEBHOOK_URL: `${hooks.url}/hooks`,
    WEBHOOK_SECRET: 'whsec_test',
  });

  it('reports every configured integration working, exit code 0', async () => {
    const report = await doctor(testEnv(working()));
    const rows = rowsByName(report.rows);
    expect(report.exitCode).toBe(0);
    for (const name of ['configuration', 'redis', 'resend', 'sendgrid', 'twilio-sms', 'twilio-whatsapp', 'zoom', 'google-meet', 'webhooks'])
      expect(rows[name], name).toMatchObject({ configured: true, ok: true });
    expect(rows.sendgrid!.detail).toMatch(/mail\.send.*standby/);
    expect(rows['twilio-sms']!.detail).toMatch(/active.*\+15005550006/);
    // Harmless calls only: nothing was sent or created.
    expect(twilio.delivered).toHaveLength(0);
    expect(resend.delivered).toHaveLength(0);
    expect(sendgrid.delivered).toHaveLength(0);
    expect(zoom.meetings.size).toBe(0);
    expect(twilio.received('GET', /\/Accounts\/AC[0-9a-f]+\.json$/)).toHaveLength(1); // one call for SMS and WhatsApp
    expect(formatReport(report)).toMatch(/^INTEGRATION\s+CONFIGURED\s+STATUS\s+DETAIL\n/);
  });

  it('reports bad credentials with the provider\'s reason, exit code 1', async () => {
    const report = await doctor(
      testEnv({
        ...working(),
        RESEND_API_KEY: 're_wrong',
        SENDGRID_API_KEY: 'SG.wrong',
        TWILIO_AUTH_TOKEN: 'wrong',
        ZOOM_API_SECRET: 'wrong',
        GOOGLE_REFRESH_TOKEN: '1//revoked',
      }),
    );
    const rows = rowsByName(report.rows);
    expect(report.exitCode).toBe(1);
    expect(rows.resend).toMatchObject({ configured: true, ok: false, detail: expect.stringMatching(/403.*API key is invalid/) });
    expect(rows.sendgrid).toMatchObject({ ok: false, detail: expect.stringMatching(/401.*authorization grant is invalid/) });
    expect(rows['twilio-sms']).toMatchObject({ ok: false, detail: expect.stringMatching(/401.*20003.*Authenticate/) });
    expect(rows['twilio-whatsapp']!.ok).toBe(false);
    expect(rows.zoom).toMatchObject({ ok: false, detail: expect.stringMatching(/invalid_client.*Invalid client_id or client_secret/) });
    expect(rows['google-meet']).toMatchObject({ ok: false, detail: expect.stringMatching(/invalid_grant.*expired or revoked/) });
    expect(rows.redis!.ok).toBe(true);
    expect(formatReport(report)).toMatch(/^6 check\(s\) failed\.$/m);
  });

  it('accepts a sending-only Resend key, which cannot list domains', async () => {
    resend.sendOnly = true;
    try {
      const report = await doctor(testEnv({ EMAIL_FROM: 'rdv@example.com', RESEND_API_KEY: resend.apiKey, RESEND_BASE_URL: resend.url }));
      expect(rowsByName(report.rows).resend).toMatchObject({ ok: true, detail: expect.stringContaining('sending-only') });
    } finally {
      resend.sendOnly = false;
    }
  });

  it('lists unconfigured integrations with the reason, and they do not fail the run', async () => {
    const report = await doctor(testEnv({ ZOOM_API_KEY: 'id', ZOOM_API_SECRET: 'secret' }));
    const rows = rowsByName(report.rows);
    expect(report.exitCode).toBe(0);
    for (const name of ['resend', 'sendgrid', 'twilio-sms', 'twilio-whatsapp', 'zoom', 'google-meet', 'webhooks'])
    {
      expect(rows[name], name).toMatchObject({ configured: false });
      expect(rows[name]!.ok, name).toBeUndefined();
    }
    expect(rows.zoom!.detail).toMatch(/ZOOM_ACCOUNT_ID not set/);
    expect(formatReport(report)).toMatch(/^zoom\s+no\s+-\s+ZOOM_ACCOUNT_ID/m);
  });

  it('fails on an unreachable Redis or provider, and on an invalid configuration', async () => {
    const dead = await freePort();
    const report = await doctor(
      testEnv({ REDIS_URL: `redis://127.0.0.1:${dead}`, TWILIO_ACCOUNT_SID: twilio.accountSid, TWILIO_AUTH_TOKEN: 'x', TWILIO_PHONE_NUMBER: '+15005550006', TWILIO_API_BASE_URL: `http://127.0.0.1:${dead}` }),
      { timeoutMs: 1_000 },
    );
    const rows = rowsByName(report.rows);
    expect(report.exitCode).toBe(1);
    expect(rows.redis).toMatchObject({ ok: false, detail: expect.stringContaining('redis-server') });
    expect(rows['twilio-sms']).toMatchObject({ ok: false, detail: expect.stringMatching(/cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED/) });

    const invalid = await doctor(testEnv({ TWILIO_ACCOUNT_SID: 'not-a-sid', TWILIO_AUTH_TOKEN: 'x' }));
    expect(invalid.exitCode).toBe(1);
    expect(invalid.rows).toEqual([{ name: 'configuration', configured: true, ok: false, detail: expect.stringContaining('TWILIO_ACCOUNT_SID') }]);
  });
});

describe('npm run send-test', () => {
  it('builds valid jobs for every kind', () => {
    expect(emailPayload.safeParse(testJob('email', 'paul@example.com').payload).success).toBe(true);
    expect(smsPayload.safeParse(testJob('sms', '+33612345678').payload).success).toBe(true);
    expect(meetingCreatePayload.safeParse(testJob('zoom', 'paul@example.com').payload).success).toBe(true);
    expect(meetingCreatePayload.safeParse(testJob('meet', '').payload).success).toBe(true);
  });

  it('sends a real SMS through a worker and reports the result', async () => {
    const twilio = await new FakeTwilio().start();
    try {
      const config = testConfig({ TWILIO_ACCOUNT_SID: twilio.accountSid, TWILIO_AUTH_TOKEN: twilio.authToken, TWILIO_PHONE_NUMBER: '+15005550006', TWILIO_API_BASE_URL: twilio.url });
      const r = await sendTest(config, 'sms', '+33612345678', { timeoutMs: 15_000 });
      expect(r).toMatchObject({ queue: 'sms', outcome: 'completed', localWorker: true, result: { status: 'sent', provider: 'twilio' } });
      expect(twilio.delivered[0]).toMatchObject({ to: '+33612345678', from: '+15005550006' });
    } finally {
      await twilio.stop();
    }
  });

  it('reports the failedReason when the provider refuses', async () => {
    const twilio = await new FakeTwilio().start();
    try {
      const config = testConfig({ TWILIO_ACCOUNT_SID: twilio.accountSid, TWILIO_AUTH_TOKEN: 'wrong', TWILIO_PHONE_NUMBER: '+15005550006', TWILIO_API_BASE_URL: twilio.url });
      const r = await sendTest(config, 'sms', '+33612345678', { timeoutMs: 15_000 });
      expect(r.outcome).toBe('failed');
      expect(r.failedReason).toMatch(/^PROVIDER_AUTH/);
    } finally {
      await twilio.stop();
    }
  });

  it('says skipped when the integration is not configured, and rejects a bad recipient before enqueueing', async () => {
    const config = testConfig();
    expect(await sendTest(config, 'email', 'paul@example.com', { timeoutMs: 15_000 })).toMatchObject({ outcome: 'skipped', result: { status: 'skipped' } });
    await expect(sendTest(config, 'sms', '0612345678')).rejects.toThrow(/INVALID_PAYLOAD: to: must be an E\.164/);
  });
});
