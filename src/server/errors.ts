import type { FastifyError, FastifyInstance } from 'fastify';
import { InvalidPayloadError } from '../contract/errors.js';
import { IdempotencyKeyReusedError, RedisUnavailableError } from '../producer/types.js';

/** Set by our JSON body parser (app.ts) on a body that does not parse. */
export const INVALID_JSON = 'NOTIF_INVALID_JSON';

/** Snake-case names for the HTTP statuses Fastify itself may raise (body too large, bad media type...). */
const NAMES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  409: 'conflict',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

/**
 * Redis answered but refused: full under `noeviction` (OOM), a read-only replica, loading,
 * no master. Nothing the caller sent was wrong, and a retry later may succeed.
 */
const REDIS_REFUSAL = /^(OOM|READONLY|MASTERDOWN|LOADING|MISCONF|NOREPLICAS|CLUSTERDOWN|TRYAGAIN)\b/;
const isRedisRefusal = (err: Error) => err.name === 'ReplyError' && REDIS_REFUSAL.test(err.message);

/**
 * Every error leaves as JSON `{error, message?}`, never with a stack trace: validation
 * problems in the contract's shape, Redis outages as 503, anything unexpected as a bare 500
 * (logged here with its stack, for the operator only).
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof InvalidPayloadError)
      return reply.code(400).send({ error: 'validation_failed', issues: err.issues });
    if (err instanceof IdempotencyKeyReusedError)
      return reply.code(409).send({ error: 'idempotency_key_reused', message: err.message });
    if (err instanceof RedisUnavailableError) {
      req.log.warn({ err: err.message }, 'request refused: Redis unavailable');
      return reply.code(503).header('retry-after', '5').send({ error: 'redis_unavailable', message: 'Redis is not reachable; nothing was enqueued, retry later' });
    }
    if (isRedisRefusal(err)) {
      // Logged whole for the operator (Redis needs attention), through the logger's `err` serializer: no payload.
      req.log.error({ err }, 'request refused: Redis refused the write');
      return reply.code(503).header('retry-after', '5').send({ error: 'redis_unavailable', message: 'Redis refused the request (full or read-only); retry later' });
    }
    // A malformed JSON body is an invalid body like any other: same shape as a schema failure.
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === INVALID_JSON)
      return reply.code(400).send({ error: 'validation_failed', issues: [{ path: '', message: `body is not valid JSON: ${err.message}` }] });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      req.log.error({ err }, 'request failed');
      return reply.code(500).send({ error: 'internal_error', message: 'internal error; see the server log' });
    }
    return reply.code(status).send({ error: NAMES[status] ?? 'bad_request', message: err.message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));
}
