import { z } from 'zod';
import { DELIVERY_STATUSES } from './outcome.js';

/**
 * Provider events, normalised (README "Delivery status"): what the HTTP server's provider
 * routes put in the internal `delivery` queue after checking the signature, and what the
 * delivery feature applies. Vendor formats are parsed in src/providers/*-events.ts.
 */
export const DELIVERY_PROVIDERS = ['twilio', 'resend', 'sendgrid'] as const;
export type DeliveryProvider = (typeof DELIVERY_PROVIDERS)[number];

export const SUPPRESSION_CHANNELS = ['email', 'sms', 'whatsapp'] as const;
export type SuppressionChannel = (typeof SUPPRESSION_CHANNELS)[number];

export const SUPPRESSION_REASONS = ['bounced', 'complained', 'opted_out', 'manual'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/** A message's status moved at the provider. */
export const statusEvent = z.object({
  type: z.literal('status'),
  provider: z.enum(DELIVERY_PROVIDERS),
  /** As the send returned it (Twilio SID, Resend id, SendGrid X-Message-Id). */
  messageId: z.string().min(1).max(200),
  status: z.enum(DELIVERY_STATUSES),
  /** The vendor's error code, e.g. Twilio `63016`, SendGrid's SMTP status `5.1.1`. */
  errorCode: z.string().max(64).optional(),
  /** ISO 8601: when the provider says it happened (or when it reached us). */
  at: z.string(),
  /** A recipient to put on the suppression list with this reason (hard bounce, complaint, 21610). */
  suppress: z
    .object({ channel: z.enum(SUPPRESSION_CHANNELS), recipient: z.string().min(1).max(320), reason: z.enum(SUPPRESSION_REASONS) })
    .optional(),
});
export type StatusEvent = z.infer<typeof statusEvent>;

/** An inbound message that opts its sender out (STOP...) or back in (START...). */
export const optEvent = z.object({
  type: z.enum(['opt_out', 'opt_in']),
  channel: z.enum(['sms', 'whatsapp']),
  /** E.164, without `whatsapp:`. */
  recipient: z.string().min(1).max(32),
  at: z.string(),
});
export type OptEvent = z.infer<typeof optEvent>;

export const deliveryEvent = z.union([statusEvent, optEvent]);
export type DeliveryEvent = z.infer<typeof deliveryEvent>;

/** A `delivery` queue job (name `event`): the events of one provider request, in its order. */
export const deliveryJobPayload = z.object({
  events: z.array(deliveryEvent).min(1).max(10_000),
  /** When the server accepted them (ms): an event for an unknown message id is kept from here on. */
  receivedAt: z.number().int(),
  /** How many times the events for unknown message ids were put back already. */
  retry: z.number().int().min(0).default(0),
});
export type DeliveryJobPayload = z.infer<typeof deliveryJobPayload>;

/** Delivery jobs are many and small: only the last completed ones are kept (for the dashboard). */
export const DELIVERY_JOB_RETENTION = { removeOnComplete: { count: 1000 } } as const;
