import { PrivateRedis } from '../test/support/redis.js';
import { throughputCase, type Channel } from './throughput.js';
import { Fakes } from './util.js';
const redis = await PrivateRedis.start();
const fakes = await Fakes.start();
try {
  for (const channel of (process.argv[2] ?? 'sms').split(',') as Channel[])
    await throughputCase({ redisUrl: redis.url, fakes }, { channel, latencyMs: 0, concurrency: 20, jobs: 3000 }, { quads: Number(process.argv[3] ?? 3), warmup: 2 });
} finally {
  fakes.stop();
  await redis.stop();
}
