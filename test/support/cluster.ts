import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, isFree, waitForRedis } from './redis.js';

const run = promisify(execFile);

/** A three-master Redis Cluster of the test's own, from plain redis-server processes on loopback. */
export class PrivateCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'notif-cluster-'));
  private procs: ChildProcess[] = [];
  private constructor(readonly ports: number[]) {}

  /** `127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`, as REDIS_CLUSTER_NODES takes it. */
  get nodes(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  static async start(masters = 3): Promise<PrivateCluster> {
    // Other test files start redis-servers on free ports at the same time: a port (or its
    // bus port) picked here may be taken before a node binds it. Start again on new ports.
    for (let attempt = 1; ; attempt++) {
      const ports: number[] = [];
      // Cluster bus ports are port + 10000: keep both free and below 65536.
      while (ports.length < masters) {
        const p = await freePort();
        if (p < 55_000 && !ports.includes(p) && (await isFree(p + 10_000))) ports.push(p);
      }
      const c = new PrivateCluster(ports);
      try {
        await c.boot();
        return c;
      } catch (err) {
        await c.stop();
        if (attempt >= 3) throw err;
      }
    }
  }

  private async boot() {
    for (const port of this.ports) {
      this.procs.push(
        spawn(
          'redis-server',
          [
            '--port', String(port),
            '--bind', '127.0.0.1',
            '--cluster-enabled', 'yes',
            '--cluster-config-file', join(this.dir, `nodes-${port}.conf`),
            '--cluster-node-timeout', '5000',
            '--save', '',
            '--appendonly', 'no',
            '--dir', this.dir,
            '--logfile', join(this.dir, `redis-${port}.log`),
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    await Promise.all(this.ports.map((p) => waitForRedis(`redis://127.0.0.1:${p}`)));
    await run('redis-cli', ['--cluster', 'create', ...this.ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 30_000,
    });
    // Every node must see the whole cluster (all slots covered, state ok) before clients connect.
    const deadline = Date.now() + 30_000;
    for (const port of this.ports) {
      const r = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
      r.on('error', () => {});
      try {
        await r.connect();
        for (;;) {
          const info = await r.cluster('INFO');
          if (/cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info) && /cluster_known_nodes:3/.test(info)) break;
          if (Date.now() > deadline) throw new Error(`cluster node ${port} not ready: ${info}`);
          await new Promise((res) => setTimeout(res, 100));
        }
      } finally {
        r.disconnect();
      }
    }
  }

  /** Every key of every master (test-sized data only). */
  async allKeys(): Promise<string[]> {
    const keys: string[] = [];
    for (const port of this.ports) {
      const r = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      r.on('error', () => {});
      try {
        let cursor = '0';
        do {
          const [next, batch] = await r.scan(cursor, 'COUNT', 1000);
          keys.push(...batch);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        r.disconnect();
      }
    }
    return keys;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGKILL');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One Redis Sentinel watching `master` under `name`; a quorum of one, so it can fail over alone. */
export class PrivateSentinel {
  readonly dir = mkdtempSync(join(tmpdir(), 'notif-sentinel-'));
  private proc?: ChildProcess;
  private constructor(readonly port: number) {}

  get nodes(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(masterPort: number, name = 'mymaster', opts: { downAfterMs?: number } = {}): Promise<PrivateSentinel> {
    const s = new PrivateSentinel(await freePort());
    const conf = join(s.dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${s.port}`,
        'bind 127.0.0.1',
        `dir ${s.dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
        `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 5000}`,
        `sentinel failover-timeout ${name} 10000`,
        '',
      ].join('\n'),
    );
    s.proc = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    await waitForRedis(`redis://127.0.0.1:${s.port}`);
    // Answers once it knows the master.
    const r = new Redis(s.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    r.on('error', () => {});
    try {
      const deadline = Date.now() + 10_000;
      while (!(await r.call('SENTINEL', 'get-master-addr-by-name', name))) {
        if (Date.now() > deadline) throw new Error('sentinel does not know the master');
        await new Promise((res) => setTimeout(res, 100));
      }
    } finally {
      r.disconnect();
    }
    return s;
  }

  /** Asks the Sentinel; `undefined` while it has no answer. */
  async ask<T>(...args: string[]): Promise<T | undefined> {
    const r = new Redis(this.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    r.on('error', () => {});
    try {
      return (await r.call('SENTINEL', ...args)) as T;
    } catch {
      return undefined;
    } finally {
      r.disconnect();
    }
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((res) => p.once('exit', res));
      p.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
