import { afterEach, describe, expect, inject, it } from 'vitest';
import { NotificationClient, ValidationError } from '../src/index.js';
import { uniquePrefix } from './support/config.js';

describe('producer client: sendBulk', () => {
  let client: NotificationClient;
  afterEach(() => client?.close());
  const make = () => (client = new NotificationClient({ redisUrl: inject('redisUrl'), prefix: uniquePrefix('pb') }));
  const sms = (i: number) => ({ to: '+33612345678', body: `message ${i}` });

  it('adds every item with one addBulk, in order, with the retry policy written in', async () => {
    make();
    const out = await client.sendBulk('sms', Array.from({ length: 50 }, (_, i) => ({ payload: sms(i) })));
    expect(out).toHaveLength(50);
    expect(out.every((e) => e.queue === 'sms' && !e.duplicate)).toBe(true);
    expect(await client.queue('sms').count()).toBe(50);
    const job = (await client.queue('sms').getJob(out[7]!.id))!;
    expect(job.name).toBe('send');
    expect(job.data).toEqual(sms(7));
    expect(job.opts.attempts).toBe(6);
    expect(job.opts.backoff).toMatchObject({ type: 'exponential' });
  });

  it('validates every item first: indexed paths, nothing added', async () => {
    make();
    const err = (await client
      .sendBulk('email', [
        { payload: { to: 'a@example.com', subject: 'ok', text: 'x' } },
        { payload: { to: 'a@example.com', subject: 'ok', text: 'x' }, idempotencyKey: '' },
        { payload: { to: 'a@example.com', subject: 'x' } as never },
        { payload: { to: 'nope', subject: 'ok', text: 'x' }, delay: -1 },
      ])
      .catch((e: unknown) => e)) as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.issues.map((i) => i.path).sort()).toEqual(['1.idempotencyKey', '2.html', '3.delay', '3.to']);
    expect(err.message).toMatch(/^INVALID_PAYLOAD: /);
    expect(await client.queue('email').count()).toBe(0);
  });

  it('honours idempotency keys: within the batch, across batches and against sendSms', async () => {
    make();
    const single = await client.sendSms(sms(0), { idempotencyKey: 'order-1' });
    const out = await client.sendBulk('sms', [
      { payload: sms(0), idempotencyKey: 'order-1' }, // sent by sendSms
      { payload: sms(2), idempotencyKey: 'order-2' },
      { payload: sms(3) },
      { payload: sms(2), idempotencyKey: 'order-2' }, // repeated in the batch
    ]);
    const order2 = out[1]!.id;
    expect(out).toEqual([
      { id: single.id, queue: 'sms', duplicate: true },
      { id: expect.stringMatching(/^idem-/), queue: 'sms', duplicate: false },
      { id: expect.any(String), queue: 'sms', duplicate: false },
      { id: order2, queue: 'sms', duplicate: true },
    ]);
    expect(await client.queue('sms').count()).toBe(3);
    // sendSms used order-1 for another payload: nothing added, its job's id answered.
    const reused = await client.sendBulk('sms', [{ payload: sms(4), idempotencyKey: 'order-1' }, { payload: sms(5) }]);
    expect(reused[0]).toEqual({ id: single.id, queue: 'sms', duplicate: true, keyReused: true });
    expect(await client.queue('sms').count()).toBe(4);
    const again = await client.sendBulk('sms', [{ payload: sms(2), idempotencyKey: 'order-2' }]);
    expect(again).toEqual([{ id: order2, queue: 'sms', duplicate: true }]);
    expect(await client.sendSms(sms(2), { idempotencyKey: 'order-2' })).toEqual({ id: order2, queue: 'sms', duplicate: true });
    expect(await client.queue('sms').count()).toBe(4);
    // A key repeated in one batch with another payload is a mistake: nothing is added.
    const err = (await client
      .sendBulk('sms', [
        { payload: sms(7), idempotencyKey: 'order-3' },
        { payload: sms(8), idempotencyKey: 'order-3' },
      ])
      .catch((e: unknown) => e)) as ValidationError;
    expect(err.issues.map((i) => i.path)).toEqual(['1.idempotencyKey']);
    expect(await client.queue('sms').count()).toBe(4);
  });

  it('schedules items with delay or sendAt, and accepts an empty batch', async () => {
    make();
    const [a, b] = await client.sendBulk('whatsapp', [
      { payload: { to: '+33612345678', body: 'x' }, delay: 60_000 },
      { payload: { to: '+33612345678', body: 'y' }, sendAt: new Date(Date.now() + 3_600_000) },
    ]);
    expect(await (await client.queue('whatsapp').getJob(a!.id))!.getState()).toBe('delayed');
    expect((await client.queue('whatsapp').getJob(b!.id))!.delay).toBeGreaterThan(3_590_000);
    expect(await client.sendBulk('sms', [])).toEqual([]);
  });
});
