import { createHash } from 'node:crypto';
import type { Job } from 'bullmq';
import { z } from 'zod';
import { maskRecipients } from '../logger.js';
import { MESSAGE_QUEUES } from '../contract/queues.js';
import type { DeliveryChange, JobOutcome } from '../contract/outcome.js';

/** Outbound events (README "Webhooks"). */
export const EVENT_TYPES = ['meeting.created', 'meeting.failed', 'message.sent', 'message.failed', 'message.delivered', 'message.undelivered'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface WebhookEvent {
  id: string;
  type: EventType;
  createdAt: string;
  data: Record<string, unknown>;
}

/** A `webhook` queue job (name `deliver`): written by the workers only. */
export const webhookJobPayload = z.object({
  event: z.object({
    id: z.string().regex(/^evt_[0-9a-f]{32}$/),
    type: z.enum(EVENT_TYPES),
    createdAt: z.string(),
    data: z.record(z.string(), z.unknown()),
  }),
});

/**
 * Deterministic: the same fact gives the same id, which is also the delivery job's id,
 * so a re-run of the job that caused it does not enqueue a second delivery.
 */
export const eventId = (...parts: string[]) =>
  'evt_' + createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);

const isMessageQueue = (q: string) => (MESSAGE_QUEUES as readonly string[]).includes(q);

function maskedTo(job: Job): string | undefined {
  const to = (job.data as { to?: unknown } | undefined)?.to;
  if (typeof to === 'string' || (Array.isArray(to) && to.every((t) => typeof t === 'string'))) return maskRecipients(to);
  return undefined;
}

/**
 * The event a job outcome stands for, if any. `failed` is the final failure only (the
 * runtime reports earlier ones as `retrying`). Data never carries message bodies, and
 * recipients are masked.
 */
export function eventFromOutcome(o: JobOutcome, job: Job, now = new Date()): WebhookEvent | undefined {
  const createdAt = now.toISOString();
  const result = o.result as Record<string, unknown> | undefined;
  const data = (job.data ?? {}) as Record<string, unknown>;
  const appointmentId = typeof data.appointmentId === 'string' ? data.appointmentId : undefined;

  if (o.queue === 'meeting') {
    if (o.outcome === 'completed' && job.name === 'create' && result?.status === 'created') {
      const visioMeetingId = String(result.visioMeetingId);
      return {
        // One meeting, one event: whichever job or re-run reports it.
        id: eventId('meeting.created', String(appointmentId), visioMeetingId),
        type: 'meeting.created',
        createdAt,
        data: { appointmentId, visioProvider: result.visioProvider, visioUrl: result.visioUrl, visioMeetingId },
      };
    }
    if (o.outcome === 'failed')
      return {
        id: eventId('meeting.failed', o.jobId, String(o.enqueuedAt)),
        type: 'meeting.failed',
        createdAt,
        data: {
          appointmentId,
          operation: job.name,
          ...(typeof data.visioProvider === 'string' && { visioProvider: data.visioProvider }),
          jobId: o.jobId,
          code: o.code,
          failedReason: o.failedReason,
        },
      };
    return undefined;
  }

  if (!isMessageQueue(o.queue)) return undefined;
  const to = maskedTo(job);
  if (o.outcome === 'completed' && result?.status === 'sent')
    return {
      id: eventId('message.sent', o.queue, o.jobId, String(o.enqueuedAt)),
      type: 'message.sent',
      createdAt,
      data: { queue: o.queue, jobId: o.jobId, provider: o.provider, messageId: result.messageId, ...(to && { to }) },
    };
  if (o.outcome === 'failed')
    return {
      id: eventId('message.failed', o.queue, o.jobId, String(o.enqueuedAt)),
      type: 'message.failed',
      createdAt,
      data: { queue: o.queue, jobId: o.jobId, provider: o.provider, code: o.code, failedReason: o.failedReason, ...(to && { to }) },
    };
  return undefined;
}

/**
 * The event a delivery status move stands for: `message.delivered` (delivered, read) or
 * `message.undelivered` (the negative ones); none for sent and delayed. One id per job
 * and status, so a re-told move enqueues no second delivery.
 */
export function eventFromDelivery(c: DeliveryChange, now = new Date()): WebhookEvent | undefined {
  const type: EventType | undefined =
    c.status === 'delivered' || c.status === 'read' ? 'message.delivered' : c.status === 'sent' || c.status === 'delayed' ? undefined : 'message.undelivered';
  if (!type) return undefined;
  return {
    id: eventId(type, c.queue, c.jobId, c.status),
    type,
    createdAt: now.toISOString(),
    data: {
      queue: c.queue,
      jobId: c.jobId,
      channel: c.queue,
      provider: c.provider,
      messageId: c.messageId,
      status: c.status,
      ...(c.errorCode && { errorCode: c.errorCode }),
      ...(c.ref && { appointmentId: c.ref.appointmentId, kind: c.ref.kind }),
      at: c.at,
    },
  };
}
