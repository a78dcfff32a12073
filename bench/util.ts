import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import type { Env } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import type { CallbacksPosted, Delivery, FakeCommand, FakeInfo } from './fake-providers.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Progress goes to stderr: stdout carries the JSON summary only. */
export const note = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** A bench knob from the environment (bench/ only; src/ reads env in config.ts alone). */
export function knob(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${v}"`);
  return n;
}

export const round = (n: number, digits = 1) => Number(n.toFixed(digits));

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summary(values: readonly number[]) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), max: round(s[s.length - 1] ?? NaN) };
}

export { maxInWindow } from '../test/support/windows.js';

/** Info-level logs, fully serialised as in production, written to /dev/null. */
export const discardLogger = () => createLogger('info', pino.destination({ dest: '/dev/null', sync: false }));

/** The provider fakes, in a child process. */
export class Fakes {
  private seq = 0;
  private pending = new Map<number, (v: unknown) => void>();
  private constructor(
    private readonly child: ChildProcess,
    readonly info: FakeInfo,
  ) {
    child.on('message', (m: { id?: number; value?: unknown }) => {
      if (m.id === undefined) return;
      this.pending.get(m.id)?.(m.value);
      this.pending.delete(m.id);
    });
  }

  static async start(): Promise<Fakes> {
    const child = fork(fileURLToPath(new URL('./fake-providers.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const info = await new Promise<FakeInfo>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`fake providers exited (${code})`)));
      child.on('message', (m: { ready?: FakeInfo }) => m.ready && resolve(m.ready));
    });
    return new Fakes(child, info);
  }

  pid(): number {
    return this.child.pid!;
  }

  private ask<T>(c: FakeCommand): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve) => {
      this.pending.set(id, resolve as (v: unknown) => void);
      this.child.send({ id, ...c });
    });
  }

  latency(ms: number) {
    return this.ask<boolean>({ cmd: 'latency', ms });
  }
  reset() {
    return this.ask<boolean>({ cmd: 'reset' });
  }
  count() {
    return this.ask<number>({ cmd: 'count' });
  }
  /** TCP connections the fakes accepted since the last reset. */
  connections() {
    return this.ask<number>({ cmd: 'connections' });
  }
  /** Twilio status callbacks for `sids`, signed and posted by the fake Twilio's process (32 in flight). */
  async postCallbacks(url: string, sids: string[], status: string): Promise<CallbacksPosted> {
    const r = await this.ask<CallbacksPosted>({ cmd: 'callbacks', url, sids, status });
    if (r.error) throw new Error(`status callbacks: ${r.error}`);
    return r;
  }
  deliveries() {
    return this.ask<Delivery[]>({ cmd: 'deliveries' });
  }

  /** The environment that points our providers at the fakes. */
  env(): Env {
    const f = this.info;
    return {
      RESEND_API_KEY: f.resendKey,
      RESEND_BASE_URL: f.resendUrl,
      EMAIL_FROM: 'Bench <bench@example.com>',
      TWILIO_ACCOUNT_SID: f.twilioSid,
      TWILIO_AUTH_TOKEN: f.twilioToken,
      TWILIO_PHONE_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: f.twilioUrl,
    };
  }

  stop() {
    this.child.kill('SIGTERM');
  }
}

export async function until(probe: () => Promise<boolean> | boolean, timeoutMs: number, what: string, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A plain worker-role ioredis client (BullMQ needs maxRetriesPerRequest: null). */
export const rawRedis = (url: string) => new Redis(url, { maxRetriesPerRequest: null });

export async function usedMemory(r: Redis): Promise<number> {
  const info = await r.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

/** RSS of another process, as process.memoryUsage().rss would report it there. */
export function rssOf(pid: number): Promise<number> {
  return import('node:fs/promises').then(async (fs) => {
    const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
  });
}

export const mib = (bytes: number) => round(bytes / 1024 / 1024, 1);

/** redis-server's CPU time so far (user + system), in µs. */
export async function redisCpu(url: string): Promise<number> {
  const r = new Redis(url);
  try {
    const info = await r.info('cpu');
    const get = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)![1]);
    return (get('used_cpu_user') + get('used_cpu_sys')) * 1e6;
  } finally {
    r.disconnect();
  }
}
