import type { Job } from 'bullmq';
import type { Config } from '../config.js';
import { InvalidPayloadError } from '../errors.js';
import { parsePayload } from '../jobs/registry.js';
import { emailPayload, smsPayload, whatsappPayload } from '../jobs/schemas.js';
import { sendEmail } from '../processors/email.js';
import { sendSms } from '../processors/sms.js';
import { sendWhatsApp } from '../processors/whatsapp.js';
import type { Providers } from '../providers/index.js';
import type { QueueHandler } from './runtime.js';

/** A job name the queue does not know is bad input like any other: fail it, naming the field. */
export function expectName(job: Job, ...names: string[]): void {
  if (!names.includes(job.name))
    throw new InvalidPayloadError([{ path: 'name', message: `unknown job name "${job.name}", expected ${names.join(' or ')}` }]);
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
        return sendEmail(parsePayload(emailPayload, job.data), {
          provider: providers.email,
          defaultFrom: config.email.from,
          idempotencyKey: ctx.idempotencyKey,
        });
      },
    },
    {
      queue: 'sms',
      provider: () => (providers.sms ? 'twilio' : 'none'),
      deliverOnce: () => true,
      recipient: to,
      run: (job, ctx) => {
        expectName(job, 'send');
        return sendSms(parsePayload(smsPayload, job.data), {
          provider: providers.sms,
          from: config.sms?.from,
          idempotencyKey: ctx.idempotencyKey,
        });
      },
    },
    {
      queue: 'whatsapp',
      provider: () => (providers.whatsapp ? 'twilio' : 'none'),
      deliverOnce: () => true,
      recipient: to,
      run: (job, ctx) => {
        expectName(job, 'send');
        return sendWhatsApp(parsePayload(whatsappPayload, job.data), {
          provider: providers.whatsapp,
          from: config.whatsapp?.from,
          idempotencyKey: ctx.idempotencyKey,
        });
      },
    },
  ];
}
