import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../src/config.js';
import { QUEUES, isQueueName } from '../src/contract/queues.js';

// Docker does not run on every machine that runs the tests: these checks read the
// Dockerfile and docker-compose.yml and hold them to what the code actually provides.

const root = join(import.meta.dirname, '..');
const read = (f: string) => readFileSync(join(root, f), 'utf8');

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function dockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  return joined
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\w+)\s+(.*)$/.exec(l)!;
      return { op: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, ' ') };
    });
}

/** Instructions grouped by build stage (FROM ... AS name). */
function stages(ins: Instruction[]) {
  const out: { from: string; name?: string; ins: Instruction[] }[] = [];
  for (const i of ins) {
    if (i.op === 'FROM') {
      const [image, as, name] = i.args.split(' ');
      out.push({ from: image!, name: as?.toUpperCase() === 'AS' ? name : undefined, ins: [] });
    } else out.at(-1)!.ins.push(i);
  }
  return out;
}

/** `["node", "dist/workers/x.js", ...]` or a shell string, as argv. */
const argv = (cmd: unknown): string[] => (Array.isArray(cmd) ? cmd.map(String) : String(cmd).trim().split(/\s+/));

/** `node dist/workers/<name>.js ...args` must start a script that exists in workers/ (tsc emits it there). */
function checkNodeCommand(args: string[], where: string): string[] {
  expect(args[0], where).toBe('node');
  const m = /^dist\/workers\/([\w-]+)\.js$/.exec(args[1] ?? '');
  expect(m, `${where}: ${args[1]} is not dist/workers/<name>.js`).not.toBeNull();
  expect(existsSync(join(root, 'workers', `${m![1]}.ts`)), `${where}: workers/${m![1]}.ts`).toBe(true);
  return args.slice(2);
}

const PORT_DEFAULT = loadConfig({}).http.port;
const ENV_EXAMPLE = new Set(
  read('.env.example')
    .split('\n')
    .map((l) => /^([A-Z][A-Z0-9_]*)=/.exec(l)?.[1])
    .filter((x): x is string => !!x),
);
const knownVariable = (name: string) => CONFIG_VARIABLES.includes(name) || ENV_EXAMPLE.has(name);

describe('Dockerfile', () => {
  const ins = dockerfile(read('Dockerfile'));
  const all = stages(ins);
  const runtime = all.at(-1)!;

  it('builds in one stage and runs in a slim node:24 stage', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const s of all) expect(s.from).toBe('node:24-slim');
    const build = all.find((s) => s.name === 'build')!;
    expect(build).toBeDefined();
    const runs = build.ins.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /npm ci\b/.test(r) && /npm install\b/.test(r))).toBe(true);
    expect(runs).toContain('npm run build');
    expect(JSON.parse(read('package.json')).scripts.build).toMatch(/tsconfig\.build\.json/);
    // Everything the build compiles is copied into the build stage.
    const copied = build.ins.filter((i) => i.op === 'COPY').flatMap((i) => i.args.split(' ').slice(0, -1));
    for (const dir of JSON.parse(read('tsconfig.build.json')).include as string[]) expect(copied, dir).toContain(dir);
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']));
  });

  it('ships production dependencies and dist/ only, as a non-root user', () => {
    const runs = runtime.ins.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
    expect(runs).toMatch(/npm ci --omit=dev/);
    expect(runs).toMatch(/npm install --omit=dev/);
    expect(runtime.ins.some((i) => i.op === 'COPY' && /^--from=build \/app\/dist \.?\/?(app\/)?dist$/.test(i.args))).toBe(true);
    expect(runtime.ins.some((i) => i.op === 'COPY' && /\bsrc\b|\btest\b/.test(i.args))).toBe(false);
    const user = runtime.ins.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    expect(user).toBe('node');
  });

  it('checks /healthz on the default port without curl, and starts everything by default', () => {
    const hc = runtime.ins.find((i) => i.op === 'HEALTHCHECK');
    expect(hc?.args).toMatch(/CMD node -e .*fetch\(.*\/healthz/);
    expect(hc?.args).not.toMatch(/\bcurl\b|\bwget\b/);
    expect(hc?.args).toContain(`|| ${PORT_DEFAULT})`);
    expect(runtime.ins.find((i) => i.op === 'EXPOSE')?.args).toBe(String(PORT_DEFAULT));
    const cmd = runtime.ins.filter((i) => i.op === 'CMD').at(-1)!;
    expect(checkNodeCommand(JSON.parse(cmd.args), 'CMD')).toEqual([]);
    expect(JSON.parse(cmd.args)).toEqual(['node', 'dist/workers/start.js']);
    for (const env of runtime.ins.filter((i) => i.op === 'ENV'))
      expect(knownVariable(env.args.split(/[= ]/)[0]!), env.args).toBe(true);
  });

  it('keeps secrets and build output out of the context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const p of ['node_modules', 'dist', '.env', '.git']) expect(ignored).toContain(p);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, Record<string, any>>;
    volumes?: Record<string, unknown>;
  };
  const services = Object.entries(compose.services);
  const app = services.filter(([name]) => name !== 'redis');
  const workers = app.filter(([name]) => name.startsWith('worker-'));

  it('runs Redis 7 with an append-only file on a volume and no eviction', () => {
    const redis = compose.services.redis!;
    expect(redis.image).toBe('redis:7');
    const cmd = argv(redis.command).join(' ');
    expect(cmd).toMatch(/--appendonly yes/);
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
    const volume = String(redis.volumes?.[0]).split(':');
    expect(volume[1]).toBe('/data');
    expect(compose.volumes).toHaveProperty(volume[0]!);
  });

  it('starts only scripts that exist, and the server on the configured port', () => {
    for (const [name, s] of app) checkNodeCommand(argv(s.command), name);
    const server = compose.services.server!;
    expect(argv(server.command)).toEqual(['node', 'dist/workers/server.js']);
    const containerPorts = (server.ports as string[]).map((p) => Number(String(p).split(':').at(-1)));
    expect(containerPorts).toEqual([PORT_DEFAULT]);
    expect(Number(server.environment?.PORT ?? PORT_DEFAULT)).toBe(PORT_DEFAULT);
  });

  it('serves every queue with some worker service, naming only real queues', () => {
    const served = new Set<string>();
    for (const [name, s] of workers) {
      const args = checkNodeCommand(argv(s.command), name);
      const script = argv(s.command)[1];
      // cli.js takes queue names (or all); a per-queue script serves its own queue.
      const queues = script === 'dist/workers/cli.js' ? (args.includes('all') ? [...QUEUES] : args) : [/([\w-]+)\.js$/.exec(script!)![1]!];
      for (const q of queues) {
        expect(isQueueName(q), `${name}: unknown queue "${q}"`).toBe(true);
        served.add(q);
      }
    }
    expect([...served].sort()).toEqual([...QUEUES].sort());
  });

  it('can scale workers: no container names, no host ports on workers', () => {
    for (const [name, s] of services) expect(s, name).not.toHaveProperty('container_name');
    expect(workers.length).toBeGreaterThanOrEqual(3);
    for (const [name, s] of workers) {
      expect(s, name).not.toHaveProperty('ports');
      expect(s.healthcheck?.disable, `${name}: no HTTP server to probe`).toBe(true);
    }
  });

  it('configures every app service from an optional .env plus the compose Redis, with known variables only', () => {
    for (const [name, s] of app) {
      expect(s.env_file, name).toEqual([{ path: '.env', required: false }]);
      expect(s.environment?.REDIS_URL, name).toBe('redis://redis:6379');
      for (const k of Object.keys(s.environment ?? {})) expect(knownVariable(k), `${name}: ${k}`).toBe(true);
      expect(s.depends_on?.redis?.condition, name).toBe('service_healthy');
      // Docker's default 10 s would SIGKILL jobs the service is still draining.
      const grace = /^(\d+)s$/.exec(String(s.stop_grace_period))?.[1];
      expect(Number(grace) * 1000, name).toBeGreaterThan(loadConfig({}).shutdownTimeoutMs);
    }
  });

  it('documents in .env.example only variables the config reads', () => {
    for (const k of ENV_EXAMPLE) expect(CONFIG_VARIABLES, k).toContain(k);
  });
});
