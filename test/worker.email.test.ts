import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeResend } from './fakes/resend.js';
import { FakeSendGrid } from './fakes/sendgrid.js';
import { finished, startHarness, until } from './support/harness.js';

describe('email jobs through real workers', () => {
  const resend = new FakeResend();
  const sendgrid = new FakeSendGrid();
  let h: Awaited<ReturnType<typeof startHarness>>;

  beforeAll(async () => {
    await resend.start();
    await sendgrid.start();
  });
  afterAll(async () => {
    await resend.stop();
    await sendgrid.stop();
  });
  afterEach(async () => {
    await h?.close();
    resend.reset();
    sendgrid.reset();
    resend.delivered.length = 0;
    sendgrid.delivered.length = 0;
  });

  const resendEnv = { RESEND_API_KEY: resend.apiKey, get RESEND_BASE_URL() { return resend.url; } };
  const sendgridEnv = { SENDGRID_API_KEY: sendgrid.apiKey, get SENDGRID_API_BASE_URL() { return sendgrid.url; } };
  const from = { EMAIL_FROM: 'Cabinet Martin <no-reply@example.com>' };
  const mail = { to: 'paul@example.com', subject: 'Votre rendez-vous', html: '<p>Bonjour</p>', text: 'Bonjour' };

  it('prefers Resend when both providers are configured, passing an idempotency key', async () => {
    h = await startHarness({ ...resendEnv, ...sendgridEnv, ...from }, ['email']);
    const { id } = await h.client.sendEmail(mail);
    const job = await finished(h, 'email', id);
    expect(job.returnvalue).toMatchObject({ status: 'sent', provider: 'resend' });
    expect(job.returnvalue.messageId).toBeTruthy();
    expect(resend.delivered).toHaveLength(1);
    expect(sendgrid.requests).toHaveLength(0);
    const req = resend.received('POST', /^\/emails$/)[0]!;
    expect(req.headers.authorization).toBe(`Bearer ${resend.apiKey}`);
    expect(req.headers['idempotency-key']).toContain(id);
    expect(req.body).toMatchObject({ to: 'paul@example.com', subject: 'Votre rendez-vous', from: 'Cabinet Martin <no-reply@example.com>' });
  });

  it('uses SendGrid alone when it is the only one configured', async () => {
    h = await startHarness({ ...sendgridEnv, ...from }, ['email']);
    const { id } = await h.client.sendEmail({ ...mail, from: 'Claire <claire@example.com>' });
    const job = await finished(h, 'email', id);
    expect(job.returnvalue).toMatchObject({ status: 'sent', provider: 'sendgrid' });
    const req = sendgrid.received('POST', /^\/v3\/mail\/send$/)[0]!;
    expect(req.headers.authorization).toBe(`Bearer ${sendgrid.apiKey}`);
    expect(req.body.from).toEqual({ email: 'claire@example.com', name: 'Claire' });
    expect(req.body.personalizations[0].to).toEqual([{ email: 'paul@example.com' }]);
  });

  it('honours Resend 429 Retry-After without consuming an attempt', async () => {
    h = await startHarness({ ...resendEnv, ...from }, ['email']);
    resend.failNext(1, {
      status: 429,
      headers: { 'retry-after': '1' },
      body: { statusCode: 429, name: 'rate_limit_exceeded', message: 'Too many requests. You can only make 5 requests per second.' },
    });
    const t0 = Date.now();
    const { id } = await h.client.sendEmail(mail);
    const job = await finished(h, 'email', id);
    expect(await job.getState()).toBe('completed');
    expect(job.attemptsMade).toBe(1);
    expect(job.finishedOn! - t0).toBeGreaterThanOrEqual(950);
    expect(resend.delivered).toHaveLength(1);
  });

  it('does not send again when a delivered email job runs a second time (Resend idempotency key)', async () => {
    h = await startHarness({ ...resendEnv, ...from }, ['email']);
    const { id } = await h.client.sendEmail(mail);
    const first = await finished(h, 'email', id);
    const { messageId } = first.returnvalue;
    const firstFinishedOn = first.finishedOn!;
    await first.retry('completed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    const again = await until(async () => {
      const j = await h.queue('email').getJob(id);
      return j && (await j.getState()) === 'completed' && j.finishedOn! > firstFinishedOn ? h.queue('email').getJob(id) : undefined;
    }, 10_000, 'the re-run');
    expect(again!.returnvalue.messageId).toBe(messageId);
    expect(resend.received('POST', /^\/emails$/)).toHaveLength(2);
    expect(resend.delivered).toHaveLength(1);
  });

  it('fails PROVIDER_AUTH at once on a revoked key', async () => {
    h = await startHarness({ RESEND_API_KEY: 're_revoked_key_123', RESEND_BASE_URL: resend.url, ...from }, ['email']);
    const { id } = await h.client.sendEmail(mail);
    const job = await finished(h, 'email', id);
    expect(job.failedReason).toMatch(/^PROVIDER_AUTH: /);
    expect(job.attemptsMade).toBe(1);
  });
});
