import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SUPPRESSION_CHANNELS, SUPPRESSION_REASONS, type SuppressionChannel } from '../../contract/delivery.js';
import {
  BadCursor,
  addSuppression,
  getSuppression,
  listSuppressions,
  normaliseRecipient,
  removeSuppression,
} from '../../delivery/view.js';
import { commonErrors, errorResponse, validationErrorResponse, type ApiDeps, type ApiRoute, type NamedSchema } from '../api.js';

const suppression = z.object({
  channel: z.enum(SUPPRESSION_CHANNELS),
  recipient: z.string(),
  reason: z.enum(SUPPRESSION_REASONS),
  since: z.string(),
});

const suppressionResponse: NamedSchema = { name: 'Suppression', schema: suppression };
const suppressionPage: NamedSchema = {
  name: 'SuppressionPage',
  schema: z.object({ items: z.array(suppression), nextCursor: z.string().nullable() }),
};

const isChannel = (c: unknown): c is SuppressionChannel => (SUPPRESSION_CHANNELS as readonly unknown[]).includes(c);

const invalid = (reply: FastifyReply, path: string, message: string) =>
  reply.code(400).send({ error: 'validation_failed', issues: [{ path, message }] });

const dbOf = ({ client, config }: ApiDeps) => ({ connection: client.connection, redis: config.redis });

/** `:channel/:recipient`, checked and normalised (E.164 without whatsapp:, lower-case email), or a 400 sent. */
function target(req: FastifyRequest, reply: FastifyReply): { channel: SuppressionChannel; recipient: string } | undefined {
  const { channel, recipient } = req.params as { channel: string; recipient: string };
  if (!isChannel(channel)) return void invalid(reply, 'channel', `expected ${SUPPRESSION_CHANNELS.join(', ')}`);
  const r = normaliseRecipient(channel, recipient);
  if (!r) return void invalid(reply, 'recipient', channel === 'email' ? 'expected an email address' : 'expected an E.164 number, URL-encoded (%2B33612345678)');
  return { channel, recipient: r };
}

const params = {
  channel: 'email, sms or whatsapp',
  recipient: 'E.164 number (URL-encoded: %2B33612345678) or email address',
};

const notFound = { description: 'not on the list', schema: errorResponse };

export const suppressionRoutes: ApiRoute[] = [
  {
    method: 'GET',
    url: '/v1/suppressions',
    summary: 'The suppression list, a page at a time (?channel=, ?cursor=)',
    tag: 'suppressions',
    responses: {
      200: { description: 'a page; nextCursor is null on the last one', schema: suppressionPage },
      400: { description: 'unknown channel or cursor', schema: validationErrorResponse },
      401: commonErrors[401],
      503: commonErrors[503],
    },
    handler: async (req, reply, deps) => {
      const q = req.query as { channel?: string; cursor?: string };
      if (q.channel !== undefined && !isChannel(q.channel)) return invalid(reply, 'channel', `expected ${SUPPRESSION_CHANNELS.join(', ')}`);
      try {
        return reply.send(await deps.client.withRedis(() => listSuppressions(dbOf(deps), { channel: q.channel as SuppressionChannel | undefined, cursor: q.cursor })));
      } catch (err) {
        if (err instanceof BadCursor) return invalid(reply, 'cursor', err.message);
        throw err;
      }
    },
  },
  {
    method: 'GET',
    url: '/v1/suppressions/:channel/:recipient',
    summary: 'One suppression entry',
    tag: 'suppressions',
    params,
    responses: { 200: { description: 'the entry', schema: suppressionResponse }, 400: commonErrors[400], 401: commonErrors[401], 404: notFound, 503: commonErrors[503] },
    handler: async (req, reply, deps) => {
      const t = target(req, reply);
      if (!t) return reply;
      const found = await deps.client.withRedis(() => getSuppression(dbOf(deps), t.channel, t.recipient));
      return found ? reply.send(found) : reply.code(404).send({ error: 'not_found', message: 'not suppressed' });
    },
  },
  {
    method: 'PUT',
    url: '/v1/suppressions/:channel/:recipient',
    summary: 'Suppress a recipient by hand (reason manual); any body is ignored',
    tag: 'suppressions',
    params,
    responses: {
      200: { description: 'it was on the list: now with reason manual', schema: suppressionResponse },
      201: { description: 'added', schema: suppressionResponse },
      400: commonErrors[400],
      401: commonErrors[401],
      503: commonErrors[503],
    },
    handler: async (req, reply, deps) => {
      const t = target(req, reply);
      if (!t) return reply;
      const db = dbOf(deps);
      const created = await deps.client.withRedis(() => addSuppression(db, t.channel, t.recipient, 'manual', { replace: true }));
      const entry = await deps.client.withRedis(() => getSuppression(db, t.channel, t.recipient));
      return reply.code(created ? 201 : 200).send(entry);
    },
  },
  {
    method: 'DELETE',
    url: '/v1/suppressions/:channel/:recipient',
    summary: 'Take a recipient off the list',
    tag: 'suppressions',
    params,
    responses: { 204: { description: 'removed' }, 400: commonErrors[400], 401: commonErrors[401], 404: notFound, 503: commonErrors[503] },
    handler: async (req, reply, deps) => {
      const t = target(req, reply);
      if (!t) return reply;
      const removed = await deps.client.withRedis(() => removeSuppression(dbOf(deps), t.channel, t.recipient));
      return removed ? reply.code(204).send() : reply.code(404).send({ error: 'not_found', message: 'not suppressed' });
    },
  },
];
