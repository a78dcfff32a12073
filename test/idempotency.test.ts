import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BULLMQ_KEY_NAMES, isSafeJobId } from '../src/contract/job-ids.js';
import { finished, startHarness } from './support/harness.js';
import { bearer, startApp } from './support/server.js';

/**
 * v1 used an Idempotency-Key as the job id: `active` wrote a job hash over BullMQ's own
 * `<queue>:active` list and stopped the queue. Keys now give derived ids (README
 * "Idempotency"); no key, whatever it says, touches the queue's keys.
 */
describe('Idempotency-Key named like a BullMQ key', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  let s: Awaited<ReturnType<typeof startApp>>;
  beforeAll(async () => {
    h = await startHarness({}, ['email', 'sms', 'whatsapp']);
    s = await startApp({ QUEUE_PREFIX: h.config.redis.prefix }, { client: h.client });
  });
  afterAll(async () => {
    await s.app.close();
    await h.close();
  });

  const routes = [
    ['/v1/sms', 'sms', { to: '+33612345678', body: 'Bonjour' }],
    ['/v1/whatsapp', 'whatsapp', { to: '+33612345678', body: 'Bonjour' }],
    ['/v1/emails', 'email', { to: 'paul@example.com', subject: 'Bonjour', text: 'Bonjour' }],
  ] as const;
  const keys = [...new Set([...BULLMQ_KEY_NAMES, '-1', '0', 'a:b', 'metrics:completed', 'x'.repeat(255)])];

  it('answers 202 with a safe derived id for every key, and every queue keeps processing', async () => {
    for (const [url, queue, payload] of routes) {
      const ids: string[] = [];
      for (const key of keys) {
        const r = await s.app.inject({ method: 'POST', url, headers: { ...bearer, 'idempotency-key': key }, payload });
        expect(r.statusCode, `${url} ${key}`).toBe(202);
        expect(isSafeJobId(r.json().id)).toBe(true);
        ids.push(r.json().id);
      }
      expect(new Set(ids).size).toBe(keys.length);
      // Providers are not configured here: every job completes as skipped, none is stuck.
      for (const id of ids) expect((await finished(h, queue, id)).returnvalue).toMatchObject({ status: 'skipped' });
      const plain = await s.app.inject({ method: 'POST', url, headers: bearer, payload });
      expect((await finished(h, queue, plain.json().id)).returnvalue).toMatchObject({ status: 'skipped' });
      for (const key of ['active', 'meta', 'id']) {
        const replay = await s.app.inject({ method: 'POST', url, headers: { ...bearer, 'idempotency-key': key }, payload });
        expect(replay.statusCode).toBe(200);
        expect(replay.json()).toMatchObject({ id: ids[keys.indexOf(key)], duplicate: true });
      }
      expect(await h.queue(queue).getJobCountByTypes('wait', 'active', 'delayed', 'failed')).toBe(0);
    }
  });
});
