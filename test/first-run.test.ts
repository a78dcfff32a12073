import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Env } from '../src/config.js';
import { doctor } from '../src/doctor/run.js';
import { createLogger, isPretty } from '../src/logger.js';
import { answers } from '../src/runtime/embedded-redis.js';
import { makeAppointment } from './support/appointments.js';
import { freePort } from './support/redis.js';
import { WorkerProcess } from './support/spawn.js';

const TOKEN = 'first-run-token';
const dirs: string[] = [];
const tempDir = (label: string) => {
  const d = mkdtempSync(join(tmpdir(), `notif-${label}-`));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * `npm start` as a newcomer runs it: no REDIS_URL. The probed "default address" is a free
 * port with nothing there, so the Redis every other test and session shares is never touched.
 */
async function newcomerEnv(dataDir: string, extra: Env = {}): Promise<Env> {
  return {
    REDIS_PROBE_URL: `redis://127.0.0.1:${await freePort()}`,
    REDIS_EMBEDDED_DIR: dataDir,
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    API_TOKENS: TOKEN,
    QUEUE_PREFIX: 'notif',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

const start = (env: Env) => new WorkerProcess([], env, 'workers/start.ts');

async function api(env: Env, path: string, init: RequestInit = {}) {
  const res = await fetch(`http://127.0.0.1:${env.PORT}/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

type Reminder = { name: string; state: string };
async function reminders(env: Env, id: string): Promise<Reminder[]> {
  const r = await api(env, `/appointments/${id}/reminders`);
  return r.status === 200 ? (r.body.reminders as Reminder[]) : [];
}

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const embeddedLine = (p: WorkerProcess) => JSON.parse(p.output.find((l) => l.includes('private redis-server'))!) as { redis: string; dir: string; msg: string };

describe('npm start with no Redis anywhere', () => {
  it('runs a private redis-server on the data folder; a booked appointment\'s reminders survive a restart', async () => {
    const dir = tempDir('embedded');
    const env = await newcomerEnv(dir);

    const first = start(env);
    try {
      await first.waitFor(/listening on/, 40_000);
      const line = embeddedLine(first);
      expect(line.msg).toMatch(/in production set REDIS_URL/);
      expect(line.dir).toBe(dir);
      expect(first.output.filter((l) => l.includes('private redis-server'))).toHaveLength(1);
      const { pid } = JSON.parse(readFileSync(join(dir, 'embedded.json'), 'utf8')) as { pid: number };

      const apt = makeAppointment(48 * 3_600_000);
      expect((await api(env, '/appointments', { method: 'POST', body: JSON.stringify(apt) })).status).toBe(202);
      const pending = await until(
        async () => ((await reminders(env, apt.id)).length === 2 ? reminders(env, apt.id) : undefined),
        20_000,
        'J-1 and H-1',
      );
      expect(pending.map((r) => r.name)).toEqual(['J-1', 'H-1']);
      // npm run doctor beside it checks the Redis in use, not the empty default address.
      const report = await doctor(env, { timeoutMs: 2_000 });
      expect(report.rows.find((r) => r.name === 'redis')).toMatchObject({ ok: true, detail: expect.stringContaining(line.redis) });

      expect(await first.kill('SIGTERM')).toBe(0);
      expect(first.text).toMatch(/"msg":"stopped"/);
      expect(await answers(line.redis, 500)).toBe(false);
      expect(() => process.kill(pid, 0)).toThrow();
      expect(existsSync(join(dir, 'appendonlydir'))).toBe(true);

      // Same data folder, whatever port: the queued reminders are still there.
      const again = await newcomerEnv(dir);
      const second = start(again);
      try {
        await second.waitFor(/listening on/, 40_000);
        expect((await reminders(again, apt.id)).map((r) => [r.name, r.state])).toEqual([
          ['J-1', 'delayed'],
          ['H-1', 'delayed'],
        ]);
        expect(await second.kill('SIGTERM')).toBe(0);
        expect(await answers(embeddedLine(second).redis, 500)).toBe(false);
      } finally {
        await second.kill();
      }
    } finally {
      await first.kill();
    }
  });

  it('a service killed outright leaves its redis-server behind; the next start takes it over, and a closed terminal (SIGHUP) stops it', async () => {
    const dir = tempDir('orphan');
    const first = start(await newcomerEnv(dir));
    await first.waitFor(/listening on/, 40_000);
    const { pid } = JSON.parse(readFileSync(join(dir, 'embedded.json'), 'utf8')) as { pid: number };
    await first.kill('SIGKILL');
    expect(await answers(embeddedLine(first).redis, 500)).toBe(true);

    const second = start(await newcomerEnv(dir));
    try {
      await second.waitFor(/listening on/, 40_000);
      expect(embeddedLine(second).msg).toMatch(/using the private redis-server/);
      expect(embeddedLine(second).redis).toBe(embeddedLine(first).redis);
      expect(await second.kill('SIGHUP')).toBe(0);
      expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      await second.kill();
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  });

  it('without a redis-server binary says how to get one and exits non-zero at once', async () => {
    const dir = tempDir('nobinary');
    const started = Date.now();
    const p = start({ ...(await newcomerEnv(dir)), PATH: tempDir('empty-path') });
    expect(await p.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(p.text).toMatch(/no redis-server.*apt-get install redis-server.*brew install redis.*set REDIS_URL/);
    expect(p.output.filter((l) => l.includes('redis-server'))).toHaveLength(1);
  });

  it('an explicit REDIS_URL is never replaced, and npm run worker / server never start one', async () => {
    const dir = tempDir('explicit');
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const procs: [WorkerProcess, RegExp][] = [
      [start({ ...(await newcomerEnv(dir)), REDIS_URL: nowhere }), /Redis cannot be reached/],
      [new WorkerProcess(['sms'], await newcomerEnv(dir)), /Redis cannot be reached/],
      [new WorkerProcess([], await newcomerEnv(dir), 'workers/server.ts'), /listening on/],
    ];
    try {
      for (const [p, ready] of procs) {
        await p.waitFor(ready, 40_000);
        expect(p.text).not.toMatch(/private redis-server/);
      }
      expect(existsSync(join(dir, 'embedded.json'))).toBe(false);
    } finally {
      for (const [p] of procs) await p.kill();
    }
  });
});

describe('configuration and logs', () => {
  it('offers the private Redis only when no Redis was named', () => {
    expect(loadConfig({}).embeddedRedis?.dir).toMatch(/\.data\/redis$/);
    expect(loadConfig({}).redis.url).toBe('redis://127.0.0.1:6379');
    expect(loadConfig({ REDIS_URL: 'redis://r:6379' }).embeddedRedis).toBeUndefined();
    expect(loadConfig({ REDIS_SENTINELS: 's:26379' }).embeddedRedis).toBeUndefined();
    expect(loadConfig({ REDIS_PROBE_URL: 'redis://127.0.0.1:7000' }).redis.url).toBe('redis://127.0.0.1:7000');
  });

  it('LOG_FORMAT: pretty at a terminal unless json; anything else is refused naming it', () => {
    expect(isPretty('auto', { isTTY: true })).toBe(true);
    expect(isPretty('auto', { isTTY: false })).toBe(false);
    expect(isPretty('json', { isTTY: true })).toBe(false);
    expect(isPretty('pretty', { isTTY: false })).toBe(true);
    expect(() => loadConfig({ LOG_FORMAT: 'text' })).toThrow(ConfigError);
    expect(() => loadConfig({ LOG_FORMAT: 'text' })).toThrow(/LOG_FORMAT/);
  });

  it('pretty lines go through the same redaction as JSON ones', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
    const log = createLogger('info', sink, 'pretty');
    log.info({ queue: 'sms', authToken: 'TOKEN-SECRET', payload: { body: 'BODY-SECRET' }, job: { html: 'HTML-SECRET' } }, 'job completed');
    await new Promise((r) => setImmediate(r));
    const text = lines.join('');
    expect(text).toMatch(/INFO.*job completed/);
    expect(text).toMatch(/"queue":"sms"/);
    for (const secret of ['TOKEN-SECRET', 'BODY-SECRET', 'HTML-SECRET']) expect(text).not.toContain(secret);
    expect(() => JSON.parse(text)).toThrow();
  });

  it('the start-up summary is a short block in pretty mode', async () => {
    const p = start(await newcomerEnv(tempDir('pretty'), { LOG_FORMAT: 'pretty' }));
    try {
      await p.waitFor(/health /, 40_000);
      const text = p.text;
      expect(text).toMatch(/INFO: integrations \(npm run doctor checks them\)\n\s+resend\s+off: RESEND_API_KEY not set/);
      expect(text).toMatch(/INFO: listening on http:\/\/127\.0\.0\.1:\d+\n\s+API\s+http:\/\/127\.0\.0\.1:\d+\/v1/);
      expect(text).not.toMatch(/^\{"level"/m);
    } finally {
      await p.kill('SIGTERM');
    }
  });
});
