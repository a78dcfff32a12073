import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { NotificationClient, RedisUnavailableError, ValidationError } from '../src/index.js';
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

  it('rejects a national phone number with a message that says E.164', async () => {
    make();
    const err = (await client.sendSms({ to: '0612345678', body: 'x' }).catch((e) => e)) as ValidationError;
    expect(err.issues).toEqual([{ path: 'to', message: expect.stringMatching(/E\.164/) }]);
  });

  it('adds nothing for an idempotency key replayed within 24 h, even after the first job was removed', async () => {
    make();
    const first = await client.sendSms({ to: '+33612345678', body: 'x' }, { idempotencyKey: 'order-42-sms' });
    expect(first).toEqual({ id: 'order-42-sms', queue: 'sms', duplicate: false });
    await (await client.queue('sms').getJob(first.id))!.remove();
    const replay = await client.sendSms({ to: '+33612345678', body: 'x' }, { idempotencyKey: 'order-42-sms' });
    expect(replay).toEqual({ id: 'order-42-sms', queue: 'sms', duplicate: true });
    expect(await client.queue('sms').count()).toBe(0);
  });

  it('rejects idempotency keys BullMQ cannot use as job ids', async () => {
    make();
    for (const key of ['a:b', '12345', '', 'x'.repeat(201)]) {
      const err = (await client.sendSms({ to: '+33612345678', body: 'x' }, { idempotencyKey: key }).catch((e) => e)) as ValidationError;
      expect(err.issues[0]!.path).toBe('idempotencyKey');
    }
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
