import type { Job } from 'bullmq';
import { DELIVERY_JOB_RETENTION, deliveryJobPayload } from '../contract/delivery.js';
import { MESSAGE_QUEUES, type MessageQueue } from '../contract/queues.js';
import { expectName, parsePayload } from '../contract/registry.js';
import type { MessageRef } from '../contract/schemas.js';
import type { Feature, OutcomeListener, ServiceContext } from '../runtime/types.js';
import { applyEvents } from './apply.js';
import { countDropped, recordSend, type DeliveryDb } from './status-store.js';

const isMessageQueue = (q: string): q is MessageQueue => (MESSAGE_QUEUES as readonly string[]).includes(q);

/** The providers whose delivery events can reach this deployment (README "Delivery status"). */
function providersWithEvents({ delivery }: ServiceContext['config']): Set<string> {
  return new Set([
    ...(delivery.publicUrl ? ['twilio'] : []),
    ...(delivery.resendWebhookSecret ? ['resend'] : []),
    ...(delivery.sendgridWebhookPublicKey ? ['sendgrid'] : []),
  ]);
}

/**
 * Records each successful send's message id -> job (one SET, expiring with the job), so
 * that the provider's events find the job. Runs in every worker process, for the providers
 * whose events can arrive: without PUBLIC_URL or a webhook secret nothing would ever read
 * the mapping, and a send costs no extra Redis write.
 */
function sendRecorder(ctx: ServiceContext, db: DeliveryDb, providers: Set<string>): OutcomeListener {
  return async (o, job) => {
    if (!isMessageQueue(o.queue) || (o.outcome !== 'completed' && o.outcome !== 'replayed')) return;
    const r = o.result as { status?: string; provider?: string; messageId?: unknown } | undefined;
    if (r?.status !== 'sent' || typeof r.messageId !== 'string' || !r.messageId || !r.provider || !providers.has(r.provider)) return;
    try {
      const hasRef = typeof (job.data as { ref?: unknown } | undefined)?.ref === 'object';
      await recordSend(db, r.provider, r.messageId, o.queue, o.jobId, ctx.config.jobs.keepCompletedSeconds, hasRef);
    } catch (err) {
      ctx.logger.error({ jobId: o.jobId, queue: o.queue, err: { message: (err as Error).message } }, 'message id not recorded: its delivery events will be dropped');
    }
  };
}

const providerOf = (job: Job) => {
  const e = (job.data as { events?: { provider?: unknown }[] } | undefined)?.events?.[0];
  return typeof e?.provider === 'string' ? e.provider : 'twilio';
};

/** Provider delivery events in (the `delivery` queue), statuses and the suppression list. */
export const delivery: Feature = {
  name: 'delivery',
  listeners: (ctx) => {
    const providers = providersWithEvents(ctx.config);
    return providers.size === 0 ? [] : [sendRecorder(ctx, { connection: ctx.connection, redis: ctx.config.redis }, providers)];
  },
  handlers: (ctx) => {
    const db: DeliveryDb = { connection: ctx.connection, redis: ctx.config.redis };
    const log = ctx.logger.child({ queue: 'delivery' });
    return [
      {
        queue: 'delivery',
        provider: providerOf,
        run: async (job) => {
          expectName(job, 'event');
          const payload = parsePayload(deliveryJobPayload, job.data);
          return applyEvents(payload, {
            db,
            rerun: job.attemptsStarted > 1 || job.attemptsMade > 0,
            logger: log,
            tell: ctx.tellDelivery,
            refOf: async (queue, jobId) => {
              const m = await ctx.queue(queue).getJob(jobId);
              return (m?.data as { ref?: MessageRef } | undefined)?.ref;
            },
            dropped: (provider, n) => countDropped(db, provider, n),
            // A deterministic id: a re-run of this job does not put the events back twice.
            later: async (next, delayMs) => {
              const base = String(job.id).replace(/-r\d+$/, '');
              await ctx.queue('delivery').add('event', next, {
                jobId: `${base}-r${next.retry}`,
                delay: delayMs,
                removeOnComplete: DELIVERY_JOB_RETENTION.removeOnComplete,
                removeOnFail: { age: ctx.config.jobs.keepFailedSeconds },
              });
            },
          });
        },
      },
    ];
  },
};
