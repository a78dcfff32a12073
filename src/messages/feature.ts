import type { Job } from 'bullmq';
import { expectName, parsePayload } from '../contract/registry.js';
import { skipped } from '../contract/results.js';
import { emailJobPayload, smsJobPayload, whatsappJobPayload } from '../contract/schemas.js';
import { addSuppression, suppressedAmong } from '../delivery/suppressions.js';
import type { Feature, JobResult, QueueHandler, ServiceContext } from '../runtime/types.js';
import { sendEmail, type InvitationSource } from './email.js';
import { sendSms } from './sms.js';
import type { SuppressionCheck } from './suppression.js';
import { sendWhatsApp } from './whatsapp.js';

/** A message past its `expiresAt` is skipped, never sent late. */
function unlessExpired<P extends { expiresAt?: string }>(p: P, send: (p: P) => Promise<JobResult>): Promise<JobResult> {
  if (p.expiresAt !== undefined && Date.parse(p.expiresAt) <= Date.now())
    return Promise.resolve(skipped(`expired at ${p.expiresAt}: not sent`));
  return send(p);
}

const to = (job: Job) => (job.data as { to?: string | string[] } | undefined)?.to;

/** The suppression list in Redis (src/delivery/suppressions.ts), as the processors need it. */
function suppressionCheck({ connection, config }: ServiceContext): SuppressionCheck {
  const db = { connection, redis: config.redis };
  return {
    among: (channel, recipients) => suppressedAmong(db, channel, recipients),
    optedOut: async (channel, recipient) => void (await addSuppression(db, channel, recipient.replace(/^whatsapp:/, ''), 'opted_out')),
  };
}

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

function messageHandlers(ctx: ServiceContext, invitations: InvitationSource | undefined): QueueHandler[] {
  const { config, providers } = ctx;
  const suppression = suppressionCheck(ctx);
  return [
    {
      queue: 'email',
      provider: () => providers.email?.name ?? 'none',
      // Resend deduplicates on the job's delivery key (24 h); SendGrid needs the marker.
      deliverOnce: () => providers.email?.name !== 'resend',
      recipient: to,
      run: (job, jc) => {
        expectName(job, 'send');
        return unlessExpired(parsePayload(emailJobPayload, job.data), (p) =>
          sendEmail(p, { provider: providers.email, defaultFrom: config.email.from, deliveryKey: jc.deliveryKey, invitations, suppression }),
        );
      },
    },
    {
      queue: 'sms',
      provider: () => (providers.sms ? 'twilio' : 'none'),
      deliverOnce: () => true,
      recipient: to,
      run: (job, jc) => {
        expectName(job, 'send');
        return unlessExpired(parsePayload(smsJobPayload, job.data), (p) =>
          sendSms(p, { provider: providers.sms, from: config.sms?.from, deliveryKey: jc.deliveryKey, suppression }),
        );
      },
    },
    {
      queue: 'whatsapp',
      provider: () => (providers.whatsapp ? 'twilio' : 'none'),
      deliverOnce: () => true,
      recipient: to,
      run: (job, jc) => {
        expectName(job, 'send');
        return unlessExpired(parsePayload(whatsappJobPayload, job.data), (p) =>
          sendWhatsApp(p, { provider: providers.whatsapp, from: config.whatsapp?.from, deliveryKey: jc.deliveryKey, suppression }),
        );
      },
    },
  ];
}
