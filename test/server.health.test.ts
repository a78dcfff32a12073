import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationClient } from '../src/producer/client.js';
import { ServiceMetrics } from '../src/server/metrics.js';
import { finished, startHarness, until } from './support/harness.js';
import { PrivateRedis } from './support/redis.js';
import { bearer, startApp } from './support/server.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the Prometheus text format (0.0.4): throws on any line it does not understand. */
function parsePrometheus(text: string): Sample[] {
  const typed = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      if (m[1] === 'TYPE') {
        expect(m[3]).toMatch(/^(counter|gauge|histogram|summary|untyped)$/);
        typed.set(m[2]!, m[3]!);
      }
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|NaN|\+Inf|-Inf))(?: \d+)?$/i.exec(line); // prom-client writes "Nan"; Prometheus reads it like Go's ParseFloat, case-insensitively
    if (!m) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g)) labels[l[1]!] = l[2]!;
    const base = m[1]!.replace(/_(bucket|sum|count|created)$/, '');
    if (!typed.has(m[1]!) && !typed.has(base)) throw new Error(`sample without # TYPE: ${m[1]}`);
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('/metrics', () => {
  it('is Prometheus text, and moves when workers in the process finish jobs', async () => {
    const h = await startHarness({}, ['sms']);
    const client = NotificationClient.fromConfig(h.config);
    const metrics = new ServiceMetrics({ queue: (q) => client.queue(q), connection: client.connection, stuckAfterMs: 180_000, cacheMs: 0 });
    h.rt.listeners.push(metrics.observe);
    const s = await startApp({ QUEUE_PREFIX: h.config.redis.prefix }, { client, metrics });
    try {
      const before = parsePrometheus((await s.app.inject({ url: '/metrics' })).body);
      expect(value(before, 'notification_jobs_total', { queue: 'sms' })).toBeUndefined();
      expect(value(before, 'notification_redis_up')).toBe(1);
      expect(value(before, 'process_cpu_user_seconds_total')).toBeGreaterThan(0); // default metrics
      for (const q of ['email', 'sms', 'whatsapp', 'meeting', 'appointment', 'reminder', 'webhook'])
        for (const state of ['waiting', 'delayed', 'active', 'failed'])
          expect(value(before, 'notification_queue_jobs', { queue: q, state }), `${q} ${state}`).toBe(0);

      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await s.app.inject({ method: 'POST', url: '/v1/sms', headers: bearer, payload: { to: '+33612345678', body: `n${i}` } });
        ids.push(r.json().id);
      }
      await s.client.queue('sms').add('send', { to: 'not-a-phone', body: 'x' }); // fails: INVALID_PAYLOAD
      for (const id of ids) await finished(h, 'sms', id);
      await until(async () => (await s.client.queue('sms').getJobCounts('failed')).failed === 1, 10_000, 'the invalid job to fail');

      const res = await s.app.inject({ url: '/metrics' });
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      const after = parsePrometheus(res.body);
      expect(value(after, 'notification_jobs_total', { queue: 'sms', provider: 'none', outcome: 'skipped' })).toBe(3);
      expect(value(after, 'notification_jobs_total', { queue: 'sms', outcome: 'failed' })).toBe(1);
      expect(value(after, 'notification_job_failures_total', { queue: 'sms', code: 'INVALID_PAYLOAD' })).toBe(1);
      expect(value(after, 'notification_job_processing_seconds_count', { queue: 'sms' })).toBe(4);
      expect(value(after, 'notification_job_end_to_end_seconds_count', { queue: 'sms' })).toBe(4);
      expect(value(after, 'notification_job_end_to_end_seconds_bucket', { queue: 'sms', le: '+Inf' })).toBe(4);
      expect(value(after, 'notification_queue_jobs', { queue: 'sms', state: 'failed' })).toBe(1);
      expect(value(after, 'notification_queue_jobs', { queue: 'sms', state: 'waiting' })).toBe(0);
    } finally {
      await s.close();
      await h.close();
    }
  });

  it('shows queue depth, and flags a queue stuck when jobs wait with nobody working them', async () => {
    const h = await startHarness({ STUCK_AFTER_MS: '400' }, []);
    const client = NotificationClient.fromConfig(h.config);
    const metrics = new ServiceMetrics({ queue: (q) => client.queue(q), connection: client.connection, stuckAfterMs: h.config.metrics.stuckAfterMs, cacheMs: 0 });
    const s = await startApp({ QUEUE_PREFIX: h.config.redis.prefix }, { client, metrics });
    const scrape = async () => parsePrometheus((await s.app.inject({ url: '/metrics' })).body);
    try {
      await s.client.sendSms({ to: '+33612345678', body: 'a' });
      await s.client.sendSms({ to: '+33612345678', body: 'b' });
      await s.client.sendSms({ to: '+33612345678', body: 'later' }, { delay: 60_000 });
      const fresh = await scrape();
      expect(value(fresh, 'notification_queue_jobs', { queue: 'sms', state: 'waiting' })).toBe(2);
      expect(value(fresh, 'notification_queue_jobs', { queue: 'sms', state: 'delayed' })).toBe(1);
      expect(value(fresh, 'notification_queue_stuck', { queue: 'sms' })).toBe(0); // just added: not stuck yet

      await new Promise((r) => setTimeout(r, 600));
      const stale = await scrape();
      expect(value(stale, 'notification_queue_stuck', { queue: 'sms' })).toBe(1);
      expect(value(stale, 'notification_queue_stuck', { queue: 'email' })).toBe(0); // nothing waiting there

      // A worker arrives: the queue drains and is no longer stuck.
      const worker = await startHarness({ QUEUE_PREFIX: h.config.redis.prefix }, ['sms']);
      try {
        await until(async () => (await s.client.queue('sms').getJobCounts('wait')).wait === 0, 10_000, 'the queue to drain');
        const drained = await scrape();
        expect(value(drained, 'notification_queue_stuck', { queue: 'sms' })).toBe(0);
        expect(value(drained, 'notification_queue_jobs', { queue: 'sms', state: 'waiting' })).toBe(0);
      } finally {
        await worker.close();
      }
    } finally {
      await s.close();
      await h.close();
    }
  });
});

describe('/healthz and /readyz', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
  });
  afterAll(() => redis.stop());

  it('readiness follows Redis: unready while it is down, ready again when it is back; liveness stays up', async () => {
    const s = await startApp({ REDIS_URL: redis.url });
    try {
      expect((await s.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready' });

      await redis.kill();
      const down = await until(async () => {
        const r = await s.app.inject({ url: '/readyz' });
        return r.statusCode === 503 ? r : undefined;
      }, 5_000, 'readiness to drop');
      expect(down.json().status).toBe('unready');
      expect(down.json().reason).toMatch(/^Redis: /);
      expect((await s.app.inject({ url: '/healthz' })).statusCode).toBe(200);
      const t0 = Date.now();
      await s.app.inject({ url: '/readyz' });
      expect(Date.now() - t0).toBeLessThan(1_500); // the probe answers within its own deadline

      await redis.start();
      const up = await until(async () => {
        const r = await s.app.inject({ url: '/readyz' });
        return r.statusCode === 200 ? r : undefined;
      }, 15_000, 'readiness to come back');
      expect(up.json()).toEqual({ status: 'ready' });
      // And the API works again on the same connection.
      const r = await s.app.inject({ method: 'POST', url: '/v1/sms', headers: bearer, payload: { to: '+33612345678', body: 'back' } });
      expect(r.statusCode).toBe(202);
    } finally {
      await s.close();
    }
  });
});
