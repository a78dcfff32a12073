// Preloaded into a worker process by the fuzz test (NODE_OPTIONS="--expose-gc --import=<this file>"):
// on SIGUSR2 it collects garbage and prints one JSON line with the memory figures, so a
// measurement does not depend on where the sample lands in the GC cycle.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  const m = process.memoryUsage();
  process.stdout.write(`${JSON.stringify({ msg: 'memory probe', rss: m.rss, heapUsed: m.heapUsed, external: m.external })}\n`);
});
