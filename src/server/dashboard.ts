import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import basicAuth from '@fastify/basic-auth';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { RedisClient } from '../redis.js';
import { safeEqual } from './auth.js';
import { JOB_ID_RULE, classifyJobId } from './params.js';
import { pingRedis } from './ping.js';

export const DASHBOARD_PATH = '/admin/queues';

type DashboardConfig = NonNullable<Config['http']['dashboard']>;

/** No page of the board may be framed (clickjacking its buttons); both headers, for old and new browsers. */
export const FRAME_HEADERS = { 'x-frame-options': 'DENY', 'content-security-policy': "frame-ancestors 'none'" } as const;

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A browser sends a cross-site POST with a form or text content type, or none, without asking
 * (basic-auth credentials included); `application/json` it only sends after a CORS preflight,
 * which this server never grants. So every change must say `application/json`.
 */
function isJson(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/**
 * The board's own buttons send body-less PUTs with no content type (axios drops it when there
 * is no data). This line, put in the board's page before its scripts, gives those requests
 * `Content-Type: application/json` so they pass the rule above; requests with a body keep theirs.
 */
export const BOARD_JSON_SHIM =
  '<script>(function(){var P=XMLHttpRequest.prototype,open=P.open,send=P.send;' +
  'P.open=function(m){this.__method=String(m).toUpperCase();return open.apply(this,arguments)};' +
  'P.send=function(b){if(this.__method!=="GET"&&this.__method!=="HEAD"&&b==null)this.setRequestHeader("Content-Type","application/json");return send.apply(this,arguments)}})();</script>';

/**
 * Bull Board for every queue, behind basic auth, in a plugin scope of its own so the auth
 * hook covers the board's pages, assets and API and nothing else. Read-only mode hides and
 * refuses retry/remove/clean. Not mounted at all without credentials (the caller checks).
 */
export async function mountDashboard(
  app: FastifyInstance,
  dashboard: DashboardConfig,
  queues: readonly Queue[],
  /** The queues' connection: the board's API waits on it forever when Redis never came up. */
  connection: RedisClient,
): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: dashboard.readOnly })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Notifications' } },
  });
  await app.register(async (scope) => {
    // First, so that every answer carries them, refusals included.
    scope.addHook('onRequest', async (_req, reply) => {
      reply.headers(FRAME_HEADERS);
    });
    await scope.register(basicAuth, {
      authenticate: { realm: 'notification dashboard' },
      // Both halves are always compared, so the answer time says nothing about which was wrong.
      validate: async (user, password) => {
        const ok = Number(safeEqual(user, dashboard.user)) & Number(safeEqual(password, dashboard.password));
        if (!ok) return new Error('unauthorized');
      },
    });
    // Answer a refusal here, in our JSON shape: an error thrown from the hook would reach the
    // board's own error handler, which words every failure as an internal error.
    const check = scope.basicAuth as (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void;
    scope.addHook('onRequest', (req, reply, done) =>
      check(req, reply, (err) => (err ? void reply.code(401).send({ error: 'unauthorized' }) : done())),
    );
    scope.addHook('onRequest', async (req, reply) => {
      if (WRITE_METHODS.has(req.method) && !isJson(req.headers['content-type']))
        return reply.code(415).send({ error: 'unsupported_media_type', message: 'dashboard changes need Content-Type: application/json' });
    });
    scope.addHook('onSend', async (_req, reply, payload) => {
      const type = String(reply.getHeader('content-type') ?? '');
      if (typeof payload !== 'string' || !type.startsWith('text/html')) return payload;
      return payload.replace('<script', `${BOARD_JSON_SHIM}<script`);
    });
    // The board's job routes (`…/:queueName/:jobId/…`) pass the id straight to BullMQ: `meta`
    // would read the queue's own hash, and its "clean" would delete it.
    scope.addHook('preHandler', async (req, reply) => {
      const jobId = (req.params as { jobId?: unknown } | undefined)?.jobId;
      if (typeof jobId !== 'string') return;
      const kind = classifyJobId(jobId);
      if (kind === 'reserved') return reply.code(404).send({ error: 'not_found', message: `no job ${jobId}` });
      if (kind === 'malformed') return reply.code(400).send({ error: 'bad_request', message: `jobId: ${JOB_ID_RULE}` });
    });
    // A quick 503 instead of a request that hangs until Redis returns.
    scope.addHook('preHandler', async (req, reply) => {
      if (!req.url.startsWith(`${DASHBOARD_PATH}/api/`)) return;
      try {
        await pingRedis(connection, 2_000);
      } catch {
        return reply.code(503).header('retry-after', '5').send({ error: 'redis_unavailable', message: 'Redis is not reachable' });
      }
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
  });
}
