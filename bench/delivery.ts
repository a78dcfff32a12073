/**
 * Delivery events in: signed Twilio status callbacks through the real HTTP server until
 * the status is applied by the real `delivery` workers (both in this process, as with
 * `npm start`), against a bare Fastify route in the same run that checks the signature
 * with the twilio SDK and does one Redis write. The callbacks come from the fake Twilio's
 * process, as Twilio's come from elsewhere. Also: p99 from callback to applied status
 * at a steady 200 callbacks/s, the SMS delivery rate of this same machine and run (each
 * message brings several callbacks), and the Redis bytes a message's mapping + status take.
 */
import Fastify from 'fastify';
import { randomBytes, randomUUID } from 'node:crypto';
import twilio from 'twilio';
import { loadConfig, type Config } from '../src/config.js';
import { recordSend } from '../src/delivery/status-store.js';
import { NotificationClient } from '../src/producer/client.js';
import { buildApp } from '../src/server/app.js';
import { FEATURES, createService, startWorkers } from '../src/service.js';
import type { Feature } from '../src/runtime/types.js';
import { freePort } from '../test/support/redis.js';
import { IN_FLIGHT, blast, epochNow, post, signedCallbacks, type Signed } from './callbacks.js';
import type { Env } from './throughput.js';
import { discardLogger, note, rawRedis, round, sleep, summary, until, usedMemory } from './util.js';

const STATUS_PATH = '/providers/twilio/status';

const oursEnv = (env: Env, port: number, prefix = `bd-${randomUUID().slice(0, 8)}`): Record<string, string> => ({
  NODE_ENV: 'production',
  REDIS_URL: env.redisUrl,
  QUEUE_PREFIX: prefix,
  LOG_LEVEL: 'info',
  PUBLIC_URL: `http://127.0.0.1:${port}`,
  ...env.fakes.env(),
});

const newSids = (n: number) => Array.from({ length: n }, () => 'SM' + randomBytes(16).toString('hex'));

/** Ours: the real server + delivery workers in this process; `applied` is told by a delivery listener. */
async function startOurs(env: Env, withWorkers = true) {
  const port = await freePort();
  const config: Config = loadConfig(oursEnv(env, port));
  const applied = new Map<string, number>();
  const probe: Feature = { name: 'bench-probe', handlers: () => [], deliveryListeners: () => [(c) => void applied.set(c.messageId, epochNow())] };
  const rt = createService(config, discardLogger(), [...FEATURES, probe]);
  const running = startWorkers(rt, withWorkers ? ['delivery'] : []);
  const client = NotificationClient.fromConfig(config);
  const app = await buildApp(config, { client, logger: discardLogger() });
  await app.listen({ port, host: '127.0.0.1' });
  if (withWorkers) await running.workers[0]!.waitUntilReady();
  const db = { connection: rt.ctx.connection, redis: config.redis };
  return {
    config,
    client,
    url: `http://127.0.0.1:${port}${STATUS_PATH}`,
    applied,
    db,
    /** Sends recorded as the SMS workers record them (one SET each). */
    async record(sids: string[]) {
      for (let i = 0; i < sids.length; i += 500)
        await Promise.all(sids.slice(i, i + 500).map((sid, j) => recordSend(db, 'twilio', sid, 'sms', `bench-${i + j}`, config.jobs.keepCompletedSeconds)));
    },
    async close() {
      await app.close();
      await client.close();
      await running.close();
    },
  };
}

/** Baseline: a bare Fastify route, the twilio SDK's validator and one Redis write. */
async function startBare(env: Env) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}${STATUS_PATH}`;
  const redis = rawRedis(env.redisUrl);
  const prefix = `bb-${randomUUID().slice(0, 8)}`;
  const token = env.fakes.info.twilioToken;
  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
  app.post(STATUS_PATH, async (req, reply) => {
    const params = req.body as Record<string, string>;
    if (!twilio.validateRequest(token, String(req.headers['x-twilio-signature'] ?? ''), url, params)) return reply.code(403).send();
    await redis.set(`${prefix}:${params.MessageSid}`, params.MessageStatus!);
    return reply.code(200).send({ received: 1 });
  });
  await app.listen({ port, host: '127.0.0.1' });
  return {
    url,
    async close() {
      await app.close();
      redis.disconnect();
    },
  };
}

/**
 * Posted by the fake Twilio's process, as Twilio posts them from elsewhere: the process under
 * test pays for receiving callbacks, not for sending them (the SMS rate is measured the same
 * way, the provider's side in that process too).
 */
const posted = (env: Env, url: string, sids: string[]) => env.fakes.postCallbacks(url, sids, 'delivered');

/** Callbacks/s until applied, and how many events each `delivery` job held (the group commit's batches). */
export async function oursRate(env: Env, n: number): Promise<{ perS: number; eventsPerJob: number }> {
  const o = await startOurs(env);
  try {
    const sids = newSids(n);
    await o.record(sids);
    const { startedAt } = await posted(env, o.url, sids);
    await until(() => o.applied.size >= n, 120_000, `${n} statuses applied`, 5);
    const jobs = Number(await o.client.connection.get(`${o.config.redis.prefix}:delivery:id`));
    return { perS: n / ((Math.max(...o.applied.values()) - startedAt) / 1000), eventsPerJob: n / jobs };
  } finally {
    await o.close();
  }
}

/** The server alone (workers in other processes, as in docker-compose): callbacks answered 2xx per second. */
async function serverOnlyRate(env: Env, n: number): Promise<number> {
  const o = await startOurs(env, false);
  try {
    const { startedAt, endedAt } = await posted(env, o.url, newSids(n));
    return n / ((endedAt - startedAt) / 1000);
  } finally {
    await o.close();
  }
}

export async function bareRate(env: Env, n: number): Promise<number> {
  const b = await startBare(env);
  try {
    const { startedAt, endedAt } = await posted(env, b.url, newSids(n));
    return n / ((endedAt - startedAt) / 1000);
  } finally {
    await b.close();
  }
}

/** Posts `calls` at a steady `ratePerS` from this process: when each was sent (wall clock), and each answer's latency (ms). */
async function steadily(url: string, calls: Signed[], ratePerS: number): Promise<{ sentAt: Map<string, number>; answered: number[] }> {
  const sentAt = new Map<string, number>();
  const answered: number[] = [];
  const t0 = performance.now();
  const posts: Promise<number>[] = [];
  for (let i = 0; i < calls.length; i++) {
    const wait = t0 + (i * 1000) / ratePerS - performance.now();
    if (wait > 1) await sleep(wait);
    const t = epochNow();
    sentAt.set(calls[i]!.sid, t);
    posts.push(post(url, calls[i]!).then((st) => (answered.push(epochNow() - t), st)));
  }
  if ((await Promise.all(posts)).some((st) => st !== 200)) throw new Error('a callback was not answered 200');
  return { sentAt, answered };
}

/** Callback -> applied (ms) at a steady rate: posted at `ratePerS`, each timed by the listener. */
async function appliedLatency(env: Env, ratePerS: number, seconds: number): Promise<{ applied: number[]; answered: number[] }> {
  const o = await startOurs(env);
  const { twilioSid, twilioToken } = env.fakes.info;
  try {
    const sids = newSids(ratePerS * seconds);
    await o.record(sids);
    const calls = signedCallbacks(o.url, twilioSid, twilioToken, sids, 'delivered');
    // Untimed warm-up: the connections are opened and the route's code compiled first.
    const warm = newSids(ratePerS);
    await o.record(warm);
    await blast(o.url, signedCallbacks(o.url, twilioSid, twilioToken, warm, 'delivered'));
    await until(() => o.applied.size >= warm.length, 30_000, 'warm-up applied', 5);
    await sleep(200);
    const { sentAt, answered } = await steadily(o.url, calls, ratePerS);
    await until(() => o.applied.size >= warm.length + sids.length, 60_000, `${sids.length} statuses applied`, 5);
    return { applied: sids.map((sid) => o.applied.get(sid)! - sentAt.get(sid)!), answered };
  } finally {
    await o.close();
  }
}

/** The bare route's answer latency at the same steady rate: what this machine's jitter alone costs. */
async function bareAnswered(env: Env, ratePerS: number, seconds: number): Promise<number[]> {
  const b = await startBare(env);
  const { twilioSid, twilioToken } = env.fakes.info;
  try {
    await blast(b.url, signedCallbacks(b.url, twilioSid, twilioToken, newSids(ratePerS), 'delivered'));
    await sleep(200);
    return (await steadily(b.url, signedCallbacks(b.url, twilioSid, twilioToken, newSids(ratePerS * seconds), 'delivered'), ratePerS)).answered;
  } finally {
    await b.close();
  }
}

/** Redis bytes per message for the id mapping + a two-step status (sent, delivered). */
async function bytesPerMessage(env: Env, n: number) {
  const o = await startOurs(env);
  const admin = rawRedis(env.redisUrl);
  try {
    const before = await usedMemory(admin);
    const sids = newSids(n);
    await o.record(sids);
    for (const status of ['sent', 'delivered']) await blast(o.url, signedCallbacks(o.url, env.fakes.info.twilioSid, env.fakes.info.twilioToken, sids, status));
    await until(() => o.applied.size >= n, 60_000, 'statuses applied', 5);
    // The delivery jobs themselves are removed (only the last 1000 kept): wait for that, then measure.
    await sleep(500);
    const keyBytes = Number(await admin.call('MEMORY', 'USAGE', `${o.config.redis.prefix}:dlv:twilio:${sids[0]}`));
    const after = await usedMemory(admin);
    return { memoryUsageOfOneKey: keyBytes, usedMemoryDeltaPerMessage: round((after - before) / n), note: 'usedMemoryDelta also counts the 1000 delivery jobs BullMQ keeps (removeOnComplete count 1000)' };
  } finally {
    admin.disconnect();
    await o.close();
  }
}

/** SMS sends/s of the full SMS worker on this machine, fake provider at 0 ms: the rate callbacks must outpace. */
async function smsRate(env: Env, n: number): Promise<number> {
  await env.fakes.reset();
  await env.fakes.latency(0);
  const config = loadConfig({ NODE_ENV: 'production', REDIS_URL: env.redisUrl, QUEUE_PREFIX: `bs-${randomUUID().slice(0, 8)}`, LOG_LEVEL: 'info', SMS_CONCURRENCY: '20', SMS_RATE_LIMIT: 'off', ...env.fakes.env() });
  const rt = createService(config, discardLogger());
  const client = NotificationClient.fromConfig(config);
  try {
    await client.sendBulk('sms', Array.from({ length: n }, (_, i) => ({ payload: { to: '+33612345678', body: `bench ${i}` } })));
    const t0 = performance.now();
    const running = startWorkers(rt, ['sms']);
    await until(async () => (await env.fakes.count()) >= n, 120_000, `${n} SMS`, 20);
    const rate = n / ((performance.now() - t0) / 1000);
    await running.close();
    return rate;
  } finally {
    await client.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** ABBA quads (bare, ours, ours, bare): the median of the quads' ratios, and every rate. */
async function quads(env: Env, n: number, count: number) {
  const oursRuns: number[] = [];
  const bareRuns: number[] = [];
  const ratios: number[] = [];
  const perJob: number[] = [];
  for (let q = 0; q < count; q++) {
    const b1 = await bareRate(env, n);
    const o1 = await oursRate(env, n);
    const o2 = await oursRate(env, n);
    const b2 = await bareRate(env, n);
    oursRuns.push(round(o1.perS), round(o2.perS));
    bareRuns.push(round(b1), round(b2));
    perJob.push(o1.eventsPerJob, o2.eventsPerJob);
    ratios.push(round((o1.perS + o2.perS) / (b1 + b2), 2));
  }
  return { ours: median(oursRuns), bare: median(bareRuns), ratio: median(ratios), ratios, oursRuns, bareRuns, eventsPerJob: round(median(perJob)) };
}

export async function deliveryIngestion(env: Env, opts: { callbacks: number; ratePerS: number; seconds: number; sms: number; quads?: number }) {
  // Untimed warm-up of both sides, then ABBA quads: drift on a shared machine hits both alike.
  // A full-size warm-up: with a shorter one the first quad ran before the JIT was done.
  await bareRate(env, opts.callbacks);
  await oursRate(env, opts.callbacks);
  const one = await quads(env, opts.callbacks, opts.quads ?? 5);
  const { ours, bare } = one;
  note(`callbacks/s until applied, one process: ours ${ours} bare ${bare} (Fastify + twilio validator + 1 SET); quads ${one.ratios.join(' ')} -> ${one.ratio}x; ${one.eventsPerJob} events per delivery job`);
  const serverOnly = Math.max(await serverOnlyRate(env, opts.callbacks), await serverOnlyRate(env, opts.callbacks));
  note(`callbacks/s answered by the server alone (durable, workers elsewhere): ${round(serverOnly)} = ${round(serverOnly / bare, 2)}x bare`);
  const lat = await appliedLatency(env, opts.ratePerS, opts.seconds);
  const latency = summary(lat.applied);
  const answered = summary(lat.answered);
  const bareLat = summary(await bareAnswered(env, opts.ratePerS, opts.seconds));
  note(`callback -> applied at ${opts.ratePerS}/s: p50 ${latency.p50} p99 ${latency.p99} max ${latency.max} ms (answered: p50 ${answered.p50} p99 ${answered.p99} ms; bare route answered: p50 ${bareLat.p50} p99 ${bareLat.p99} ms)`);
  // The SMS rate, like the callbacks', after a warm-up and as a median: one cold run read 40 % low.
  await smsRate(env, opts.sms);
  const smsRuns = [await smsRate(env, opts.sms), await smsRate(env, opts.sms), await smsRate(env, opts.sms)];
  const sms = median(smsRuns);
  note(`SMS delivery rate (full worker, fake at 0 ms): ${round(sms)}/s; callbacks ÷ SMS: ours ${round(ours / sms, 2)}x, bare route ${round(bare / sms, 2)}x`);
  const bytes = await bytesPerMessage(env, 2000);
  note(`Redis bytes per message (mapping + sent, delivered): MEMORY USAGE ${bytes.memoryUsageOfOneKey} B; used_memory delta ${bytes.usedMemoryDeltaPerMessage} B`);
  return {
    note: `signed Twilio status callbacks, ${IN_FLIGHT} in flight, keep-alive, posted by the fake Twilio's process (the 200/s latency run: from this process); ours = real server + delivery workers in one process (npm start), until the delivery listener is told; bare = Fastify route validating with twilio.validateRequest + one SET; ABBA quads, median ratio`,
    callbacksPerS: { ours, bare, oursRuns: one.oursRuns, bareRuns: one.bareRuns },
    ratioToBare: one.ratio,
    quadRatios: one.ratios,
    /** Events per `delivery` job during those runs: requests written together by the group commit. */
    eventsPerJob: one.eventsPerJob,
    serverOnlyPerS: round(serverOnly),
    serverOnlyRatioToBare: round(serverOnly / bare, 2),
    smsPerS: round(sms),
    smsRuns: smsRuns.map((r) => round(r)),
    ratioToSms: round(ours / sms, 2),
    /** The bound on ratioToSms: the bare route, which neither queues nor applies, against the same SMS rate. */
    bareToSms: round(bare / sms, 2),
    appliedLatencyMs: { ratePerS: opts.ratePerS, seconds: opts.seconds, ...latency },
    answeredLatencyMs: answered,
    /** The bare route's answers at the same rate: the machine's own jitter, beside which to read the two above. */
    bareAnsweredLatencyMs: bareLat,
    redisBytesPerMessage: bytes,
  };
}
