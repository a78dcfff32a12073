import type { ZodType } from 'zod';
import { InvalidPayloadError } from './errors.js';
import type { QueueName } from './queues.js';
import {
  appointment,
  appointmentCancelled,
  emailPayload,
  meetingCreatePayload,
  meetingDeletePayload,
  meetingUpdatePayload,
  smsPayload,
  whatsappPayload,
} from './schemas.js';

/** The jobs producers may add, by queue and job name (README "Queues and payloads"). */
export const PRODUCER_JOBS = {
  email: { send: emailPayload },
  sms: { send: smsPayload },
  whatsapp: { send: whatsappPayload },
  meeting: { create: meetingCreatePayload, update: meetingUpdatePayload, delete: meetingDeletePayload },
  appointment: { booked: appointment, rescheduled: appointment, cancelled: appointmentCancelled },
} as const satisfies Partial<Record<QueueName, Record<string, ZodType>>>;

export interface Issue {
  path: string;
  message: string;
}

export function issuesOf(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): Issue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/** Parses with `schema` or throws `InvalidPayloadError` naming every offending field. */
export function parsePayload<T>(schema: ZodType<T>, data: unknown): T {
  const r = schema.safeParse(data);
  if (!r.success) throw new InvalidPayloadError(issuesOf(r.error));
  return r.data;
}

/**
 * An appointment's new time lies ahead (README "Appointment lifecycle"). The producer checks
 * it to tell the caller at once; the worker checks again when it handles the event.
 */
export function assertAhead(scheduledAt: string, now: number): void {
  if (Date.parse(scheduledAt) <= now) throw new InvalidPayloadError([{ path: 'scheduledAt', message: 'must be in the future' }]);
}

/** A job name the queue does not know is bad input like any other: fail it, naming the field. */
export function expectName(job: { name: string }, ...names: string[]): void {
  if (!names.includes(job.name))
    throw new InvalidPayloadError([{ path: 'name', message: `unknown job name "${job.name}", expected ${names.join(' or ')}` }]);
}
