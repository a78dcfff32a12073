import { EventWebhook } from '@sendgrid/eventwebhook';
import type { StatusEvent } from '../contract/delivery.js';
import type { DeliveryStatus } from '../contract/outcome.js';
import { MalformedEvent } from './twilio-events.js';

export const SENDGRID_SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const SENDGRID_TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';
const TOLERANCE_SECONDS = 300;

/**
 * SendGrid's signed Event Webhook: an ECDSA P-256 signature of timestamp + raw body,
 * checked with SendGrid's own library; a timestamp more than 5 minutes away is refused
 * (the library does not look at it), so a captured batch cannot be replayed later.
 */
export function sendgridVerifier(publicKeyBase64: string) {
  const ew = new EventWebhook();
  const key = ew.convertPublicKeyToECDSA(publicKeyBase64);
  return (raw: string, signature: string | undefined, timestamp: string | undefined, nowMs = Date.now()): boolean => {
    if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
    if (Math.abs(nowMs / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return false;
    try {
      return ew.verifySignature(key, raw, signature, timestamp);
    } catch {
      return false;
    }
  };
}

const STATUSES: Record<string, DeliveryStatus> = {
  processed: 'sent',
  deferred: 'delayed',
  delivered: 'delivered',
  dropped: 'failed',
  spamreport: 'complained',
};

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * A batch (a JSON array, applied in its order). `sg_message_id` is the send's X-Message-Id
 * followed by `.` and SendGrid's suffix: the id is what comes before the first `.`. A
 * `bounce` of type `bounce` is a hard bounce (suppressed); of type `blocked`, undelivered.
 * Events we do not track (open, click, unsubscribe...) or without a message id are skipped.
 */
export function parseSendGridBatch(body: unknown, now = new Date()): StatusEvent[] {
  if (!Array.isArray(body)) throw new MalformedEvent('body: expected a JSON array of events');
  const out: StatusEvent[] = [];
  for (const e of body) {
    if (typeof e !== 'object' || e === null) throw new MalformedEvent('body: every event must be an object');
    const ev = e as Record<string, unknown>;
    const kind = str(ev.event);
    const messageId = str(ev.sg_message_id)?.split('.')[0];
    if (!kind || !messageId || messageId.length > 200) continue;
    const bounceType = str(ev.type);
    const status: DeliveryStatus | undefined = kind === 'bounce' ? (bounceType === 'blocked' ? 'undelivered' : 'bounced') : STATUSES[kind];
    if (!status) continue;
    const ts = typeof ev.timestamp === 'number' && Number.isFinite(ev.timestamp) ? new Date(ev.timestamp * 1000) : now;
    const email = str(ev.email)?.trim().toLowerCase();
    const reason = status === 'complained' ? 'complained' : status === 'bounced' ? 'bounced' : undefined;
    const errorCode = str(ev.status) ?? (status === 'failed' ? str(ev.reason) : undefined);
    out.push({
      type: 'status',
      provider: 'sendgrid',
      messageId,
      status,
      ...(errorCode && { errorCode: errorCode.slice(0, 64) }),
      at: Number.isNaN(ts.getTime()) ? now.toISOString() : ts.toISOString(),
      ...(reason && email && email.length <= 320 && { suppress: { channel: 'email' as const, recipient: email, reason } }),
    });
  }
  return out;
}
