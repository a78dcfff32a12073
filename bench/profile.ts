/**
 * One throughput run under the profiler, to see where a job's CPU goes:
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile.ts [sms|email] [full|raw|undici] [jobs]
 * then open the .cpuprofile in Chrome DevTools (Performance) or speedscope.
 */
import { PrivateRedis } from '../test/support/redis.js';
import { runFull, runRaw, runRawUndici, type Channel } from './throughput.js';
import { Fakes } from './util.js';

const channel = (process.argv[2] ?? 'sms') as Channel;
const run = process.argv[3] === 'raw' ? runRaw : process.argv[3] === 'undici' ? runRawUndici : runFull;
const jobs = Number(process.argv[4] ?? 8000);
const redis = await PrivateRedis.start();
const fakes = await Fakes.start();
try {
  const env = { redisUrl: redis.url, fakes };
  const c = { channel, latencyMs: 0, concurrency: 20, jobs };
  await run(env, { ...c, jobs: 500 }); // warm-up
  console.log(process.argv[3] ?? 'full', channel, JSON.stringify(await run(env, c)));
} finally {
  fakes.stop();
  await redis.stop();
}
