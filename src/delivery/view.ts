/**
 * The delivery feature's side for the HTTP API (README "Layout"): messages' delivery
 * statuses, and the suppression list the API reads and edits. No worker-side code.
 */
import type { DeliveryView } from '../contract/outcome.js';
import type { MessageQueue } from '../contract/queues.js';
import { droppedCounts, getDelivery, type DeliveryDb } from './status-store.js';

export { droppedCounts, getDelivery, type DeliveryDb, type DeliveryView };

/** Delivery statuses as the timeline and channel fallback read them. */
export const deliveryReader = (db: DeliveryDb) => ({
  get: (queue: MessageQueue, jobId: string): Promise<DeliveryView | null> => getDelivery(db, queue, jobId),
});
export { BadCursor, addSuppression, getSuppression, listSuppressions, normaliseRecipient, removeSuppression, type Suppression } from './suppressions.js';
