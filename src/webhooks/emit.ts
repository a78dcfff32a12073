import type { Queue } from 'bullmq';
import type { Config } from '../config.js';
import { retryPolicy } from '../contract/retry.js';
import { settlesWithin } from '../deadline.js';
import type { DeliveryListener, OutcomeListener, ServiceContext } from '../runtime/types.js';
import { eventFromDelivery, eventFromOutcome, type WebhookEvent } from './events.js';

/** The longest a job's completion waits for its event to be enqueued (Redis being slow or away). */
const ENQUEUE_WAIT_MS = 2_000;

/** Adds the delivery job; its id is the event id, so a second add of the same event is a no-op. */
export async function enqueueEvent(queue: Queue, config: Config, event: WebhookEvent): Promise<void> {
  await queue.add(
    'deliver',
    { event },
    {
      jobId: event.id,
      ...retryPolicy(config.jobs.attempts, config.jobs.backoffMs),
    },
  );
}

/**
 * The outcome listener that turns job outcomes into webhook deliveries. It never fails
 * nor holds up the job that caused the event: errors are logged, and a slow Redis is
 * waited for at most ENQUEUE_WAIT_MS (the add carries on in the background).
 */
export function webhookListener(ctx: ServiceContext): OutcomeListener {
  const log = ctx.logger.child({ component: 'webhooks' });
  return async (o, job) => {
    if (!ctx.config.webhook) return;
    let event: WebhookEvent | undefined;
    try {
      event = eventFromOutcome(o, job);
      if (!event) return;
      const { id, type } = event;
      const added = enqueueEvent(ctx.queue('webhook'), ctx.config, event).catch((err: Error) =>
        log.error({ eventId: id, type, err: { message: err.message } }, 'webhook event not enqueued'),
      );
      if (!(await settlesWithin(added, ENQUEUE_WAIT_MS))) log.warn({ eventId: id, type }, 'webhook event enqueue is slow; not waiting for it');
    } catch (err) {
      log.error({ eventId: event?.id, err: { message: (err as Error).message } }, 'webhook event not enqueued');
    }
  };
}

/** The delivery listener: a status move to delivered, read or a negative one becomes an event. */
export function deliveryWebhookListener(ctx: ServiceContext): DeliveryListener {
  const log = ctx.logger.child({ component: 'webhooks' });
  return async (change) => {
    const event = eventFromDelivery(change);
    if (!event || !ctx.config.webhook) return;
    try {
      await enqueueEvent(ctx.queue('webhook'), ctx.config, event);
    } catch (err) {
      log.error({ eventId: event.id, type: event.type, err: { message: (err as Error).message } }, 'webhook event not enqueued');
    }
  };
}
