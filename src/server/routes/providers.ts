import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { DELIVERY_JOB_RETENTION, deliveryJobPayload, type DeliveryEvent, type DeliveryProvider } from '../../contract/delivery.js';
import { retryPolicy } from '../../contract/retry.js';
import type { NotificationClient } from '../../producer/client.js';
import { resendVerifier, parseResendEvent } from '../../providers/resend-events.js';
import { SENDGRID_SIGNATURE_HEADER, SENDGRID_TIMESTAMP_HEADER, parseSendGridBatch, sendgridVerifier } from '../../providers/sendgrid-events.js';
import {
  MalformedEvent,
  TWILIO_INBOUND_PATH,
  TWILIO_STATUS_PATH,
  formParams,
  parseTwilioInbound,
  parseTwilioStatus,
  verifyTwilio,
  type FormParams,
  type TwilioParsed,
} from '../../providers/twilio-events.js';
import { groupCommit } from '../group-commit.js';
import type { ServiceMetrics } from '../metrics.js';

/** Events per `delivery` job, at most, when requests are written together. */
const MAX_EVENTS_PER_JOB = 1000;
/** Events in one request, at most (a SendGrid batch; SendGrid's are far smaller). */
const MAX_EVENTS_PER_REQUEST = 5000;

export interface ProviderRouteDeps {
  config: Config;
  client: NotificationClient;
  metrics: ServiceMetrics;
  bodyLimit: number;
}

/** Twilio reads the answer to an inbound message as TwiML: an empty one sends no reply. */
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

const header = (req: FastifyRequest, name: string) => {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
};

/**
 * Provider delivery events in (README "Delivery status"): outside /v1, the provider's
 * signature is the credential. A verified request's normalised events are written to Redis
 * as a `delivery` job (requests arriving together share one job: see group-commit.ts), and
 * it is answered 2xx only once that write is done, so it is durable from the answer on;
 * the delivery workers apply it.
 */
export async function registerProviderRoutes(app: FastifyInstance, deps: ProviderRouteDeps): Promise<void> {
  const { config, client, metrics } = deps;
  const resend = config.delivery.resendWebhookSecret ? resendVerifier(config.delivery.resendWebhookSecret) : undefined;
  const sendgrid = config.delivery.sendgridWebhookPublicKey ? sendgridVerifier(config.delivery.sendgridWebhookPublicKey) : undefined;
  const jobOptions = {
    ...retryPolicy(config.jobs.attempts, config.jobs.backoffMs),
    ...DELIVERY_JOB_RETENTION,
    removeOnFail: { age: config.jobs.keepFailedSeconds },
  };

  const refuse = (reply: FastifyReply, provider: DeliveryProvider, status: number, reason: string, message?: string) => {
    metrics.refusedEvent(provider, reason);
    return reply.code(status).send({ error: reason, ...(message && { message }) });
  };

  /** One Redis write for the requests of a moment (group commit), in their order of arrival. */
  const write = groupCommit<DeliveryEvent>(async (events) => {
    const payload = deliveryJobPayload.parse({ events, receivedAt: Date.now(), retry: 0 });
    await client.withRedis(() => client.queue('delivery').add('event', payload, jobOptions));
  }, MAX_EVENTS_PER_JOB);

  /** Answered once written; a Redis outage answers 503 (the provider retries), never a 2xx. */
  const enqueue = async (events: DeliveryEvent[], channel: string) => {
    if (events.length === 0) return;
    await write(events);
    for (const e of events) if (e.type === 'status') metrics.deliveryEvent(channel, e.provider, e.status);
  };

  await app.register(async (p) => {
    // Signatures are over the bytes received: every body stays a string here, parsed by the route.
    p.removeAllContentTypeParsers();
    p.addContentTypeParser('*', { parseAs: 'string', bodyLimit: deps.bodyLimit }, (_req, body, done) => done(null, body));
    const raw = (req: FastifyRequest) => (typeof req.body === 'string' ? req.body : '');

    const twilioRoute = <E extends DeliveryEvent>(path: string, parse: (p: FormParams) => TwilioParsed<E>, answer: (reply: FastifyReply, n: number) => unknown) =>
      p.post(path, async (req, reply) => {
        const tw = config.twilio;
        const base = config.delivery.publicUrl;
        if (!tw || !base) return refuse(reply, 'twilio', 404, 'not_configured');
        const params = formParams(raw(req));
        if (!verifyTwilio(tw.authToken, header(req, 'x-twilio-signature'), base + path, params)) return refuse(reply, 'twilio', 403, 'invalid_signature');
        let parsed: TwilioParsed<E>;
        try {
          parsed = parse(params);
        } catch (err) {
          if (err instanceof MalformedEvent) return refuse(reply, 'twilio', 400, 'malformed', err.message);
          throw err;
        }
        // Signed with our token yet for another account (a subaccount): acknowledged, not ours.
        if (parsed.accountSid !== undefined && parsed.accountSid !== tw.accountSid) {
          metrics.refusedEvent('twilio', 'other_account');
          return answer(reply, 0);
        }
        await enqueue(parsed.events, parsed.channel);
        return answer(reply, parsed.events.length);
      });

    twilioRoute(TWILIO_STATUS_PATH, (params) => parseTwilioStatus(params), (reply, n) => reply.code(200).send({ received: n }));
    twilioRoute(TWILIO_INBOUND_PATH, (params) => parseTwilioInbound(params), (reply) => reply.code(200).type('text/xml').send(EMPTY_TWIML));

    p.post('/providers/resend', async (req, reply) => {
      if (!resend) return refuse(reply, 'resend', 404, 'not_configured');
      const verdict = resend(raw(req), { id: header(req, 'svix-id'), timestamp: header(req, 'svix-timestamp'), signature: header(req, 'svix-signature') });
      if (!verdict.ok) return verdict.reason === 'malformed' ? refuse(reply, 'resend', 400, 'malformed', 'body is not JSON') : refuse(reply, 'resend', 403, 'invalid_signature');
      let events;
      try {
        events = parseResendEvent(verdict.body);
      } catch (err) {
        if (err instanceof MalformedEvent) return refuse(reply, 'resend', 400, 'malformed', err.message);
        throw err;
      }
      await enqueue(events, 'email');
      return reply.code(200).send({ received: events.length });
    });

    p.post('/providers/sendgrid', async (req, reply) => {
      if (!sendgrid) return refuse(reply, 'sendgrid', 404, 'not_configured');
      const body = raw(req);
      if (!sendgrid(body, header(req, SENDGRID_SIGNATURE_HEADER), header(req, SENDGRID_TIMESTAMP_HEADER))) return refuse(reply, 'sendgrid', 403, 'invalid_signature');
      let events;
      try {
        events = parseSendGridBatch(JSON.parse(body));
      } catch (err) {
        if (err instanceof MalformedEvent || err instanceof SyntaxError) return refuse(reply, 'sendgrid', 400, 'malformed', err.message);
        throw err;
      }
      if (events.length > MAX_EVENTS_PER_REQUEST) return refuse(reply, 'sendgrid', 400, 'malformed', `more than ${MAX_EVENTS_PER_REQUEST} events`);
      await enqueue(events, 'email');
      return reply.code(200).send({ received: events.length });
    });
  });
}
