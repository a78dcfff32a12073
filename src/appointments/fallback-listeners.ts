import type { DeliveryListener, OutcomeListener, ServiceContext } from '../runtime/types.js';
import { NOT_REACHED } from './delivery-reader.js';
import { addFallbackDecision, fallbackTrigger, notConfigured } from './fallback.js';

const MESSAGE_QUEUES = new Set(['email', 'sms', 'whatsapp']);

/**
 * A send of an appointment message failed for good, or was skipped because its channel is
 * not configured: add the fallback decision (README "Channel fallback"). An `expired` skip
 * is no reason to try elsewhere: the appointment has begun.
 */
export function fallbackOnOutcome(ctx: ServiceContext): OutcomeListener {
  // Synchronous when there is nothing to do (nearly every outcome): no promise, no extra tick.
  return (o, job) => {
    if (o.outcome !== 'failed' && o.outcome !== 'skipped') return;
    if (!MESSAGE_QUEUES.has(o.queue) || !(job.data as { ref?: unknown } | undefined)?.ref) return;
    if (o.outcome === 'skipped' && !notConfigured((o.result as { reason?: string } | undefined)?.reason)) return;
    const data = fallbackTrigger(o.queue, o.jobId, job.data, o.outcome);
    if (data) return addFallbackDecision(ctx, data).then(() => undefined);
  };
}

/** A send's delivery status turned negative (undelivered, failed, bounced): the same decision. */
export function fallbackOnDelivery(ctx: ServiceContext): DeliveryListener {
  return async (change) => {
    if (!change.ref || !NOT_REACHED.has(change.status)) return;
    const data = fallbackTrigger(change.queue, change.jobId, { ref: change.ref }, 'delivery');
    if (data) await addFallbackDecision(ctx, data);
  };
}
