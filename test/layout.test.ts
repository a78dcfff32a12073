import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The dependency rule of README "Layout", read from the imports themselves (type-only
 * imports included: they tie modules together just the same).
 */
const ROOT = resolve(import.meta.dirname, '..');
const FEATURES = ['messages', 'meetings', 'appointments', 'webhooks', 'delivery'];
const SHARED = ['config.ts', 'logger.ts', 'redis.ts', 'deadline.ts'];

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Relative imports of a file, as paths from the repo root (`src/contract/queues.ts`). */
function importsOf(file: string): string[] {
  const src = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...src.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"](\.[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => relative(ROOT, resolve(dirname(join(ROOT, file)), s)).replace(/\.js$/, '.ts'));
}

/** `src/messages/email.ts` -> `messages`; `src/config.ts` -> `config.ts`. */
const area = (f: string) => {
  const parts = f.split('/');
  return parts[0] === 'src' ? (parts.length > 2 ? parts[1]! : parts[1]!) : parts[0]!;
};

/** What each area may import, besides itself. */
const ALLOWED: Record<string, (target: string) => boolean> = {
  contract: () => false,
  runtime: (t) => ['contract', 'providers', ...SHARED].includes(area(t)),
  providers: (t) => ['contract', ...SHARED].includes(area(t)),
  templates: (t) => ['contract'].includes(area(t)),
  producer: (t) => ['contract', ...SHARED].includes(area(t)) || isView(t),
  // The provider-event routes verify and parse vendors' formats with the providers' own parsers.
  server: (t) => ['contract', 'producer', ...SHARED].includes(area(t)) || isView(t) || /^src\/providers\/[a-z]+-events\.ts$/.test(t),
  'config.ts': (t) => area(t) === 'contract' || t === 'src/logger.ts',
  'logger.ts': () => false,
  'redis.ts': (t) => area(t) === 'config.ts',
  'deadline.ts': () => false,
  ...Object.fromEntries(
    FEATURES.map((f) => [f, (t: string) => ['contract', 'runtime', 'providers', 'templates', ...SHARED, ...FEATURES].includes(area(t))]),
  ),
  'service.ts': (t) => ['runtime', 'contract', ...SHARED, ...FEATURES].includes(area(t)),
  // Entry points and tools: anything but each other's insides.
  doctor: () => true,
  'index.ts': (t) => ['producer', 'contract'].includes(area(t)) || t.startsWith('src/webhooks/sign.ts') || t === 'src/webhooks/events.ts',
};

/** A feature's read side (README "Layout"), which the producer and the server may use. */
const isView = (t: string) => FEATURES.includes(area(t)) && /\/view(\.ts|\/)/.test(t);

const srcFiles = files('src');
const graph = new Map(srcFiles.map((f) => [f, importsOf(f).filter((t) => t.startsWith('src/'))]));

describe('layout', () => {
  it('every import follows the dependency rule', () => {
    const broken: string[] = [];
    for (const [file, targets] of graph) {
      const from = area(file);
      const allowed = ALLOWED[from];
      if (!allowed) {
        broken.push(`${file}: area "${from}" has no rule (add it to README "Layout" and this test)`);
        continue;
      }
      for (const t of targets) if (area(t) !== from && !allowed(t)) broken.push(`${file} -> ${t}`);
    }
    expect(broken).toEqual([]);
  });

  it('the runtime and the contract never import a feature', () => {
    const bad = [...graph].filter(([f]) => ['runtime', 'contract'].includes(area(f))).flatMap(([f, ts]) => ts.filter((t) => FEATURES.includes(area(t))).map((t) => `${f} -> ${t}`));
    expect(bad).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const walk = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) walk(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) walk(f, []);
    expect(cycles).toEqual([]);
  });

  it('code points readers at the README or the repo, never at a file they do not have', () => {
    const cited = [...srcFiles, ...files('workers')].filter((f) => /CONTRACT(\.md| §)/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(cited).toEqual([]);
  });
});
