import type { FastifyReply, FastifyRequest } from 'fastify';
import { z, type ZodType } from 'zod';
import type { Config } from '../config.js';
import type { NotificationClient } from '../producer/client.js';
import { validateIdempotencyKey } from '../producer/idempotency.js';
import { QUEUES } from '../contract/queues.js';
import { appointment, MESSAGE_KINDS } from '../contract/schemas.js';
import { DELIVERY_STATUSES } from '../contract/outcome.js';

/** What route handlers need; built once per server. */
export interface ApiDeps {
  client: NotificationClient;
  config: Config;
}

export interface NamedSchema {
  /** Component name in the OpenAPI document. */
  name: string;
  schema: ZodType;
}

/**
 * One /v1 route: the handler plus what the OpenAPI document says about it. Keeping both in
 * one object is what keeps the document true: it is generated from this list, not written.
 */
/** POST /v1/emails: 7 MiB of attachments, base64 (x4/3) and the JSON around them, fit. */
export const EMAIL_BODY_LIMIT = 10 * 1024 * 1024;

export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Fastify syntax: /v1/appointments/:id */
  url: string;
  summary: string;
  tag: string;
  body?: NamedSchema & { required: boolean };
  /** Path parameters and what they are. */
  params?: Record<string, string>;
  idempotent?: boolean;
  /** Largest request body, when not the server's BODY_LIMIT (emails with attachments). */
  bodyLimit?: number;
  responses: Record<number, { description: string; schema?: NamedSchema }>;
  handler(req: FastifyRequest, reply: FastifyReply, deps: ApiDeps): Promise<unknown>;
}

// Response shapes, in zod so the OpenAPI document can describe them like the bodies.
export const enqueuedResponse: NamedSchema = {
  name: 'Enqueued',
  schema: z.object({ id: z.string(), queue: z.enum(QUEUES), duplicate: z.boolean() }),
};

export const errorResponse: NamedSchema = {
  name: 'Error',
  schema: z.object({ error: z.string(), message: z.string().optional() }),
};

export const validationErrorResponse: NamedSchema = {
  name: 'ValidationError',
  schema: z.object({
    error: z.literal('validation_failed'),
    issues: z.array(z.object({ path: z.string(), message: z.string() })),
  }),
};

export const jobResponse: NamedSchema = {
  name: 'Job',
  schema: z.object({
    id: z.string(),
    queue: z.enum(QUEUES),
    name: z.string(),
    state: z.enum(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized', 'waiting-children', 'unknown']),
    attemptsMade: z.number().int(),
    returnvalue: z.unknown().nullable(),
    failedReason: z.string().nullable(),
    timestamp: z.number().int(),
    finishedOn: z.number().int().nullable(),
    /** Message jobs only (README "Delivery status"). */
    delivery: z
      .object({
        status: z.enum(DELIVERY_STATUSES),
        at: z.string(),
        errorCode: z.string().optional(),
        history: z.array(z.object({ status: z.enum(DELIVERY_STATUSES), at: z.string() })),
      })
      .nullable()
      .optional(),
  }),
};

export const remindersResponse: NamedSchema = {
  name: 'Reminders',
  schema: z.object({
    appointmentId: z.string(),
    reminders: z.array(z.looseObject({ id: z.string(), name: z.string(), fireAt: z.string() })),
  }),
};

const jobState = z.enum(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized', 'waiting-children', 'unknown']);

export const timelineResponse: NamedSchema = {
  name: 'AppointmentTimeline',
  schema: z.object({
    id: z.string(),
    status: z.enum(['booked', 'cancelled']),
    version: z.number().int(),
    appointment,
    meeting: z.object({ visioProvider: z.enum(['ZOOM', 'GOOGLE_MEET']), visioUrl: z.string(), visioMeetingId: z.string() }).nullable(),
    reminders: z.array(z.object({ id: z.string(), name: z.enum(['J-1', 'H-1']), fireAt: z.string(), state: jobState })),
    messages: z.array(
      z.object({
        kind: z.enum(MESSAGE_KINDS),
        version: z.number().int(),
        channel: z.enum(['email', 'sms', 'whatsapp']),
        queue: z.enum(['email', 'sms', 'whatsapp']),
        jobId: z.string(),
        recipient: z.enum(['attendee', 'host']),
        state: jobState,
        messageId: z.string().nullable(),
        failedReason: z.string().nullable(),
        skippedReason: z.string().nullable(),
        delivery: z.object({ status: z.enum(DELIVERY_STATUSES), at: z.string(), errorCode: z.string().optional() }).nullable(),
        fallbackOf: z.string().nullable(),
      }),
    ),
  }),
};

/** Answers every enqueueing route shares, so the document lists them once per route. */
export const commonErrors = {
  400: { description: 'invalid body or Idempotency-Key: nothing was enqueued', schema: validationErrorResponse },
  401: { description: 'missing or unknown bearer token', schema: errorResponse },
  409: { description: 'Idempotency-Key already used within 24 h with another body: nothing was enqueued', schema: errorResponse },
  503: { description: 'API disabled (no API_TOKENS) or Redis unreachable', schema: errorResponse },
} as const;

/** 202 for a new job, 200 when an Idempotency-Key found an earlier one. */
export function sendEnqueued(reply: FastifyReply, e: { id: string; queue: string; duplicate: boolean }) {
  return reply.code(e.duplicate ? 200 : 202).send({ id: e.id, queue: e.queue, duplicate: e.duplicate });
}

/** The Idempotency-Key header: absent, or 1-255 printable ASCII characters (400 naming it otherwise). */
export function idempotencyKey(req: FastifyRequest): string | undefined {
  const k = req.headers['idempotency-key'];
  if (k === undefined) return undefined;
  validateIdempotencyKey(k, 'Idempotency-Key');
  return k;
}
