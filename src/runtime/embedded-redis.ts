import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { isPretty, type Logger } from '../logger.js';

/**
 * `npm start` on a machine with no Redis running (README, first screen: "Redis."): when no Redis was
 * named and nothing answers at the probed address, run a private redis-server on a data
 * folder of the project. Deployments (`npm run worker`, `npm run server`) never do this.
 */
export interface StartRedis {
  /** The configuration to run with: `redis.url` points at the Redis to use. */
  config: Config;
  /** Stops the private redis-server, if this process runs one; call after workers closed. */
  stop(): Promise<void>;
}

export class NoRedisError extends Error {
  override name = 'NoRedisError';
}

const noRedisServer = (probed: string) =>
  new NoRedisError(
    `no REDIS_URL, no Redis at ${probed} and no redis-server to start one: install Redis (apt-get install redis-server, brew install redis), run one (docker run -d -p 6379:6379 redis:7), or set REDIS_URL`,
  );

function hasRedisServer(): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    p.once('error', () => resolve(false));
    p.once('exit', (code) => resolve(code === 0));
  });
}

/** Recorded in the data folder: a redis-server left behind by a killed service is found again. */
interface State {
  pid: number;
  port: number;
  /** The service process that started or adopted it. */
  owner: number;
}

const STATE_FILE = 'embedded.json';
const noop = async () => {};

export async function startRedis(config: Config, logger: Logger): Promise<StartRedis> {
  const embedded = config.embeddedRedis;
  if (!embedded || (await answers(config.redis.url))) return { config, stop: noop };
  // Before touching the data folder (a container's read-only app folder would say EACCES).
  if (!(await hasRedisServer())) throw noRedisServer(config.redis.url);
  mkdirSync(embedded.dir, { recursive: true });
  const dir = realpathSync(embedded.dir);
  const found = await leftBehind(dir);
  const server = found ? undefined : await spawnRedis(dir, config.redis.url);
  const port = found?.port ?? server!.port;
  const pid = found?.pid ?? server!.child.pid!;
  const shared = found !== undefined && alive(found.owner);
  if (!shared) writeFileSync(join(dir, STATE_FILE), JSON.stringify({ pid, port, owner: process.pid } satisfies State));
  const url = `redis://127.0.0.1:${port}`;
  logger.info(
    isPretty(config.logFormat) ? {} : { redis: url, dir },
    `no REDIS_URL and no Redis at ${config.redis.url}: ${found ? 'using the' : 'started a'} private redis-server at ${url}, data in ${dir} (queued jobs survive restarts); in production set REDIS_URL`,
  );
  const withUrl: Config = { ...config, redis: { ...config.redis, url } };
  if (shared) return { config: withUrl, stop: noop };
  // A crash or process.exit() still stops it (a SIGKILL cannot: the next start adopts it).
  const onExit = () => void kill(pid, 'SIGTERM');
  process.once('exit', onExit);
  let stopping: Promise<void> | undefined;
  return {
    config: withUrl,
    stop: () =>
      (stopping ??= (async () => {
        process.off('exit', onExit);
        await terminate(pid, server?.child);
        rmSync(join(dir, STATE_FILE), { force: true });
      })()),
  };
}

/**
 * For tools run beside `npm start` (doctor, send-test): the config pointed at npm start's
 * private redis-server when that is the Redis in use, else `config` unchanged.
 */
export async function runningRedis(config: Config): Promise<Config> {
  const embedded = config.embeddedRedis;
  if (!embedded || !existsSync(embedded.dir) || (await answers(config.redis.url))) return config;
  const found = await leftBehind(realpathSync(embedded.dir));
  return found ? { ...config, redis: { ...config.redis, url: `redis://127.0.0.1:${found.port}` } } : config;
}

/** Whether a Redis answers at `url` (an authentication error is an answer). */
export async function answers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
    return true;
  } catch (err) {
    return (err as { name?: string }).name === 'ReplyError';
  } finally {
    r.disconnect();
  }
}

/** A redis-server still running on `dir` from an earlier start (its service was killed). */
async function leftBehind(dir: string): Promise<State | undefined> {
  let state: State;
  try {
    state = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as State;
  } catch {
    return undefined;
  }
  if (!alive(state.pid)) return undefined;
  const r = new Redis(state.port, '127.0.0.1', { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    const [, itsDir] = (await r.config('GET', 'dir')) as [string, string];
    return itsDir === dir ? state : undefined;
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

async function spawnRedis(dir: string, probed: string): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--dir', dir,
        // Jobs are the data: an append-only file so they survive a restart, and never evicted.
        '--appendonly', 'yes',
        '--save', '',
        '--maxmemory-policy', 'noeviction',
        '--daemonize', 'no',
        '--logfile', join(dir, 'redis.log'),
      ],
      // Its own process group: Ctrl-C at the terminal reaches the service, which drains its
      // workers and then stops Redis, instead of Redis vanishing under active jobs.
      { stdio: 'ignore', detached: true },
    );
    let failure: NodeJS.ErrnoException | undefined;
    child.once('error', (err) => (failure = err));
    const deadline = Date.now() + 10_000;
    while (!failure && child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
      if (await answers(`redis://127.0.0.1:${port}`, 500)) return { child, port };
      await new Promise((r) => setTimeout(r, 50));
    }
    if (failure?.code === 'ENOENT') throw noRedisServer(probed);
    child.kill('SIGKILL');
    // Another process may have taken the port between our look and redis-server's bind.
    if (attempt >= 3)
      throw new Error(`redis-server did not start (${failure?.message ?? `exit ${child.exitCode ?? child.signalCode ?? 'timeout'}`}); see ${join(dir, 'redis.log')}`);
  }
}

/** SIGTERM makes redis-server flush its append-only file and exit; wait for it. */
async function terminate(pid: number, child: ChildProcess | undefined, timeoutMs = 10_000): Promise<void> {
  if (child && (child.exitCode !== null || child.signalCode !== null)) return;
  const exited = child
    ? new Promise<void>((resolve) => child.once('exit', () => resolve()))
    : (async () => {
        while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
      })();
  if (!kill(pid, 'SIGTERM')) return;
  const timedOut = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
  if ((await Promise.race([exited, timedOut])) === 'timeout') kill(pid, 'SIGKILL');
}

function kill(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Signal 0 only asks whether the process exists. */
const alive = (pid: number) => kill(pid, 0);

/** A loopback port nothing listens on right now (the embedded server's, and the tests'). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
