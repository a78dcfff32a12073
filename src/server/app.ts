import { createServer, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { NotificationClient } from '../producer/client.js';
import { QUEUES } from '../contract/queues.js';
import { bearerAuth } from './auth.js';
import { mountDashboard } from './dashboard.js';
import { INVALID_JSON, installErrorHandlers } from './errors.js';
import { metricsFor, type ServiceMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { registerOpsRoutes } from './routes/health.js';
import { API_ROUTES } from './routes/index.js';
import { registerProviderRoutes } from './routes/providers.js';

export interface AppDeps {
  /** The producer: validates and enqueues; its fail-fast connection also serves probes and lookups. */
  client: NotificationClient;
  /** Shared with the workers of the same process (`npm start`) so their outcomes are counted. */
  metrics?: ServiceMetrics;
  logger?: Logger;
  /** How long a request may take to arrive, headers and body (README "HTTP API"); tests shorten it. */
  requestTimeoutMs?: number;
}

/** Headers and body must both have arrived within this, else 408 and the connection is closed. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Node's own limits, set on every connection before Fastify routes anything, so they hold
 * for every route, authenticated or not, known or not: `headersTimeout` for the headers,
 * `requestTimeout` for the whole request. Node checks them every `connectionsCheckingInterval`
 * (30 s by default, which would double the wait), here a thirtieth of the limit.
 */
function serverWithTimeouts(timeoutMs: number) {
  return (handler: Parameters<typeof createServer>[1]) =>
    createServer(
      {
        requestTimeout: timeoutMs,
        headersTimeout: timeoutMs,
        connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.floor(timeoutMs / 30))),
        // Fastify's default: longer than the idle timeouts of common load balancers.
        keepAliveTimeout: 72_000,
      },
      handler,
    );
}

/**
 * A request that broke at the HTTP level (timed out, malformed, headers too large) gets the
 * API's JSON shape and a closed connection. No response yet on that socket is the only case
 * in which one can still be written.
 */
function clientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, error] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request_timeout'] : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'headers_too_large'] : [400, 'bad_request'];
  const answered = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (socket.writable && !answered) {
    const body = JSON.stringify({ error, message: status === 408 ? 'the request did not arrive in time' : STATUS_CODES[status] });
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/** Largest request body: an email of 256 KiB html + 256 KiB text, JSON-escaped, fits. */
export const BODY_LIMIT = 1024 * 1024;

const QUIET = /^\/(healthz|readyz|metrics)\b/;
const PROVIDER_EVENTS = /^\/providers\//;

/** The HTTP server (README "HTTP API"), not yet listening (tests use `app.inject`). */
export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const { client } = deps;
  const metrics = deps.metrics ?? metricsFor(config, client);
  // Typed as Fastify's base logger so the instance keeps Fastify's default generics.
  const app: FastifyInstance = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: BODY_LIMIT,
    // Past Fastify's 100 (a 414 before any check): job ids go to 255, the schema decides.
    routerOptions: { maxParamLength: 256 },
    serverFactory: serverWithTimeouts(deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS),
    clientErrorHandler: clientError,
    // One line per request from the hook below, without probe noise.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });

  // An empty JSON body (a DELETE sent with a JSON content type) is no body, not an error.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(Object.assign(new Error((err as Error).message), { statusCode: 400, code: INVALID_JSON }), undefined);
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    const line = { method: req.method, url: req.routeOptions.url ?? req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    // Probes, and provider events that went through (many per message): debug; refusals stay visible.
    if (QUIET.test(req.url) || (PROVIDER_EVENTS.test(req.url) && reply.statusCode < 300)) req.log.debug(line, 'request');
    else req.log.info(line, 'request');
  });

  installErrorHandlers(app);
  const document = openApiDocument(API_ROUTES);
  registerOpsRoutes(app, { connection: client.connection, metrics, openapi: () => document });

  await registerProviderRoutes(app, { config, client, metrics, bodyLimit: BODY_LIMIT });

  await app.register(async (v1) => {
    v1.addHook('onRequest', bearerAuth(config.http.apiTokens));
    for (const r of API_ROUTES)
      v1.route({ method: r.method, url: r.url, ...(r.bodyLimit && { bodyLimit: r.bodyLimit }), handler: (req, reply) => r.handler(req, reply, { client, config }) });
  });

  if (config.http.dashboard)
    await mountDashboard(app, config.http.dashboard, QUEUES.map((q) => client.queue(q)), client.connection);

  return app;
}
