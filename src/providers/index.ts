import type { Config } from '../config.js';
import { createResend } from './resend.js';
import { createSendGrid } from './sendgrid.js';
import { createTwilio } from './twilio.js';
import type { EmailProvider, SmsProvider, WhatsAppProvider } from './types.js';

export interface Providers {
  email?: EmailProvider;
  sms?: SmsProvider;
  whatsapp?: WhatsAppProvider;
}

/** Builds the configured message providers once per process; Resend wins over SendGrid. */
export function createProviders(config: Config): Providers {
  const timeoutMs = config.jobs.providerTimeoutMs;
  const { resend, sendgrid } = config.email;
  const email = resend
    ? createResend({ ...resend, timeoutMs })
    : sendgrid
      ? createSendGrid({ ...sendgrid, timeoutMs })
      : undefined;
  const twilio = config.twilio ? createTwilio({ ...config.twilio, timeoutMs }) : undefined;
  return {
    email,
    sms: config.sms ? twilio : undefined,
    whatsapp: config.whatsapp ? twilio : undefined,
  };
}
