import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryStatus } from '../src/contract/outcome.js';
import { UNKNOWN_RETRY_DELAYS_MS, applyEvents } from '../src/delivery/apply.js';
import { applyStatus, applyStatuses, countDropped, droppedCounts, parseDelivery, recordSend } from '../src/delivery/status-store.js';
import { createLogger } from '../src/logger.js';
import { NotificationClient } from '../src/producer/client.js';
import { createRedis, type RedisClient } from '../src/redis.js';
import { metricsFor } from '../src/server/metrics.js';
import { testConfig } from './support/config.js';

describe('delivery statuses in Redis: forward only, atomic, compact', () => {
  const config = testConfig();
  let connection: RedisClient;
  const db = () => ({ connection, redis: config.redis });
  let n = 0;
  const moved = async (messageId: string, e: { status: DeliveryStatus; at: string; errorCode?: string }) => {
    const r = await applyStatus(db(), { provider: 'twilio', messageId, ...e });
    return r.found && r.moved;
  };
  const view = async (messageId: string) => parseDelivery(await connection.get(`${config.redis.prefix}:dlv:twilio:${messageId}`));
  const walk = async (steps: DeliveryStatus[]) => {
    const sid = `SM-walk-${++n}`;
    await recordSend(db(), 'twilio', sid, 'sms', `job-${n}`, 60);
    const m: boolean[] = [];
    for (const [i, status] of steps.entries()) m.push(await moved(sid, { status, at: new Date(1_700_000_000_000 + i * 1000).toISOString() }));
    return { moved: m, view: await view(sid) };
  };

  beforeAll(() => {
    connection = createRedis(config.redis, 'worker');
  });
  afterAll(() => connection.quit());

  it.each<[DeliveryStatus[], boolean[], DeliveryStatus]>([
    [['sent', 'delayed', 'delivered', 'read'], [true, true, true, true], 'read'],
    [['delivered', 'sent', 'delayed'], [true, false, false], 'delivered'],
    [['sent', 'sent'], [true, false], 'sent'],
    [['delivered', 'delivered'], [true, false], 'delivered'],
    [['sent', 'undelivered', 'delivered'], [true, true, false], 'undelivered'],
    [['delivered', 'bounced', 'complained'], [true, true, false], 'bounced'],
    [['delivered', 'complained'], [true, true], 'complained'],
    [['delivered', 'undelivered'], [true, false], 'delivered'],
    [['read', 'failed'], [true, false], 'read'],
    [['delayed', 'failed'], [true, true], 'failed'],
  ])('%o moves %o and ends %s', async (steps, moved, end) => {
    const r = await walk(steps);
    expect(r.moved).toEqual(moved);
    expect(r.view!.status).toBe(end);
    expect(r.view!.history.map((h) => h.status)).toEqual(steps.filter((_, i) => moved[i]));
  });

  it('applies a batch in order, like one by one', async () => {
    await recordSend(db(), 'twilio', 'SM-batch', 'sms', 'batch', 60, true);
    const at = (i: number) => new Date(1_700_000_000_000 + i).toISOString();
    const r = await applyStatuses(db(), [
      { provider: 'twilio', messageId: 'SM-batch', status: 'sent', at: at(1) },
      { provider: 'twilio', messageId: 'SM-nobody', status: 'sent', at: at(2) },
      { provider: 'twilio', messageId: 'SM-batch', status: 'delivered', at: at(3) },
      { provider: 'twilio', messageId: 'SM-batch', status: 'sent', at: at(4) },
    ]);
    expect(r).toEqual([
      { found: true, moved: true, again: false, queue: 'sms', jobId: 'batch', hasRef: true },
      { found: false },
      { found: true, moved: true, again: false, queue: 'sms', jobId: 'batch', hasRef: true },
      { found: true, moved: false, again: false, queue: 'sms', jobId: 'batch', hasRef: true },
    ]);
  });

  it('tells a re-run of a delivery job its events again (that run may have died before telling), never a mere duplicate', async () => {
    await recordSend(db(), 'twilio', 'SM-rerun', 'sms', 'rerun', 60);
    const told: string[] = [];
    const deps = (rerun: boolean) => ({
      db: db(),
      rerun,
      refOf: async () => undefined,
      tell: async (c: { status: string }) => void told.push(c.status),
      later: async () => {},
      dropped: async () => {},
      logger: createLogger('silent'),
    });
    const at = (i: number) => new Date(1_700_000_000_000 + i).toISOString();
    const events = [
      { type: 'status' as const, provider: 'twilio' as const, messageId: 'SM-rerun', status: 'sent' as const, at: at(1) },
      { type: 'status' as const, provider: 'twilio' as const, messageId: 'SM-rerun', status: 'undelivered' as const, at: at(2), errorCode: '30003' },
    ];
    const payload = { events, receivedAt: Date.now(), retry: 0 };
    expect(await applyEvents(payload, deps(false))).toMatchObject({ moved: 2, unchanged: 0 });
    expect(told).toEqual(['sent', 'undelivered']);
    // The provider sends the same callbacks again: nothing moves, nobody is told.
    expect(await applyEvents(payload, deps(false))).toMatchObject({ moved: 0, unchanged: 2 });
    expect(told).toHaveLength(2);
    // The first job is run again after its worker died: told again (follow-up job ids are deterministic).
    expect(await applyEvents(payload, deps(true))).toMatchObject({ moved: 0, unchanged: 2 });
    expect(told).toEqual(['sent', 'undelivered', 'sent', 'undelivered']);
    // Another event, same status at another time, is not the same event.
    await applyEvents({ ...payload, events: [{ ...events[1]!, at: at(3) }] }, deps(true));
    expect(told).toHaveLength(4);
  });

  it('keeps the order across script calls when a batch is split (thousands of events)', async () => {
    const sids = Array.from({ length: 700 }, (_, i) => `SM-big-${i}`);
    for (const sid of sids) await recordSend(db(), 'twilio', sid, 'sms', sid.slice(3), 60);
    const at = new Date().toISOString();
    const events = [
      ...sids.map((messageId) => ({ provider: 'twilio' as const, messageId, status: 'sent' as const, at })),
      ...sids.map((messageId) => ({ provider: 'twilio' as const, messageId, status: 'delivered' as const, at })),
      ...sids.slice(0, 10).map((messageId) => ({ provider: 'twilio' as const, messageId, status: 'sent' as const, at })),
    ];
    const r = await applyStatuses(db(), events);
    expect(r).toHaveLength(1410);
    expect(r.slice(0, 1400).every((x) => x.found && x.moved)).toBe(true);
    expect(r.slice(1400).every((x) => x.found && !x.moved)).toBe(true);
    expect((await view('SM-big-699'))?.status).toBe('delivered');
  });

  it('lets exactly one of many concurrent identical events through', async () => {
    await recordSend(db(), 'twilio', 'SM-race', 'sms', 'race', 60);
    const results = await Promise.all(Array.from({ length: 20 }, () => moved('SM-race', { status: 'delivered', at: new Date().toISOString() })));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('keeps the error code and stays within 200 bytes per message (mapping + status)', async () => {
    const sid = 'SM' + 'e5'.repeat(16);
    await recordSend(db(), 'twilio', sid, 'sms', '123456', 86_400);
    for (const status of ['sent', 'delivered'] as const) await moved(sid, { status, at: new Date().toISOString() });
    expect(await applyStatus(db(), { provider: 'twilio', messageId: 'SM-never-sent', status: 'sent', at: new Date().toISOString() })).toEqual({ found: false });
    await recordSend(db(), 'twilio', 'SM-err', 'sms', '123457', 60);
    await moved('SM-err', { status: 'undelivered', at: new Date().toISOString(), errorCode: '63016' });
    expect((await view('SM-err'))!.errorCode).toBe('63016');
    const bytes = Number(await connection.call('MEMORY', 'USAGE', `${config.redis.prefix}:dlv:twilio:${sid}`));
    expect(bytes).toBeLessThanOrEqual(200);
  });

  it('puts events for unknown ids back on a bounded schedule (> 10 min in all), then drops and counts them', async () => {
    expect(UNKNOWN_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0)).toBeGreaterThan(600_000);
    const later: { retry: number; delayMs: number }[] = [];
    const deps = {
      db: db(),
      refOf: async () => undefined,
      tell: async () => {},
      later: async (p: { retry: number }, delayMs: number) => void later.push({ retry: p.retry, delayMs }),
      dropped: (provider: string, n: number) => countDropped(db(), provider, n),
      logger: createLogger('silent'),
    };
    const event = { type: 'status' as const, provider: 'twilio' as const, messageId: 'SM' + 'f6'.repeat(16), status: 'delivered' as const, at: new Date().toISOString() };
    const first = await applyEvents({ events: [event], receivedAt: Date.now(), retry: 0 }, deps);
    expect(first).toMatchObject({ pending: 1, dropped: 0 });
    expect(later).toEqual([{ retry: 1, delayMs: 1_000 }]);
    const last = await applyEvents({ events: [event], receivedAt: Date.now(), retry: UNKNOWN_RETRY_DELAYS_MS.length }, deps);
    expect(last).toMatchObject({ pending: 0, dropped: 1 });
    expect(later).toHaveLength(1);
    expect(await droppedCounts(db())).toEqual({ twilio: 1 });
    // The server's /metrics reads the count from Redis: the worker that dropped it is another process.
    const client = NotificationClient.fromConfig(config);
    try {
      expect(await metricsFor(config, client).registry.metrics()).toMatch(/^notification_delivery_events_dropped_total\{provider="twilio"\} 1$/m);
    } finally {
      await client.close();
    }
  });
});
