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
  return async (o, job) => {
    if (!MESSAGE_QUEUES.has(o.queue) || !(job.data as { ref?: unknown } | undefined)?.ref) return;
    const how = o.outcome === 'failed' ? 'failed' : o.outcome === 'skipped' && notConfigured((o.result as { reason?: string } | undefined)?.reason) ? 'skipped' : undefined;
    if (!how) return;
    const data = fallbackTrigger(o.queue, o.jobId, job.data, how);
    if (data) await addFallbackDecision(ctx, data);
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
