import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeTwilio } from './fakes/twilio.js';
import { finished, startHarness, until } from './support/harness.js';

const PHONE = '+33612345678';

describe('sms and whatsapp jobs through real workers', () => {
  const twilio = new FakeTwilio();
  let h: Awaited<ReturnType<typeof startHarness>>;

  beforeAll(async () => {
    await twilio.start();
  });
  afterAll(() => twilio.stop());
  afterEach(async () => {
    await h?.close();
    twilio.reset();
    twilio.delivered.length = 0;
  });

  const twilioEnv = (extra: Record<string, string> = {}) => ({
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_PHONE_NUMBER: '+15005550006',
    TWILIO_WHATSAPP_NUMBER: 'whatsapp:+14155238886',
    TWILIO_API_BASE_URL: twilio.url,
    ...extra,
  });

  it('delivers an SMS and returns the contract result', async () => {
    h = await startHarness(twilioEnv(), ['sms']);
    const { id } = await h.client.sendSms({ to: PHONE, body: 'Bonjour' });
    const job = await finished(h, 'sms', id);
    expect(job.returnvalue).toMatchObject({ status: 'sent', provider: 'twilio', providerStatus: 'queued' });
    expect(job.returnvalue.messageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(twilio.delivered).toHaveLength(1);
    expect(twilio.delivered[0]).toMatchObject({ to: PHONE, from: '+15005550006', body: 'Bonjour' });
  });

  it('delivers a WhatsApp template', async () => {
    h = await startHarness(twilioEnv(), ['whatsapp']);
    const contentSid = 'HX' + 'ab'.repeat(16);
    const { id } = await h.client.sendWhatsApp({ to: PHONE, contentSid, contentVariables: { '1': 'Paul' } });
    const job = await finished(h, 'whatsapp', id);
    expect(job.returnvalue.status).toBe('sent');
    expect(twilio.delivered[0]).toMatchObject({ to: `whatsapp:${PHONE}`, contentSid, contentVariables: '{"1":"Paul"}' });
  });

  it('fails invalid payloads pushed straight into Redis at once, naming the field, sending nothing', async () => {
    h = await startHarness(twilioEnv(), ['sms', 'email']);
    const raw = new Queue('sms', { connection: h.ctx.connection, prefix: h.config.redis.prefix });
    const rawEmail = new Queue('email', { connection: h.ctx.connection, prefix: h.config.redis.prefix });
    const cases = [
      { q: raw, data: { body: 'no recipient' }, field: 'to' },
      { q: raw, data: { to: '0612345678', body: 'national format' }, field: 'to' },
      { q: rawEmail, data: { to: 'a@example.com', subject: 'Hi\r\nBcc: evil@example.com', text: 'x' }, field: 'subject' },
      { q: rawEmail, data: { to: 'not-an-address', subject: 'Hi', text: 'x' }, field: 'to' },
    ];
    for (const c of cases) {
      const added = await c.q.add('send', c.data, { attempts: 5, backoff: { type: 'fixed', delay: 10 } });
      const job = await finished(h, c.q.name as 'sms', added.id!);
      expect(await job.getState()).toBe('failed');
      expect(job.failedReason).toMatch(new RegExp(`^INVALID_PAYLOAD: .*${c.field}: `));
      expect(job.attemptsMade).toBe(1);
    }
    expect(twilio.requests).toHaveLength(0);
    await raw.close();
    await rawEmail.close();
  });

  it('maps Twilio 21211 to INVALID_RECIPIENT and 21610 to RECIPIENT_OPTED_OUT, one attempt each', async () => {
    h = await startHarness(twilioEnv(), ['sms']);
    twilio.invalidNumbers.add('+15005550001');
    twilio.optedOut.add('+15005550002');
    const a = await h.client.sendSms({ to: '+15005550001', body: 'x' });
    const b = await h.client.sendSms({ to: '+15005550002', body: 'x' });
    const ja = await finished(h, 'sms', a.id);
    const jb = await finished(h, 'sms', b.id);
    expect(ja.failedReason).toMatch(/^INVALID_RECIPIENT: /);
    expect(ja.failedReason).not.toContain('+15005550001');
    expect(jb.failedReason).toMatch(/^RECIPIENT_OPTED_OUT: /);
    expect([ja.attemptsMade, jb.attemptsMade]).toEqual([1, 1]);
  });

  it('retries 500, 500 then delivers exactly once, completing on attempt 3', async () => {
    h = await startHarness(twilioEnv(), ['sms']);
    twilio.failNext(2, { status: 500, body: { code: 20500, message: 'Internal Server Error', status: 500 } });
    const { id } = await h.client.sendSms({ to: PHONE, body: 'retry me' });
    const job = await finished(h, 'sms', id);
    expect(await job.getState()).toBe('completed');
    expect(job.attemptsMade).toBe(3);
    expect(twilio.delivered).toHaveLength(1);
  });

  it('gives jobs added without retry options the service policy', async () => {
    h = await startHarness(twilioEnv(), ['sms']);
    twilio.failNext(2, { status: 503, body: { code: 20503, message: 'Service Unavailable', status: 503 } });
    const raw = new Queue('sms', { connection: h.ctx.connection, prefix: h.config.redis.prefix });
    const added = await raw.add('send', { to: PHONE, body: 'from python' });
    const job = await finished(h, 'sms', added.id!);
    expect(await job.getState()).toBe('completed');
    expect(twilio.delivered).toHaveLength(1);
    await raw.close();
  });

  it('fails PROVIDER_UNAVAILABLE after the last attempt', async () => {
    h = await startHarness(twilioEnv({ JOB_ATTEMPTS: '2' }), ['sms']);
    twilio.failNext(5, { status: 502, body: 'Bad Gateway' });
    const { id } = await h.client.sendSms({ to: PHONE, body: 'x' }); // client writes JOB_ATTEMPTS into the job
    const job = await finished(h, 'sms', id);
    expect(job.failedReason).toMatch(/^PROVIDER_UNAVAILABLE: /);
    expect(job.attemptsMade).toBe(2);
  });

  it('on a 429 waits and delivers without consuming an attempt', async () => {
    h = await startHarness(twilioEnv({ RATE_LIMIT_DEFAULT_WAIT_MS: '400' }), ['sms']);
    twilio.failNext(1, { status: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 } });
    const t0 = Date.now();
    const { id } = await h.client.sendSms({ to: PHONE, body: 'x' });
    const job = await finished(h, 'sms', id);
    expect(await job.getState()).toBe('completed');
    expect(job.attemptsMade).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(twilio.delivered).toHaveLength(1);
  });

  it('does not loop on 429s forever: started attempts are capped', async () => {
    h = await startHarness(twilioEnv({ RATE_LIMIT_DEFAULT_WAIT_MS: '5', JOB_ATTEMPTS: '2', MAX_RATE_LIMITED_STARTS: '3' }), ['sms']);
    twilio.failNext(50, { status: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 } });
    const { id } = await h.client.sendSms({ to: PHONE, body: 'x' });
    const job = await finished(h, 'sms', id);
    expect(await job.getState()).toBe('failed');
    expect(job.failedReason).toMatch(/^PROVIDER_UNAVAILABLE: rate limited/);
    expect(twilio.requests.length).toBeLessThanOrEqual(2 + 3 + 1);
  });

  it('does not send again when a delivered job is run a second time', async () => {
    h = await startHarness(twilioEnv(), ['sms']);
    const { id } = await h.client.sendSms({ to: PHONE, body: 'once' });
    const first = await finished(h, 'sms', id);
    const { messageId } = first.returnvalue;
    const firstFinishedOn = first.finishedOn!;
    // Even with BullMQ's counters reset, the marker in Redis holds.
    await first.retry('completed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    const again = await until(async () => {
      const j = await h.queue('sms').getJob(id);
      return j && (await j.getState()) === 'completed' && j.finishedOn! > firstFinishedOn ? h.queue('sms').getJob(id) : undefined;
    }, 10_000, 'the re-run');
    expect(again.returnvalue.messageId).toBe(messageId);
    expect(twilio.delivered).toHaveLength(1);
  });

  it('skips a message past its expiresAt, sends one before it', async () => {
    h = await startHarness(twilioEnv(), ['sms']);
    const late = await h.client.sendSms({ to: PHONE, body: 'too late', expiresAt: new Date(Date.now() - 1000).toISOString() });
    const onTime = await h.client.sendSms({ to: PHONE, body: 'on time', expiresAt: new Date(Date.now() + 60_000).toISOString() });
    expect((await finished(h, 'sms', late.id)).returnvalue).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^expired at /) });
    expect((await finished(h, 'sms', onTime.id)).returnvalue).toMatchObject({ status: 'sent' });
    expect(twilio.delivered.map((d) => d.body)).toEqual(['on time']);
  });

  it('skips, sending nothing, when the integration is not configured', async () => {
    h = await startHarness({}, ['sms', 'whatsapp', 'email']);
    const s = await h.client.sendSms({ to: PHONE, body: 'x' });
    const w = await h.client.sendWhatsApp({ to: PHONE, body: 'x' });
    const e = await h.client.sendEmail({ to: 'paul@example.com', subject: 'Hi', text: 'x' });
    for (const [q, id] of [['sms', s.id], ['whatsapp', w.id], ['email', e.id]] as const) {
      const job = await finished(h, q, id);
      expect(job.returnvalue).toMatchObject({ status: 'skipped' });
      expect(job.returnvalue.reason).toMatch(/not configured/);
    }
    expect(twilio.requests).toHaveLength(0);
  });
});
