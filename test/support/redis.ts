import { freePort } from '../../src/runtime/embedded-redis.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface RedisHandle {
  url: string;
  /** How it was obtained: a container, a private redis-server, or the shared REDIS_URL. */
  kind: 'testcontainers' | 'redis-server' | 'external';
  stop(): Promise<void>;
}

export { freePort };

/** True when nothing listens on `port` (127.0.0.1) right now. */
export function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function waitForRedis(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      await r.ping();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Redis at ${url} did not answer: ${(err as Error).message}`);
      await new Promise((res) => setTimeout(res, 50));
    } finally {
      r.disconnect();
    }
  }
}

/** A redis-server of the test's own, on a free loopback port: it can be killed and restarted. */
export class PrivateRedis {
  private proc?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'notif-redis-'));
  constructor(
    readonly port: number,
    private readonly extraArgs: string[] = [],
  ) {}

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(opts: { appendonly?: boolean; args?: string[] } = {}): Promise<PrivateRedis> {
    const args = ['--appendonly', opts.appendonly ? 'yes' : 'no', ...(opts.appendonly ? ['--appendfsync', 'always'] : []), ...(opts.args ?? [])];
    // Other test files start servers on free ports too: a port taken before ours binds it
    // makes our server exit at once. Then start again on another port.
    for (let attempt = 1; ; attempt++) {
      const r = new PrivateRedis(await freePort(), args);
      try {
        await r.start();
        return r;
      } catch (err) {
        await r.stop();
        if (attempt >= 3) throw err;
      }
    }
  }

  async start(): Promise<void> {
    const proc = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--dir', this.dir, '--logfile', '', ...this.extraArgs],
      { stdio: 'ignore' },
    );
    this.proc = proc;
    // A server that exits at once could not bind: never mistake another one on the port for ours.
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`redis-server on port ${this.port} exited (${code}) before answering`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForRedis(this.url), exited]);
  }

  /** SIGKILL: no shutdown, no final save. */
  async kill(): Promise<void> {
    const p = this.proc;
    // A process killed by a signal has a signalCode and no exitCode: it will not exit again.
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((res) => p.once('exit', res));
    p.kill('SIGKILL');
    await exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 5_000)),
    ]);
    return true;
  } catch {
    return false;
  }
}

async function hasRedisServer(): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    p.on('error', () => resolve(false));
    p.on('exit', (code) => resolve(code === 0));
  });
}

/**
 * The Redis for a test run: a testcontainers Redis when Docker answers (what users with
 * Docker expect), else a private redis-server on a free port, else the shared REDIS_URL
 * (tests isolate themselves there with a unique QUEUE_PREFIX and never flush it).
 */
export async function startTestRedis(): Promise<RedisHandle> {
  if (process.env.TEST_REDIS !== 'external' && (await dockerAnswers())) {
    const { GenericContainer } = await import('testcontainers');
    const c = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
    return { url: `redis://${c.getHost()}:${c.getMappedPort(6379)}`, kind: 'testcontainers', stop: async () => void (await c.stop()) };
  }
  if (process.env.TEST_REDIS !== 'external' && (await hasRedisServer())) {
    const r = await PrivateRedis.start();
    return { url: r.url, kind: 'redis-server', stop: () => r.stop() };
  }
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  await waitForRedis(url);
  return { url, kind: 'external', stop: async () => {} };
}
