import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { permanent, rateLimited, transient, type ProviderError } from '../contract/errors.js';
import { TwilioHttpClient, TwilioRateLimited } from './twilio-http.js';
import type { MessageReceipt, SmsProvider, TextMessage, WhatsAppMessage, WhatsAppProvider } from './types.js';

export interface TwilioOptions {
  accountSid: string;
  authToken: string;
  /** Replaces `https://*.twilio.com` (regional endpoint, egress proxy, test fake). */
  baseUrl?: string;
  timeoutMs?: number;
  /** Where Twilio posts status callbacks (PUBLIC_URL + /providers/twilio/status); none when unset. */
  statusCallback?: string;
}

const INVALID_RECIPIENT = new Set([21211, 21217, 21401, 21421, 21614, 63024]);

/** Maps SDK errors (RestException / TwilioServiceException: `status`, `code`), our 429 and network failures (no status). */
export function mapTwilioError(err: unknown): ProviderError {
  const e = (err ?? {}) as { status?: unknown; code?: unknown; message?: unknown; detail?: unknown };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const code = typeof e.code === 'number' ? e.code : undefined;
  const text = typeof e.detail === 'string' ? e.detail : typeof e.message === 'string' ? e.message : String(err);
  if (status === undefined) {
    // Network-level failure: undici's errors carry ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT & co. in `code`.
    const sysCode = typeof e.code === 'string' ? `${e.code} ` : '';
    return transient(`twilio: ${sysCode}${text}`);
  }
  const msg = `twilio ${status}${code ? `/${code}` : ''}: ${text}`;
  if (code !== undefined && INVALID_RECIPIENT.has(code)) return permanent('INVALID_RECIPIENT', msg);
  if (code === 21610) return permanent('RECIPIENT_OPTED_OUT', msg);
  if (code === 63016) return permanent('PROVIDER_REJECTED', msg);
  if (code === 20003 || status === 401 || status === 403) return permanent('PROVIDER_AUTH', msg);
  if (err instanceof TwilioRateLimited) return rateLimited(msg, err.retryAfterMs);
  if (code === 20429 || status === 429) return rateLimited(msg, undefined);
  if (status === 408 || status >= 500) return transient(msg);
  if (status >= 400) return permanent('PROVIDER_REJECTED', msg);
  return transient(msg);
}

export function createTwilio(opts: TwilioOptions): SmsProvider & WhatsAppProvider {
  const client = twilio(opts.accountSid, opts.authToken, {
    httpClient: new TwilioHttpClient(opts.baseUrl, opts.timeoutMs) as unknown as RequestClient,
  });

  async function create(params: Parameters<typeof client.messages.create>[0]): Promise<MessageReceipt> {
    try {
      const msg = await client.messages.create(opts.statusCallback ? { ...params, statusCallback: opts.statusCallback } : params);
      return { messageId: msg.sid, providerStatus: msg.status };
    } catch (err) {
      throw mapTwilioError(err);
    }
  }

  return {
    name: 'twilio',
    sendSms: (m: TextMessage) => create({ from: m.from, to: m.to, body: m.body }),
    sendWhatsApp: (m: WhatsAppMessage) =>
      create({
        from: m.from,
        to: m.to.startsWith('whatsapp:') ? m.to : `whatsapp:${m.to}`,
        ...(m.contentSid
          ? {
              contentSid: m.contentSid,
              ...(m.contentVariables ? { contentVariables: JSON.stringify(m.contentVariables) } : {}),
            }
          : { body: m.body ?? '' }),
      }),
  };
}
