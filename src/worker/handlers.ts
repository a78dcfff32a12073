import type { Job } from 'bullmq';
import type { Config } from '../config.js';
import { InvalidPayloadError } from '../errors.js';
import { parsePayload } from '../jobs/registry.js';
import { emailPayload, smsPayload, whatsappPayload } from '../jobs/schemas.js';
import { sendEmail } from '../processors/email.js';
import { sendSms } from '../processors/sms.js';
import { sendWhatsApp } from '../processors/whatsapp.js';
import type { Providers } from '../providers/index.js';
import { skipped } from '../jobs/results.js';
import type { JobResult, QueueHandler } from './runtime.js';

/** A job name the queue does not know is bad input like any other: fail it, naming the field. */
export function expectName(job: Job, ...names: string[]): void {
  if (!names.includes(job.name))
    throw new InvalidPayloadError([{ path: 'name', message: `unknown job name "${job.name}", expected ${names.join(' or ')}` }]);
}

/** A message past its `expiresAt` is skipped, never sent late. */
function unlessExpired<P extends { expiresAt?: string }>(p: P, send: (p: P) => Promise<JobResult>): Promise<JobResult> {
  if (p.expiresAt !== undefined && Date.parse(p.expiresAt) <= Date.now())
    return Promise.resolve(skipped(`expired at ${p.expiresAt}: not sent`));
  return send(p);
}

const to = (job: Job) => (job.data as { to?: string | string[] } | undefined)?.to;

export function messageHandlers(config: Config, providers: Providers): QueueHandler[] {
  return [
    {
      queue: 'email',
      provider: () => providers.email?.name ?? 'none',
      // Resend deduplicates on the job's idempotency key (24 h); SendGrid needs the marker.
      deliverOnce: () => providers.email?.name !== 'resend',
      recipient: to,
      run: (job, ctx) => {
        expectName(job, 'send');
        return unlessExpired(parsePayload(emailPayload, job.data), (p) =>
          sendEmail(p, { provider: providers.email, defaultFrom: config.email.from, idempotencyKey: ctx.idempotencyKey }),
        );
      },
    },
    {
      queue: 'sms',
      provider: () => (providers.sms ? 'twilio' : 'none'),
      deliverOnce: () => true,
      recipient: to,
      run: (job, ctx) => {
        expectName(job, 'send');
        return unlessExpired(parsePayload(smsPayload, job.data), (p) =>
          sendSms(p, { provider: providers.sms, from: config.sms?.from, idempotencyKey: ctx.idempotencyKey }),
        );
      },
    },
    {
      queue: 'whatsapp',
      provider: () => (providers.whatsapp ? 'twilio' : 'none'),
      deliverOnce: () => true,
      recipient: to,
      run: (job, ctx) => {
        expectName(job, 'send');
        return unlessExpired(parsePayload(whatsappPayload, job.data), (p) =>
          sendWhatsApp(p, { provider: providers.whatsapp, from: config.whatsapp?.from, idempotencyKey: ctx.idempotencyKey }),
        );
      },
    },
  ];
}
