import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Env } from '../../src/config.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A worker process as ops run it (`npm run worker -- <queues>`), with its output captured. */
export class WorkerProcess {
  readonly output: string[] = [];
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: Env, entry = 'workers/cli.ts') {
    this.proc = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (d: Buffer) => this.output.push(...d.toString('utf8').split('\n').filter(Boolean));
    this.proc.stdout!.on('data', collect);
    this.proc.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }

  get text(): string {
    return this.output.join('\n');
  }

  /** Resolves once a log line matches (workers log "workers started" when ready). */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.output.find((l) => pattern.test(l));
      if (line) return line;
      if (this.proc.exitCode !== null) throw new Error(`worker exited (${this.proc.exitCode}) before ${pattern}: ${this.text}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}: ${this.text}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async started(): Promise<this> {
    await this.waitFor(/workers started/);
    return this;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.proc.exitCode === null) this.proc.kill(signal);
    return this.exited;
  }
}
