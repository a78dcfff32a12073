/**
 * One run under the profiler, to see where the CPU goes:
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile.ts [sms|email] [full|raw|undici] [jobs]
 *   node --import tsx bench/profile.ts callbacks [ours|bare] [callbacks]   (writes $PROFILE_DIR/callbacks-<side>.cpuprofile)
 * then open the .cpuprofile in Chrome DevTools (Performance) or speedscope.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PrivateRedis } from '../test/support/redis.js';
import { bareRate, oursRate } from './delivery.js';
import { runFull, runRaw, runRawUndici, type Channel } from './throughput.js';
import { Fakes } from './util.js';

const redis = await PrivateRedis.start();
const fakes = await Fakes.start();
try {
  const env = { redisUrl: redis.url, fakes };
  if (process.argv[2] === 'callbacks') {
    const rate = process.argv[3] === 'bare' ? bareRate : async (...a: Parameters<typeof bareRate>) => (await oursRate(...a)).perS;
    const n = Number(process.argv[4] ?? 8000);
    await rate(env, 1000); // warm-up
    // Only the measured run is profiled: start-up and warm-up stay out of the figures.
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    const perS = await rate(env, n);
    const { profile } = await session.post('Profiler.stop');
    const file = `${process.env.PROFILE_DIR ?? '/tmp'}/callbacks-${process.argv[3] ?? 'ours'}.cpuprofile`;
    writeFileSync(file, JSON.stringify(profile));
    console.log(process.argv[3] ?? 'ours', 'callbacks/s', Math.round(perS), '->', file);
  } else {
    const channel = (process.argv[2] ?? 'sms') as Channel;
    const run = process.argv[3] === 'raw' ? runRaw : process.argv[3] === 'undici' ? runRawUndici : runFull;
    const c = { channel, latencyMs: 0, concurrency: 20, jobs: Number(process.argv[4] ?? 8000) };
    await run(env, { ...c, jobs: 500 }); // warm-up
    console.log(process.argv[3] ?? 'full', channel, JSON.stringify(await run(env, c)));
  }
} finally {
  fakes.stop();
  await redis.stop();
}
