import type { Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { NotificationClient } from '../producer/client.js';
import { ResultWaiter } from '../producer/results.js';
import { createService, startWorkers } from '../service.js';

export const TEST_KINDS = ['email', 'sms', 'whatsapp', 'zoom', 'meet'] as const;
export type TestKind = (typeof TEST_KINDS)[number];

export const isTestKind = (k: string): k is TestKind => (TEST_KINDS as readonly string[]).includes(k);

type TestJob =
  | { queue: 'email' | 'sms' | 'whatsapp'; name: 'send'; payload: Record<string, unknown> }
  | { queue: 'meeting'; name: 'create'; payload: Record<string, unknown> };

/** The job a test sends: short, labelled as a test, valid for the queue's schema. */
export function testJob(kind: TestKind, recipient: string, now = new Date()): TestJob {
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const text = `Test message from the notification service (${stamp}). No action needed.`;
  switch (kind) {
    case 'email':
      return {
        queue: 'email',
        name: 'send',
        payload: { to: recipient, subject: 'Notification service test', text, html: `<p>${text}</p>`, tags: { kind: 'send-test' } },
      };
    case 'sms':
      return { queue: 'sms', name: 'send', payload: { to: recipient, body: text } };
    case 'whatsapp':
      return { queue: 'whatsapp', name: 'send', payload: { to: recipient, body: text } };
    case 'zoom':
    case 'meet': {
      // Tomorrow, on the hour: a real meeting, easy to spot and delete.
      const at = new Date(now.getTime() + 24 * 3600_000);
      at.setUTCMinutes(0, 0, 0);
      return {
        queue: 'meeting',
        name: 'create',
        payload: {
          appointmentId: `send-test-${now.getTime()}`,
          scheduledAt: at.toISOString().replace(/\.\d+Z$/, 'Z'),
          duration: 15,
          visioProvider: kind === 'zoom' ? 'ZOOM' : 'GOOGLE_MEET',
          topic: 'Notification service test',
          ...(recipient.includes('@') && { attendees: [recipient] }),
        },
      };
    }
  }
}

export interface SendTestResult {
  queue: TestJob['queue'];
  jobId: string;
  outcome: 'completed' | 'skipped' | 'failed' | 'timeout';
  result?: unknown;
  failedReason?: string;
  /** True when no worker served the queue and this process ran one for the test. */
  localWorker: boolean;
}

/**
 * Enqueues one real test job through the producer client and waits for its outcome
 * (QueueEvents, via the client's ResultWaiter). When no worker serves the queue, one is run
 * in this process for the duration, so the command also works without `npm start`.
 */
export async function sendTest(
  config: Config,
  kind: TestKind,
  recipient: string,
  opts: { timeoutMs?: number; logger?: Logger; localWorker?: 'auto' | 'never' } = {},
): Promise<SendTestResult> {
  const logger = opts.logger ?? createLogger(config.logLevel, undefined, config.logFormat);
  const job = testJob(kind, recipient);
  const client = NotificationClient.fromConfig(config);
  const waiter = new ResultWaiter(config.redis);
  let stopWorker: (() => Promise<void>) | undefined;
  try {
    const queue = client.queue(job.queue);
    const workers = await client.withRedis(() => queue.getWorkersCount()).catch(() => 1); // CLIENT LIST may be disabled
    if (workers === 0 && opts.localWorker !== 'never') {
      logger.info({ queue: job.queue }, 'no worker serves this queue: running one in this process for the test');
      const running = startWorkers(createService(config, logger), [job.queue]);
      stopWorker = running.close;
    }
    const { id } = await client.enqueue(job.queue, job.name as never, job.payload);
    const base = { queue: job.queue, jobId: id, localWorker: stopWorker !== undefined };
    try {
      const result = await waiter.wait<{ status?: string }>(queue, job.queue, id, opts.timeoutMs ?? 60_000);
      return { ...base, outcome: result?.status === 'skipped' ? 'skipped' : 'completed', result };
    } catch (err) {
      const fresh = await queue.getJob(id).catch(() => undefined);
      if (fresh && (await fresh.isFailed())) return { ...base, outcome: 'failed', failedReason: fresh.failedReason };
      return { ...base, outcome: 'timeout', failedReason: (err as Error).message };
    }
  } finally {
    await stopWorker?.();
    await waiter.close();
    await client.close();
  }
}
