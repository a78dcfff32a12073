import type { FastifyRequest } from 'fastify';
import { InvalidPayloadError } from '../../contract/errors.js';
import { parsePayload } from '../../contract/registry.js';
import { appointment, appointmentCancelled, type Appointment } from '../../contract/schemas.js';
import {
  commonErrors,
  enqueuedResponse,
  errorResponse,
  idempotencyKey,
  remindersResponse,
  sendEnqueued,
  timelineResponse,
  type ApiRoute,
} from '../api.js';

const idParam = { id: 'the appointment id' };
const responses = {
  200: { description: 'replay (same event or Idempotency-Key): the first job, nothing added', schema: enqueuedResponse },
  202: { description: 'event enqueued', schema: enqueuedResponse },
  ...commonErrors,
};

const idOnly = appointmentCancelled.pick({ id: true });

/** The URL's appointment id, checked with the schema's own rule before anything reads Redis (400 naming `id`). */
const paramId = (req: FastifyRequest) => parsePayload(idOnly, { id: (req.params as { id: string }).id }).id;

function bodyObject(req: FastifyRequest): Record<string, unknown> {
  const body = req.body ?? {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new InvalidPayloadError([{ path: '', message: 'body must be a JSON object' }]);
  return body as Record<string, unknown>;
}

/** The URL names the appointment; a body that names another one is a mistake worth a 400. */
function withUrlId(req: FastifyRequest): Record<string, unknown> {
  const id = paramId(req);
  const b = bodyObject(req);
  if (b.id !== undefined && b.id !== id)
    throw new InvalidPayloadError([{ path: 'id', message: `must match the id in the URL ("${id}")` }]);
  return { ...b, id };
}

export const appointmentRoutes: ApiRoute[] = [
  {
    method: 'POST',
    url: '/v1/appointments',
    summary: 'An appointment was booked: meeting, confirmation and reminders follow',
    tag: 'appointments',
    idempotent: true,
    body: { name: 'Appointment', schema: appointment, required: true },
    responses,
    handler: async (req, reply, { client }) => {
      const e = await client.appointments.booked(req.body as Appointment, { idempotencyKey: idempotencyKey(req) });
      return sendEnqueued(reply, e);
    },
  },
  {
    method: 'PUT',
    url: '/v1/appointments/:id',
    summary: 'An appointment was rescheduled: reminders replaced, meeting moved, attendee told',
    tag: 'appointments',
    idempotent: true,
    params: idParam,
    body: { name: 'Appointment', schema: appointment, required: true },
    responses,
    handler: async (req, reply, { client }) => {
      const body = withUrlId(req) as Appointment;
      const e = await client.appointments.rescheduled(body, { idempotencyKey: idempotencyKey(req) });
      return sendEnqueued(reply, e);
    },
  },
  {
    method: 'DELETE',
    url: '/v1/appointments/:id',
    summary: 'An appointment was cancelled: reminders removed, meeting deleted, attendee told',
    tag: 'appointments',
    idempotent: true,
    params: idParam,
    body: { name: 'AppointmentCancellation', schema: appointmentCancelled.omit({ id: true }), required: false },
    responses,
    handler: async (req, reply, { client }) => {
      const body = withUrlId(req);
      const e = await client.appointments.cancelled(body.id as string, body.reason as string | undefined, {
        idempotencyKey: idempotencyKey(req),
      });
      return sendEnqueued(reply, e);
    },
  },
  {
    method: 'GET',
    url: '/v1/appointments/:id/reminders',
    summary: 'The pending reminders of an appointment and when they fire',
    tag: 'appointments',
    params: idParam,
    responses: {
      200: { description: 'pending reminders, soonest first (empty for an unknown or cancelled appointment)', schema: remindersResponse },
      400: { description: 'the id is not an appointment id', schema: commonErrors[400].schema },
      401: commonErrors[401],
      503: commonErrors[503],
    },
    handler: async (req, reply, { client }) => {
      const id = paramId(req);
      return reply.send({ appointmentId: id, reminders: await client.appointments.reminders(id) });
    },
  },
  {
    method: 'GET',
    url: '/v1/appointments/:id',
    summary: 'The appointment timeline: latest state, meeting, pending reminders, every message with its state, delivery and fallback',
    tag: 'appointments',
    params: idParam,
    responses: {
      200: { description: 'the timeline (README "Appointment timeline")', schema: timelineResponse },
      401: commonErrors[401],
      404: { description: 'unknown appointment, or expired (kept until a day after it ends)', schema: errorResponse },
      503: commonErrors[503],
    },
    handler: async (req, reply, { client }) => {
      const id = paramId(req);
      const timeline = await client.appointments.get(id);
      if (!timeline) return reply.code(404).send({ error: 'not_found', message: `no appointment ${id}` });
      return reply.send(timeline);
    },
  },
];
