import type { Config } from '../config.js';
import { createResend } from './resend.js';
import { createSendGrid } from './sendgrid.js';
import { createTwilio } from './twilio.js';
import { TWILIO_STATUS_PATH } from './twilio-events.js';
import type { EmailProvider, MeetingProvider, SmsProvider, VisioKind, WhatsAppProvider } from './types.js';
import { createGoogleMeet } from './google-meet.js';
import { createZoom } from './zoom.js';

export interface Providers {
  email?: EmailProvider;
  sms?: SmsProvider;
  whatsapp?: WhatsAppProvider;
  /** Configured meeting providers by visio kind; a missing one is disabled. */
  meetings?: MeetingProviders;
}

export type MeetingProviders = Partial<Record<VisioKind, MeetingProvider>>;

/** Builds the configured message providers once per process; Resend wins over SendGrid. */
export function createProviders(config: Config): Providers {
  const timeoutMs = config.jobs.providerTimeoutMs;
  const { resend, sendgrid } = config.email;
  const email = resend
    ? createResend({ ...resend, timeoutMs })
    : sendgrid
      ? createSendGrid({ ...sendgrid, timeoutMs })
      : undefined;
  const { publicUrl } = config.delivery;
  const statusCallback = publicUrl ? `${publicUrl}${TWILIO_STATUS_PATH}` : undefined;
  const twilio = config.twilio ? createTwilio({ ...config.twilio, timeoutMs, statusCallback }) : undefined;
  return {
    email,
    sms: config.sms ? twilio : undefined,
    whatsapp: config.whatsapp ? twilio : undefined,
    meetings: createMeetingProviders(config),
  };
}

/** Zoom (Server-to-Server OAuth) and Google Meet (Calendar, refresh token), each only when configured. */
export function createMeetingProviders(config: Config): MeetingProviders {
  const timeoutMs = config.jobs.providerTimeoutMs;
  return {
    ...(config.zoom && { ZOOM: createZoom({ ...config.zoom, timeoutMs }) }),
    ...(config.google && { GOOGLE_MEET: createGoogleMeet({ ...config.google, timeoutMs }) }),
  };
}
