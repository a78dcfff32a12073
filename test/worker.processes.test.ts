import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NotificationClient } from '../src/producer/client.js';
import { FakeResend } from './fakes/resend.js';
import { FakeTwilio } from './fakes/twilio.js';
import { testEnv } from './support/config.js';
import { until } from './support/harness.js';
import { WorkerProcess } from './support/spawn.js';

/** Worker processes as ops run them: several at once, killed, stopped. */
describe('worker processes', () => {
  const twilio = new FakeTwilio();
  const resend = new FakeResend();
  const procs: WorkerProcess[] = [];
  let client: NotificationClient | undefined;

  beforeAll(async () => {
    await twilio.start();
    await resend.start();
  });
  afterAll(async () => {
    await twilio.stop();
    await resend.stop();
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
    await client?.close();
    twilio.reset();
    twilio.delivered.length = 0;
    resend.reset();
  });

  const envFor = (extra: Record<string, string> = {}) =>
    testEnv({
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_PHONE_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: twilio.url,
      LOG_LEVEL: 'info',
      ...extra,
    });

  const spawnWorkers = async (n: number, env: Record<string, string | undefined>, queues = ['sms']) => {
    const started = Array.from({ length: n }, () => new WorkerProcess(queues, env));
    procs.push(...started);
    await Promise.all(started.map((p) => p.started()));
    return started;
  };

  const producer = (env: Record<string, string | undefined>) =>
    (client = new NotificationClient({ redisUrl: env.REDIS_URL, prefix: env.QUEUE_PREFIX, backoffMs: 50 }));

  it('loses nothing when a worker is SIGKILLed mid-burst and another takes over', async () => {
    const env = envFor({ SMS_CONCURRENCY: '5', LOCK_DURATION_MS: '2000' });
    twilio.latencyMs = 20;
    const [first] = await spawnWorkers(1, env);
    const c = producer(env);
    const N = 200;
    for (let i = 0; i < N; i++) await c.sendSms({ to: '+33612345678', body: `burst ${i}` });
    await until(() => twilio.delivered.length >= 40, 30_000, '40 deliveries');
    await first!.kill('SIGKILL');
    const atKill = twilio.delivered.length;
    await spawnWorkers(1, env);
    await until(async () => ((await c.queue('sms').getJobCounts('completed')).completed ?? 0) >= N, 60_000, 'all jobs completed');
    const bodies = twilio.delivered.map((d) => d.body!);
    const distinct = new Set(bodies);
    const duplicates = bodies.length - distinct.size;
    console.log(`SIGKILL after ${atKill} deliveries: ${N} jobs, ${distinct.size} distinct delivered, ${duplicates} duplicate(s)`);
    expect(distinct.size).toBe(N);
    // Only messages in flight at the kill (at most the concurrency) may be sent twice.
    expect(duplicates).toBeLessThanOrEqual(5);
    const failed = await c.queue('sms').getJobCounts('failed');
    expect(failed.failed).toBe(0);
  });

  it('drains active jobs on SIGTERM and exits 0', async () => {
    const env = envFor({ SMS_CONCURRENCY: '3' });
    twilio.latencyMs = 1500;
    const [w] = await spawnWorkers(1, env);
    const c = producer(env);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await c.sendSms({ to: '+33612345678', body: `drain ${i}` })).id);
    await until(() => twilio.requests.length >= 3, 10_000, '3 requests in flight');
    const code = await w!.kill('SIGTERM');
    expect(code).toBe(0);
    for (const id of ids) expect(await (await c.queue('sms').getJob(id))!.getState()).toBe('completed');
    expect(w!.text).toMatch(/shutting down/);
  });

  it('never logs a key, a token, a message body or a full phone number', async () => {
    const env = envFor({
      LOG_LEVEL: 'debug',
      RESEND_API_KEY: resend.apiKey,
      RESEND_BASE_URL: resend.url,
      EMAIL_FROM: 'Cabinet <no-reply@example.com>',
    });
    twilio.invalidNumbers.add('+15005550001');
    const [w] = await spawnWorkers(1, env, ['sms', 'email']);
    const c = producer(env);
    const jobs = [
      await c.sendSms({ to: '+33612345678', body: 'BODY-SMS-SECRET' }),
      await c.sendSms({ to: '+15005550001', body: 'BODY-SMS-SECRET' }),
      await c.sendEmail({ to: 'paul.durand@example.com', subject: 'SUBJECT-SECRET', html: '<p>BODY-HTML-SECRET</p>' }),
    ];
    await until(async () => {
      const states = await Promise.all(jobs.map(async (j) => (await c.queue(j.queue).getJob(j.id))?.getState()));
      return states.every((s) => s === 'completed' || s === 'failed');
    }, 15_000, 'jobs to finish');
    await w!.kill('SIGTERM');
    const text = w!.text;
    expect(text).toMatch(/job completed/);
    expect(text).toMatch(/INVALID_RECIPIENT/);
    for (const secret of [twilio.authToken, resend.apiKey, 'BODY-SMS-SECRET', 'SUBJECT-SECRET', 'BODY-HTML-SECRET', '+33612345678', '+15005550001', '33612345678', 'paul.durand'])
      expect(text, `log contains ${secret}`).not.toContain(secret);
    expect(text).toMatch(/\+336\*+78/);
    // One start-up line lists what is on and why the rest is off.
    const integrations = text.split('\n').filter((l) => l.includes('"msg":"integrations"'));
    expect(integrations).toHaveLength(1);
    expect(JSON.parse(integrations[0]!)).toMatchObject({ enabled: ['resend', 'twilio-sms'], disabled: { zoom: expect.any(String), sendgrid: expect.any(String) } });
  });
});
