import type { DeliveryStatus, DeliveryView } from '../contract/outcome.js';
import type { MessageQueue } from '../contract/queues.js';

export type { DeliveryView, MessageQueue };

/**
 * Where the timeline and channel fallback read a send's delivery status: the delivery
 * status store, wired in by whoever builds the service. Read-only, so the HTTP server may
 * hold one too.
 */
export interface DeliveryReader {
  get(queue: MessageQueue, jobId: string): Promise<DeliveryView | null>;
}

/** No delivery events known: every send's status is its job's alone. */
export const noDelivery: DeliveryReader = { get: async () => null };

/** Statuses that say the message reached the attendee: they end a fallback chain. */
export const REACHED: ReadonlySet<DeliveryStatus> = new Set(['delivered', 'read', 'complained']);
/** Statuses that say it did not, and never will: they start a fallback (README "Channel fallback"). */
export const NOT_REACHED: ReadonlySet<DeliveryStatus> = new Set(['undelivered', 'failed', 'bounced']);
