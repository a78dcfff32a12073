import type { ZodType } from 'zod';
import { PRODUCER_JOBS } from '../../contract/registry.js';
import type { MeetingCreatePayload } from '../../contract/schemas.js';
import { EMAIL_BODY_LIMIT, commonErrors, enqueuedResponse, idempotencyKey, sendEnqueued, type ApiRoute } from '../api.js';

const idempotent = {
  200: { description: 'replay of an Idempotency-Key: the first job, nothing added', schema: enqueuedResponse },
  202: { description: 'enqueued', schema: enqueuedResponse },
  ...commonErrors,
};

/**
 * POST /v1/emails, /v1/sms, /v1/whatsapp, /v1/meetings: the body is the job payload of
 * README "Queues and payloads", validated by the producer client with the workers' own schemas.
 */
const enqueueRoute = (
  url: string,
  queue: 'email' | 'sms' | 'whatsapp' | 'meeting',
  name: 'send' | 'create',
  schemaName: string,
  summary: string,
  bodyLimit?: number,
): ApiRoute => ({
  method: 'POST',
  url,
  summary,
  ...(bodyLimit && { bodyLimit }),
  tag: queue === 'meeting' ? 'meetings' : 'messages',
  idempotent: true,
  body: { name: schemaName, schema: (PRODUCER_JOBS[queue] as Record<string, ZodType>)[name]!, required: true },
  responses: idempotent,
  handler: async (req, reply, { client }) => {
    const opts = { idempotencyKey: idempotencyKey(req) };
    // createMeeting keys the job on the appointment: one meeting per appointment, replays answer 200.
    const e =
      queue === 'meeting'
        ? await client.createMeeting(req.body as MeetingCreatePayload, opts)
        : await client.enqueue(queue, name as never, req.body, opts);
    return sendEnqueued(reply, e);
  },
});

export const messageRoutes: ApiRoute[] = [
  // Attachments: up to 7 MiB decoded, so this one route takes bodies up to 10 MiB.
  enqueueRoute('/v1/emails', 'email', 'send', 'EmailPayload', 'Send an email (Resend or SendGrid)', EMAIL_BODY_LIMIT),
  enqueueRoute('/v1/sms', 'sms', 'send', 'SmsPayload', 'Send an SMS (Twilio)'),
  enqueueRoute('/v1/whatsapp', 'whatsapp', 'send', 'WhatsAppPayload', 'Send a WhatsApp message or template (Twilio)'),
  enqueueRoute('/v1/meetings', 'meeting', 'create', 'MeetingCreatePayload', 'Create a Zoom or Google Meet meeting'),
];
