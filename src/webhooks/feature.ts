import { expectName, parsePayload } from '../contract/registry.js';
import { skipped } from '../contract/results.js';
import type { Feature } from '../runtime/types.js';
import { deliverEvent } from './deliver.js';
import { deliveryWebhookListener, webhookListener } from './emit.js';
import { webhookJobPayload, type WebhookEvent } from './events.js';

/**
 * Outbound events: the `webhook` queue delivers them, and an outcome listener in every
 * worker process (whichever queues it runs) turns job outcomes into events.
 */
export const webhooks: Feature = {
  name: 'webhooks',
  // Without WEBHOOK_URL there is nothing to emit: no listener, nothing on each job's path.
  listeners: (ctx) => (ctx.config.webhook ? [webhookListener(ctx)] : []),
  deliveryListeners: (ctx) => (ctx.config.webhook ? [deliveryWebhookListener(ctx)] : []),
  handlers: (ctx) => [
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
  ],
};
