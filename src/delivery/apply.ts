import type { DeliveryJobPayload, StatusEvent } from '../contract/delivery.js';
import type { DeliveryChange } from '../contract/outcome.js';
import type { MessageQueue } from '../contract/queues.js';
import type { MessageRef } from '../contract/schemas.js';
import type { Logger } from '../logger.js';
import { applyStatuses, type DeliveryDb } from './status-store.js';
import { addSuppression, liftOptOut } from './suppressions.js';

/**
 * When events for a message id not recorded yet are looked at again (a status callback can
 * overtake the worker that records the send): 1 s, then ever longer, 651 s in all, so each
 * is kept more than 10 minutes with nine retries at most, then counted and dropped.
 */
export const UNKNOWN_RETRY_DELAYS_MS = [1_000, 5_000, 15_000, 30_000, 60_000, 120_000, 180_000, 240_000] as const;

export interface ApplyDeps {
  db: DeliveryDb;
  /**
   * This job ran before (stalled, or retried): its events already applied are told again,
   * since that run may have died between the move and the tell; the listeners' follow-up
   * jobs have deterministic ids, so a tell that did happen adds nothing the second time.
   */
  rerun?: boolean;
  /** The message job's `data.ref`, if any (read only when a status moves). */
  refOf(queue: MessageQueue, jobId: string): Promise<MessageRef | undefined>;
  tell(change: DeliveryChange): Promise<void>;
  /** Puts events for unknown message ids back, to be looked at after `delayMs`. */
  later(payload: DeliveryJobPayload, delayMs: number): Promise<void>;
  /** Counts events given up on (their message id was never recorded), per provider. */
  dropped(provider: string, n: number): Promise<void>;
  logger: Logger;
}

export interface ApplyResult {
  status: 'applied';
  moved: number;
  unchanged: number;
  pending: number;
  dropped: number;
}

/** Applies one provider request's events in their order (README "Delivery status"). */
export async function applyEvents(payload: DeliveryJobPayload, deps: ApplyDeps): Promise<ApplyResult> {
  const { db } = deps;
  const pending: StatusEvent[] = [];
  let moved = 0;
  let unchanged = 0;
  // Opt-ins and -outs and the suppressions events carry do not wait for a message: a bounce
  // is a bounce, known send or not. They touch other keys than the statuses, in order.
  const statuses: StatusEvent[] = [];
  for (const e of payload.events) {
    if (e.type !== 'status') {
      if (e.type === 'opt_out') await addSuppression(db, e.channel, e.recipient, 'opted_out', { now: new Date(e.at) });
      else await liftOptOut(db, e.channel, e.recipient);
      continue;
    }
    if (e.suppress) await addSuppression(db, e.suppress.channel, e.suppress.recipient, e.suppress.reason, { now: new Date(e.at) });
    statuses.push(e);
  }
  const results = statuses.length > 0 ? await applyStatuses(db, statuses) : [];
  for (const [i, job] of results.entries()) {
    const e = statuses[i]!;
    if (!job.found) {
      const { suppress: _done, ...rest } = e;
      pending.push(rest);
      continue;
    }
    if (!job.moved && !(deps.rerun && job.again)) {
      unchanged += 1;
      continue;
    }
    if (job.moved) moved += 1;
    else unchanged += 1;
    const ref = job.hasRef ? await deps.refOf(job.queue, job.jobId).catch(() => undefined) : undefined;
    const change: DeliveryChange = {
      queue: job.queue,
      jobId: job.jobId,
      provider: e.provider,
      messageId: e.messageId,
      status: e.status,
      ...(e.errorCode && { errorCode: e.errorCode }),
      ...(ref && { ref }),
      at: e.at,
    };
    // Told once, right after the move; a listener's failure is its own (logged), never a re-apply.
    try {
      await deps.tell(change);
    } catch (err) {
      deps.logger.error({ jobId: job.jobId, queue: job.queue, status: e.status, err: { message: (err as Error).message } }, 'delivery listener failed');
    }
  }
  let dropped = 0;
  if (pending.length > 0) {
    const delay = UNKNOWN_RETRY_DELAYS_MS[payload.retry];
    if (delay === undefined) {
      dropped = pending.length;
      const perProvider = new Map<string, number>();
      for (const p of pending) perProvider.set(p.provider, (perProvider.get(p.provider) ?? 0) + 1);
      deps.logger.warn({ dropped, providers: [...perProvider.keys()] }, 'delivery events for unknown message ids dropped after 10 minutes');
      for (const [provider, n] of perProvider) await deps.dropped(provider, n);
    } else await deps.later({ events: pending, receivedAt: payload.receivedAt, retry: payload.retry + 1 }, delay);
  }
  return { status: 'applied', moved, unchanged, pending: pending.length - dropped, dropped };
}
