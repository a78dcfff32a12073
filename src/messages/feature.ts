import type { Job } from 'bullmq';
import { expectName, parsePayload } from '../contract/registry.js';
import { emailJobPayload, smsPayload, whatsappPayload } from '../contract/schemas.js';
import { sendEmail, type InvitationSource } from './email.js';
import { sendSms } from './sms.js';
import { sendWhatsApp } from './whatsapp.js';
import { skipped } from '../contract/results.js';
import type { Feature, JobResult, QueueHandler, ServiceContext } from '../runtime/types.js';

/** A message past its `expiresAt` is skipped, never sent late. */
function unlessExpired<P extends { expiresAt?: string }>(p: P, send: (p: P) => Promise<JobResult>): Promise<JobResult> {
  if (p.expiresAt !== undefined && Date.parse(p.expiresAt) <= Date.now())
    return Promise.resolve(skipped(`expired at ${p.expiresAt}: not sent`));
  return send(p);
}

const to = (job: Job) => (job.data as { to?: string | string[] } | undefined)?.to;

export interface MessagesOptions {
  /** Appointment emails' invitations, built when the email job runs (src/service.ts wires the appointments'). */
  invitations?: (ctx: ServiceContext) => InvitationSource;
}

/** The `email`, `sms` and `whatsapp` queues. */
export const messagesFeature = (opts: MessagesOptions = {}): Feature => ({
  name: 'messages',
  handlers: (ctx) => messageHandlers(ctx, opts.invitations?.(ctx)),
});

/** Without appointment invitations: emails that reference one are sent without it. */
export const messages = messagesFeature();

const messageHandlers = ({ config, providers }: ServiceContext, invitations: InvitationSource | undefined): QueueHandler[] => [
  {
    queue: 'email',
    provider: () => providers.email?.name ?? 'none',
    // Resend deduplicates on the job's delivery key (24 h); SendGrid needs the marker.
    deliverOnce: () => providers.email?.name !== 'resend',
    recipient: to,
    run: (job, ctx) => {
      expectName(job, 'send');
      return unlessExpired(parsePayload(emailJobPayload, job.data), (p) =>
        sendEmail(p, { provider: providers.email, defaultFrom: config.email.from, deliveryKey: ctx.deliveryKey, invitations }),
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
        sendSms(p, { provider: providers.sms, from: config.sms?.from, deliveryKey: ctx.deliveryKey }),
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
        sendWhatsApp(p, { provider: providers.whatsapp, from: config.whatsapp?.from, deliveryKey: ctx.deliveryKey }),
      );
    },
  },
];
