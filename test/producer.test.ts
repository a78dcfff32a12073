import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Worker } from 'bullmq';
import { isSafeJobId } from '../src/contract/job-ids.js';
import { IdempotencyKeyReusedError, NotificationClient, RedisUnavailableError, ValidationError } from '../src/index.js';
import { until } from './support/harness.js';
import { uniquePrefix } from './support/config.js';
import { freePort } from './support/redis.js';

describe('producer client', () => {
  let client: NotificationClient;
  afterEach(() => client?.close());
  const make = () => (client = new NotificationClient({ redisUrl: inject('redisUrl'), prefix: uniquePrefix('p') }));

  it('validates before enqueueing and lists every issue', async () => {
    make();
    const err = await client
      .sendEmail({ to: ['ok@example.com', 'nope'], subject: 'a\nb' } as never)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    const paths = (err as ValidationError).issues.map((i) => i.path).sort();
    expect(paths).toEqual(['html', 'subject', 'to.1']);
    expect((err as Error).message).toMatch(/^INVALID_PAYLOAD: /);
    expect(await client.queue('email').count()).toBe(0);
  });

  it("drops a producer's `ref`: only the appointments feature says what a message is for", async () => {
    make();
    const ref = { appointmentId: 'apt_1', kind: 'J-1', version: 1, recipient: 'attendee' };
    const sms = await client.sendSms({ to: '+33612345678', body: 'x', ref } as never);
    const wa = await client.sendWhatsApp({ to: '+33612345678', body: 'x', ref } as never);
    expect((await client.queue('sms').getJob(sms.id))!.data).toEqual({ to: '+33612345678', body: 'x' });
    expect((await client.queue('whatsapp').getJob(wa.id))!.data).toEqual({ to: '+33612345678', body: 'x' });
  });

  it('rejects a national phone number with a message that says E.164', async () => {
    make();
    const err = (await client.sendSms({ to: '0612345678', body: 'x' }).catch((e) => e)) as ValidationError;
    expect(err.issues).toEqual([{ path: 'to', message: expect.stringMatching(/E\.164/) }]);
  });

  it('adds nothing for an idempotency key replayed within 24 h, even after the first job was cleaned up', async () => {
    make();
    const first = await client.sendSms({ to: '+33612345678', body: 'x' }, { idempotencyKey: 'order-42-sms' });
    expect(first).toEqual({ id: expect.stringMatching(/^idem-[0-9a-f]{32}-[0-9a-f]{12}-[0-9a-z]+$/), queue: 'sms', duplicate: false });
    // The workers clean finished jobs up (removeOnComplete): here at once, the soonest it can be.
    const prefix = (client.queue('sms').opts as { prefix: string }).prefix;
    const worker = new Worker('sms', async () => 'done', { connection: { url: inject('redisUrl') }, prefix, removeOnComplete: { count: 0 } });
    await until(async () => (await client.queue('sms').getJob(first.id)) === undefined, 10_000, 'the job to be cleaned up');
    await worker.close();
    const replay = await client.sendSms({ to: '+33612345678', body: 'x' }, { idempotencyKey: 'order-42-sms' });
    expect(replay).toEqual({ id: first.id, queue: 'sms', duplicate: true });
    expect(await client.queue('sms').count()).toBe(0);
  });

  it('takes any printable key, and derives a job id that is safe for BullMQ from it', async () => {
    make();
    for (const key of ['a:b', '12345', '-1', 'meta', 'active', 'has spaces', 'x'.repeat(255)]) {
      const e = await client.sendSms({ to: '+33612345678', body: 'x' }, { idempotencyKey: key });
      expect(isSafeJobId(e.id), key).toBe(true);
      expect((await client.queue('sms').getJob(e.id))?.data).toEqual({ to: '+33612345678', body: 'x' });
    }
    for (const key of ['', 'x'.repeat(256), 'é', 'a\nb']) {
      const err = (await client.sendSms({ to: '+33612345678', body: 'x' }, { idempotencyKey: key }).catch((e) => e)) as ValidationError;
      expect(err.issues[0]!.path).toBe('idempotencyKey');
    }
  });

  it('refuses a key reused within 24 h with another payload, and adds nothing', async () => {
    make();
    const first = await client.sendSms({ to: '+33612345678', body: 'x' }, { idempotencyKey: 'order-43' });
    const err = await client.sendSms({ to: '+33612345678', body: 'y' }, { idempotencyKey: 'order-43' }).catch((e) => e);
    expect(err).toBeInstanceOf(IdempotencyKeyReusedError);
    expect((err as IdempotencyKeyReusedError).existingId).toBe(first.id);
    expect(await client.queue('sms').count()).toBe(1);
  });

  it('schedules with delay or sendAt', async () => {
    make();
    const a = await client.sendSms({ to: '+33612345678', body: 'x' }, { delay: 60_000 });
    const b = await client.sendSms({ to: '+33612345678', body: 'x' }, { sendAt: new Date(Date.now() + 3_600_000).toISOString() });
    const ja = (await client.queue('sms').getJob(a.id))!;
    const jb = (await client.queue('sms').getJob(b.id))!;
    expect(await ja.getState()).toBe('delayed');
    expect(ja.delay).toBe(60_000);
    expect(jb.delay).toBeGreaterThan(3_590_000);
    const err = (await client.sendSms({ to: '+33612345678', body: 'x' }, { sendAt: '2030-01-01T10:00:00' }).catch((e) => e)) as ValidationError;
    expect(err.issues[0]!.path).toBe('sendAt');
  });

  it('fails fast with RedisUnavailableError when Redis is down', async () => {
    client = new NotificationClient({ redisUrl: `redis://127.0.0.1:${await freePort()}`, connectTimeoutMs: 500 });
    const t0 = Date.now();
    const err = await client.sendSms({ to: '+33612345678', body: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect(Date.now() - t0).toBeLessThan(3_000);
  });
});
