/** A short human-readable table of the summary, on stderr (stdout is for the JSON). */
export function printTable(s: Record<string, any>): void {
  const rows: [string, string, string][] = [];
  const add = (what: string, ours: unknown, baseline: unknown = '') => rows.push([what, String(ours), String(baseline)]);
  for (const c of s.throughput?.cases ?? [])
    add(
      `deliver ${c.channel} ${c.latencyMs} ms c=${c.concurrency} (jobs/s, cpu µs/job)`,
      `${c.full.jobsPerS} (${c.full.cpuUsPerJob} µs) = ${c.ratio}x [${c.ratioRange.join('-')}] fetch, ${c.ratioUndici}x [${c.ratioUndiciRange.join('-')}] undici`,
      `fetch ${c.raw.jobsPerS} (${c.raw.cpuUsPerJob} µs), undici ${c.rawUndici.jobsPerS} (${c.rawUndici.cpuUsPerJob} µs)${c.control ? `; A/A control ${c.control.ratio}x [${c.control.ratioRange.join('-')}]` : ''}`,
    );
  for (const [mode, e] of Object.entries<any>(s.enqueue ?? {})) add(`enqueue ${mode} (jobs/s)`, `${e.clientPerS} = ${e.ratio}x`, `raw ${e.rawPerS}${e.bullmqDedupRatio ? ` (BullMQ dedup alone ${e.bullmqDedupRatio}x)` : ''}`);
  if (s.latency)
    add(
      `e2e latency @${s.latency.ratePerS}/s p50/p99/max ms`,
      `${s.latency.ours.p50}/${s.latency.ours.p99}/${s.latency.ours.max}`,
      `raw ${s.latency.raw.p50}/${s.latency.raw.p99}/${s.latency.raw.max}`,
    );
  if (s.rss) {
    const o = s.rss.ours;
    const r = s.rss.raw;
    add('spawned sms worker RSS idle/peak/after MiB', `${o.idleRssMiB}/${o.peakRssMiB}/${o.afterRssMiB}`, `raw ${r.idleRssMiB}/${r.peakRssMiB}/${r.afterRssMiB}`);
  }
  if (s.ratelimit)
    add(
      `rate limit ${s.ratelimit.limit} x${s.ratelimit.processes} procs: rate, max starts/arrivals per window`,
      `${s.ratelimit.achievedPerS}/s, ${s.ratelimit.maxStartsInAnyRollingWindow}/${s.ratelimit.maxArrivalsInAnyRollingWindow}`,
      `allowed ${s.ratelimit.allowedMax}`,
    );
  if (s.memory) {
    add('Redis bytes per pending reminder', `${s.memory.oursBytesPerReminder} = ${s.memory.ratio}x`, `raw ${s.memory.rawBytesPerDelayedJob}`);
    const c = s.memory.withHashMaxListpackValue256;
    if (c) add('  same, hash-max-listpack-value 256', `${c.oursBytesPerReminder} = ${c.ratio}x`, `raw ${c.rawBytesPerDelayedJob}`);
  }
  if (s.reminders) {
    const r = s.reminders;
    add(`store ${r.load.count} reminders (s, MiB)`, `${r.load.seconds} s, ${r.load.usedMemoryMiB} MiB`, `${r.load.perS}/s`);
    const l = (x: { p50: number; p99: number; max: number }) => `${x.p50}/${x.p99}/${x.max}`;
    add(`reminder lateness p50/p99/max ms (hz ${r.redisHz})`, l(r.lateness), `no waker ${l(r.withoutWaker)}; no waker hz 100 ${l(r.withoutWakerAtHz100)}`);
  }
  if (s.delivery) {
    const d = s.delivery;
    add('Twilio callbacks/s until applied', `${d.callbacksPerS.ours} = ${d.ratioToBare}x bare, ${d.ratioToSms}x SMS rate`, `bare ${d.callbacksPerS.bare} = ${d.bareToSms}x SMS; SMS ${d.smsPerS}/s`);
    add('  answered by the server alone (workers elsewhere)', `${d.serverOnlyPerS} = ${d.serverOnlyRatioToBare}x bare`);
    add(
      `callback -> applied @${d.appliedLatencyMs.ratePerS}/s p50/p99/max ms`,
      `${d.appliedLatencyMs.p50}/${d.appliedLatencyMs.p99}/${d.appliedLatencyMs.max}`,
      d.bareAnsweredLatencyMs && `bare route answered ${d.bareAnsweredLatencyMs.p50}/${d.bareAnsweredLatencyMs.p99}/${d.bareAnsweredLatencyMs.max}`,
    );
    add('Redis bytes per message (id mapping + status)', `${d.redisBytesPerMessage.memoryUsageOfOneKey}`, `used_memory delta ${d.redisBytesPerMessage.usedMemoryDeltaPerMessage}`);
  }
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), 8));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i]!)).join('  ');
  process.stderr.write(`\n${line(['figure', 'ours', 'baseline'])}\n${w.map((n) => '-'.repeat(n)).join('  ')}\n`);
  for (const r of rows) process.stderr.write(line(r) + '\n');
  const m = s.machine ?? {};
  process.stderr.write(`\n${m.cpus} cpus (${m.cpuModel}), node ${m.node}, ${m.redisServer}; load ${m.loadavgAtStart} -> ${m.loadavgAtEnd}\n\n`);
}
