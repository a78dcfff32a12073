import { skipped } from '../jobs/results.js';
import { parsePayload } from '../jobs/registry.js';
import { expectName } from '../worker/handlers.js';
import type { ServiceContext } from '../worker/process.js';
import type { QueueHandler } from '../worker/runtime.js';
import { deliverEvent } from './deliver.js';
import { webhookJobPayload, type WebhookEvent } from './events.js';
import { webhookListener } from './emit.js';

/** Contexts whose outcome listener is already installed: startWorkers may run twice on one. */
const listening = new WeakSet<ServiceContext>();

/**
 * The `webhook` queue's handler. Also installs, once per context, the outcome listener
 * that emits events: every worker process emits, whichever queues it runs.
 */
export function webhookHandlers(ctx: ServiceContext): QueueHandler[] {
  // Without WEBHOOK_URL there is nothing to emit: no listener, nothing on each job's path.
  if (ctx.config.webhook && !listening.has(ctx)) {
    listening.add(ctx);
    ctx.outcomeListeners.push(webhookListener(ctx));
  }
  return [
    {
      queue: 'webhook',
      provider: () => 'webhook',
      // A re-run after a delivery that succeeded (stalled job) does not POST again.
      deliverOnce: () => true,
      run: async (job) => {
        expectName(job, 'deliver');
        const { event } = parsePayload(webhookJobPayload, job.data);
        const target = ctx.config.webhook;
        if (!target) return skipped('webhooks are not configured: set WEBHOOK_URL and WEBHOOK_SECRET');
        return deliverEvent(event as WebhookEvent, { ...target, timeoutMs: ctx.config.jobs.providerTimeoutMs });
      },
    },
  ];
}
