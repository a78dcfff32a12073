import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NotificationClient, RedisUnavailableError } from '../src/producer/client.js';
import { jobIds } from '../src/appointments/ids.js';
import { hostPort, loadConfig } from '../src/config.js';
import { key, queuePrefix } from '../src/redis.js';
import { FakeTwilio } from './fakes/twilio.js';
import { PrivateCluster, PrivateSentinel } from './support/cluster.js';
import { finished, startHarness, until } from './support/harness.js';
import { Redis } from 'ioredis';
import { PrivateRedis, waitForRedis } from './support/redis.js';

/**
 * The service on a three-master Redis Cluster: producer and workers configured with
 * REDIS_CLUSTER_NODES, every key under the hash-tagged prefix (one slot per deployment).
 */
describe('Redis Cluster', () => {
  const twilio = new FakeTwilio();
  let cluster: PrivateCluster;
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    await twilio.start();
    cluster = await PrivateCluster.start();
  }, 60_000);
  afterAll(async () => {
    await twilio.stop();
    await cluster?.stop();
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => {});
    twilio.reset();
    twilio.delivered.length = 0;
  });

  const harness = async (queues: Parameters<typeof startHarness>[1], extra: Record<string, string> = {}) => {
    const h = await startHarness(
      {
        REDIS_CLUSTER_NODES: cluster.nodes,
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_PHONE_NUMBER: '+15005550006',
        TWILIO_API_BASE_URL: twilio.url,
        ...extra,
      },
      queues,
    );
    closers.push(() => h.close());
    return h;
  };

  /** Every key of this deployment carries the hash tag: one slot, so BullMQ's multi-key scripts work. */
  const expectOneSlot = async (prefix: string) => {
    const mine = (await cluster.allKeys()).filter((k) => k.includes(prefix));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.filter((k) => !k.startsWith(`{${prefix}}:`))).toEqual([]);
    return mine;
  };

  it('a producer connects on its first try, every time', async () => {
    // ioredis's cluster ready check used to be refused by a fail-fast producer client,
    // which then closed and started over, sometimes for longer than connectTimeoutMs.
    for (let i = 0; i < 10; i++) {
      const client = new NotificationClient({ clusterNodes: cluster.nodes.split(','), prefix: `probe${i}` });
      const events: string[] = [];
      for (const e of ['close', 'ready'] as const) client.connection.on(e, () => events.push(e));
      try {
        expect(await client.withRedis(() => client.queue('sms').count())).toBe(0);
        expect(events[0]).toBe('ready');
      } finally {
        await client.close();
      }
    }
  });

  it('delivers SMS jobs, deduplicates idempotency-key replays and never re-sends a delivered job', async () => {
    const h = await harness(['sms']);
    expect(queuePrefix(h.config.redis)).toBe(`{${h.config.redis.prefix}}`);

    const N = 50;
    const sent = await Promise.all(Array.from({ length: N }, (_, i) => h.client.sendSms({ to: '+33612345678', body: `cluster ${i}` })));
    await until(() => twilio.delivered.length >= N, 30_000, `${N} deliveries`);
    expect(new Set(twilio.delivered.map((d) => d.body)).size).toBe(N);

    // The same idempotency key twice: one job, one message.
    const first = await h.client.sendSms({ to: '+33612345678', body: 'once' }, { idempotencyKey: 'cluster-once' });
    const again = await h.client.sendSms({ to: '+33612345678', body: 'once' }, { idempotencyKey: 'cluster-once' });
    expect(again).toMatchObject({ id: first.id, duplicate: true });
    expect((await finished(h, 'sms', first.id)).returnvalue).toMatchObject({ status: 'sent' });

    // The delivery marker: a completed job run again (as after a lost lock) is replayed, not re-sent.
    const job = await finished(h, 'sms', sent[0]!.id);
    expect(job.returnvalue).toMatchObject({ status: 'sent' });
    expect(job.progress).toMatchObject({ delivered: { status: 'sent' } });
    const deliveries = twilio.delivered.length;
    // retry() resets the job object's own fields: keep what the first run left.
    const { processedOn: firstRun, returnvalue: firstResult } = job;
    await job.retry('completed');
    const rerun = await until(async () => {
      const j = await h.queue('sms').getJob(job.id!);
      // Re-read once completed: the object fetched above may predate the state change.
      return j && j.processedOn! > firstRun! && (await j.getState()) === 'completed' ? h.queue('sms').getJob(job.id!) : undefined;
    }, 15_000, 'the re-run to finish');
    expect(rerun!.returnvalue).toEqual(firstResult);
    expect(twilio.delivered.length).toBe(deliveries);
    expect(twilio.delivered.filter((d) => d.body === 'once')).toHaveLength(1);

    const keys = await expectOneSlot(h.config.redis.prefix);
    console.log(`cluster: ${N + 1} SMS delivered on 3 masters, ${keys.length} keys, all under {${h.config.redis.prefix}}`);
  });

  it('fires a delayed SMS (sendAt) on time', async () => {
    const h = await harness(['sms']);
    const at = Date.now() + 2_000;
    const e = await h.client.sendSms({ to: '+33612345678', body: 'later' }, { sendAt: new Date(at) });
    expect(await (await h.queue('sms').getJob(e.id))!.getState()).toBe('delayed');
    const delivered = await until(() => twilio.delivered.find((d) => d.body === 'later'), 15_000, 'the delayed SMS');
    console.log(`cluster: delayed SMS due at +2000 ms delivered ${delivered.at - at} ms after its time`);
    expect(delivered.at).toBeGreaterThanOrEqual(at - 50);
    // Generous: a loaded two-core machine; BullMQ promotes delayed jobs as they fall due.
    expect(delivered.at - at).toBeLessThan(5_000);
  });

  it('books an appointment: its reminder jobs exist on the cluster', async () => {
    const h = await harness(['appointment', 'reminder', 'meeting', 'email', 'sms', 'whatsapp']);
    const id = `apt_cluster_${Date.now()}`;
    const scheduledAt = new Date(Date.now() + 3 * 24 * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const booked = await h.client.appointments.booked({
      id,
      scheduledAt,
      duration: 30,
      title: 'Rendez-vous découverte',
      timezone: 'Europe/Paris',
      locale: 'fr',
      attendee: { name: 'Paul Durand', phone: '+33612345678' },
      reminderChannels: ['sms'],
    });
    const event = await finished(h, 'appointment', booked.id, 30_000);
    expect(event.failedReason).toBeUndefined();
    const reminders = await until(async () => {
      const r = await h.client.appointments.reminders(id);
      return r.length >= 2 ? r : undefined;
    }, 15_000, 'two pending reminders');
    expect(reminders.map((r) => r.name).sort()).toEqual(['H-1', 'J-1']);
    for (const r of reminders) {
      expect(r.id).toContain(id);
      expect(r.state).toBe('delayed');
    }
    expect(Date.parse(reminders.find((r) => r.name === 'J-1')!.fireAt)).toBe(Date.parse(scheduledAt) - 24 * 3600_000);
    const reminderJob = await h.queue('reminder').getJob(jobIds.reminder(id, 'J-1', 1));
    expect(reminderJob, 'J-1 reminder job under its deterministic id').toBeTruthy();
    await expectOneSlot(h.config.redis.prefix);
  });
});

/** An SMS worker behind `sentinel`: REDIS_URL points where nothing listens, only the Sentinel knows the master. */
const sentinelEnv = (sentinel: PrivateSentinel, name: string, twilio: FakeTwilio) => ({
  REDIS_URL: 'redis://127.0.0.1:1',
  REDIS_SENTINELS: sentinel.nodes,
  REDIS_SENTINEL_NAME: name,
  TWILIO_ACCOUNT_SID: twilio.accountSid,
  TWILIO_AUTH_TOKEN: twilio.authToken,
  TWILIO_PHONE_NUMBER: '+15005550006',
  TWILIO_API_BASE_URL: twilio.url,
});

/** Behind Sentinel: REDIS_URL's host is never used, the master's address comes from the Sentinels. */
describe('Redis Sentinel', () => {
  it('finds the master through REDIS_SENTINELS and delivers', async () => {
    const twilio = await new FakeTwilio().start();
    const master = await PrivateRedis.start();
    const sentinel = await PrivateSentinel.start(master.port, 'notifmaster');
    try {
      const h = await startHarness(sentinelEnv(sentinel, 'notifmaster', twilio), ['sms']);
      try {
        const e = await h.client.sendSms({ to: '+33612345678', body: 'via sentinel' });
        expect((await finished(h, 'sms', e.id)).returnvalue).toMatchObject({ status: 'sent' });
        expect(twilio.delivered.map((d) => d.body)).toEqual(['via sentinel']);
      } finally {
        await h.close();
      }
    } finally {
      await sentinel.stop();
      await master.stop();
      await twilio.stop();
    }
  });
});

describe('Redis Sentinel failover', () => {
  it('keeps workers and producers going when the master dies and the Sentinel promotes the replica', async () => {
    const twilio = await new FakeTwilio().start();
    const master = await PrivateRedis.start();
    const replica = await PrivateRedis.start({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    const admin = new Redis(master.url, { maxRetriesPerRequest: 1 });
    admin.on('error', () => {});
    let sentinel: PrivateSentinel | undefined;
    try {
      await waitForRedis(replica.url);
      const replicaAdmin = new Redis(replica.url, { maxRetriesPerRequest: 1 });
      replicaAdmin.on('error', () => {});
      await until(async () => /master_link_status:up/.test(await replicaAdmin.info('replication')), 10_000, 'the replica to sync');
      replicaAdmin.disconnect();
      sentinel = await PrivateSentinel.start(master.port, 'notiffo', { downAfterMs: 1000 });
      // The Sentinel learns of replicas from the master's INFO (every 10 s at first).
      await until(async () => ((await sentinel!.ask<unknown[]>('replicas', 'notiffo')) ?? []).length > 0, 15_000, 'the Sentinel to see the replica');
      const h = await startHarness(sentinelEnv(sentinel, 'notiffo', twilio), ['sms']);
      try {
        for (let i = 0; i < 10; i++) await h.client.sendSms({ to: '+33612345678', body: `before ${i}` });
        await until(() => twilio.delivered.length >= 10, 15_000, 'deliveries before the failover');
        // Replication is asynchronous: let the replica hold every completion first, as
        // `min-replicas-to-write` would (see README), so the test counts exactly.
        await admin.call('WAIT', '1', '2000');
        admin.disconnect();
        await master.kill();
        const killedAt = Date.now();

        // The producer fails fast while there is no master; a caller retries, as with any outage.
        let unavailable = 0;
        for (let i = 0; i < 10; i++) {
          for (;;) {
            try {
              await h.client.sendSms({ to: '+33612345678', body: `after ${i}` });
              break;
            } catch (err) {
              if (!(err instanceof RedisUnavailableError) || Date.now() - killedAt > 30_000) throw err;
              unavailable++;
              await new Promise((r) => setTimeout(r, 200));
            }
          }
        }
        await until(() => twilio.delivered.length >= 20, 30_000, 'deliveries after the failover');
        const promoted = await sentinel.ask<string[]>('get-master-addr-by-name', 'notiffo');
        console.log(
          `Sentinel failover: replica promoted (${promoted?.join(':')}), producer got ${unavailable} RedisUnavailableError(s), ` +
            `20th delivery ${Date.now() - killedAt} ms after the master was killed`,
        );
        expect(promoted?.[1]).toBe(String(replica.port));
        const bodies = twilio.delivered.map((d) => d.body);
        expect(new Set(bodies).size).toBe(20);
        expect(bodies).toHaveLength(20);
      } finally {
        await h.close();
      }
    } finally {
      admin.disconnect();
      await sentinel?.stop();
      await replica.stop();
      await master.stop();
      await twilio.stop();
    }
  }, 60_000);
});

describe('Redis topology configuration', () => {
  const load = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', ...env });

  it('reads Sentinels and the master name, and refuses malformed or conflicting topologies', () => {
    expect(load({ REDIS_SENTINELS: 's1:26379, s2:26379' }).redis.sentinels).toEqual({ nodes: ['s1:26379', 's2:26379'], name: 'mymaster' });
    expect(load({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'notif' }).redis.sentinels?.name).toBe('notif');
    expect(load({}).redis.sentinels).toBeUndefined();
    expect(() => load({ REDIS_SENTINELS: 's1' })).toThrow(/REDIS_SENTINELS: expected host:port/);
    expect(() => load({ REDIS_CLUSTER_NODES: 'n1:6379,n2' })).toThrow(/REDIS_CLUSTER_NODES: expected host:port/);
    expect(() => load({ REDIS_CLUSTER_NODES: 'n1:6379', REDIS_SENTINELS: 's1:26379' })).toThrow(/not both/);
  });

  it('reads IPv6 nodes in brackets, and says how to write one that has none', () => {
    expect(load({ REDIS_CLUSTER_NODES: '[::1]:7000, [fd00::2]:7001,n3:7002' }).redis.clusterNodes).toEqual(['[::1]:7000', '[fd00::2]:7001', 'n3:7002']);
    expect(hostPort('[::1]:7000')).toEqual({ host: '::1', port: 7000 });
    expect(hostPort('[fe80::1%eth0]:26379')).toEqual({ host: 'fe80::1%eth0', port: 26379 });
    expect(hostPort('redis-0.redis:6380')).toEqual({ host: 'redis-0.redis', port: 6380 });
    expect(hostPort('10.0.0.7', 6379)).toEqual({ host: '10.0.0.7', port: 6379 });
    expect(() => hostPort('10.0.0.7')).toThrow(/expected host:port/);
    expect(() => hostPort('n1:70000')).toThrow(/expected host:port/);
    expect(() => load({ REDIS_SENTINELS: '::1:26379' })).toThrow(/REDIS_SENTINELS: .*\[::1\]:6379/);
  });

  it('hash-tags the prefix on a cluster only', () => {
    expect(queuePrefix(load({ QUEUE_PREFIX: 'notif' }).redis)).toBe('notif');
    expect(queuePrefix(load({ QUEUE_PREFIX: 'notif', REDIS_SENTINELS: 's1:26379' }).redis)).toBe('notif');
    const c = load({ QUEUE_PREFIX: 'notif', REDIS_CLUSTER_NODES: 'n1:6379' }).redis;
    expect(queuePrefix(c)).toBe('{notif}');
    expect(key(c, 'idempotency', 'sms', 'k')).toBe('{notif}:idempotency:sms:k');
  });
});
