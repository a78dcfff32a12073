import { Resend } from 'resend';
import type { StatusEvent } from '../contract/delivery.js';
import type { DeliveryStatus } from '../contract/outcome.js';
import { MalformedEvent } from './twilio-events.js';

export interface SvixHeaders {
  id?: string;
  timestamp?: string;
  signature?: string;
}

export type ResendVerdict = { ok: true; body: unknown } | { ok: false; reason: 'invalid_signature' | 'malformed' };

/**
 * Resend signs the Svix way (svix-id, svix-timestamp, svix-signature over the raw body,
 * 5 minutes' tolerance); its SDK checks it. The API key is not used to verify: any
 * placeholder does, and it keeps the SDK from reading RESEND_API_KEY from the environment.
 */
export function resendVerifier(secret: string) {
  const sdk = new Resend('re_verify_only');
  return (raw: string, h: SvixHeaders): ResendVerdict => {
    if (!h.id || !h.timestamp || !h.signature) return { ok: false, reason: 'invalid_signature' };
    try {
      return { ok: true, body: sdk.webhooks.verify({ payload: raw, headers: { id: h.id, timestamp: h.timestamp, signature: h.signature }, webhookSecret: secret }) };
    } catch (err) {
      // The SDK parses the body after the signature matched: a signed body that is not JSON.
      return { ok: false, reason: err instanceof SyntaxError ? 'malformed' : 'invalid_signature' };
    }
  };
}

const STATUSES: Record<string, DeliveryStatus> = {
  'email.sent': 'sent',
  'email.delivery_delayed': 'delayed',
  'email.delivered': 'delivered',
  'email.bounced': 'bounced',
  'email.complained': 'complained',
  'email.failed': 'failed',
};

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * One Resend event: `{type, created_at, data: {email_id, to, bounce?}}`. Other types
 * (opened, clicked, received...) give none. A bounce or complaint suppresses the address
 * when the email had exactly one recipient (Resend's event does not say which one
 * bounced); a bounce of type Transient does not suppress.
 */
export function parseResendEvent(body: unknown, now = new Date()): StatusEvent[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new MalformedEvent('body: expected a JSON object');
  const { type, created_at, data } = body as { type?: unknown; created_at?: unknown; data?: unknown };
  if (typeof type !== 'string') throw new MalformedEvent('type: missing');
  const status = STATUSES[type];
  if (!status) return [];
  const d = (typeof data === 'object' && data !== null ? data : {}) as { email_id?: unknown; to?: unknown; bounce?: { type?: unknown; subType?: unknown } };
  const messageId = str(d.email_id);
  if (!messageId || messageId.length > 200) throw new MalformedEvent('data.email_id: missing');
  const to = Array.isArray(d.to) ? d.to.filter((t): t is string => typeof t === 'string') : typeof d.to === 'string' ? [d.to] : [];
  const bounceType = str(d.bounce?.type);
  const at = str(created_at) && !Number.isNaN(Date.parse(created_at as string)) ? new Date(created_at as string).toISOString() : now.toISOString();
  const reason = status === 'complained' ? 'complained' : status === 'bounced' && bounceType?.toLowerCase() !== 'transient' ? 'bounced' : undefined;
  const errorCode = status === 'bounced' ? [bounceType, str(d.bounce?.subType)].filter(Boolean).join('/') || undefined : undefined;
  return [
    {
      type: 'status',
      provider: 'resend',
      messageId,
      status,
      ...(errorCode && { errorCode: errorCode.slice(0, 64) }),
      at,
      ...(reason && to.length === 1 && { suppress: { channel: 'email' as const, recipient: to[0]!.trim().toLowerCase(), reason } }),
    },
  ];
}
