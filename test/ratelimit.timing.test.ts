import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationClient } from '../src/producer/client.js';
import { FakeTwilio } from './fakes/twilio.js';
import { testEnv } from './support/config.js';
import { until } from './support/harness.js';
import { WorkerProcess } from './support/spawn.js';
import { maxInWindow } from './support/windows.js';

describe('global rate limit', () => {
  const twilio = new FakeTwilio();
  beforeAll(() => twilio.start());
  afterAll(() => twilio.stop());

  it('holds 5/1s across two processes: never more than 6 in any rolling second, all 30 delivered', async () => {
    const env = testEnv({
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_PHONE_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: twilio.url,
      LOG_LEVEL: 'info',
      SMS_RATE_LIMIT: '5/1s',
      SMS_CONCURRENCY: '10',
    });
    const procs = [new WorkerProcess(['sms'], env), new WorkerProcess(['sms'], env)];
    const client = new NotificationClient({ redisUrl: env.REDIS_URL, prefix: env.QUEUE_PREFIX });
    try {
      await Promise.all(procs.map((p) => p.started()));
      const ids = [];
      for (let i = 0; i < 30; i++) ids.push((await client.sendSms({ to: '+33612345678', body: `rate ${i}` })).id);
      await until(() => twilio.delivered.length >= 30, 30_000, '30 deliveries');
      const arrivals = twilio.delivered.map((d) => d.at);
      // Starts as BullMQ recorded them (processedOn): what the contract's limit counts.
      const starts = await Promise.all(ids.map(async (id) => (await client.queue('sms').getJob(id))!.processedOn!));
      const span = (Math.max(...arrivals) - Math.min(...arrivals)) / 1000;
      console.log(
        `5/1s over 2 processes: 30 in ${span.toFixed(2)} s; max in a rolling second: ${maxInWindow(starts, 1000)} starts, ${maxInWindow(arrivals, 1000)} at the fake`,
      );
      expect(maxInWindow(starts, 1000)).toBeLessThanOrEqual(6);
      expect(maxInWindow(arrivals, 1000)).toBeLessThanOrEqual(6);
      expect(new Set(twilio.delivered.map((d) => d.body)).size).toBe(30);
    } finally {
      await Promise.all(procs.map((p) => p.kill('SIGTERM')));
      await client.close();
    }
  });
});
