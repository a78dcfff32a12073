import { fromHttpStatus, parseRetryAfter, permanent, transient } from '../contract/errors.js';
import type { WebhookDelivered } from '../contract/results.js';
import { networkReason } from '../providers/network.js';
import type { WebhookEvent } from './events.js';
import { SIGNATURE_HEADER, signPayload } from './sign.js';

export interface DeliveryTarget {
  url: string;
  secret: string;
  timeoutMs: number;
}

/**
 * POSTs one event. 2xx: delivered. 5xx, 408, timeouts and network errors: transient (the
 * queue retries with backoff); 429: a pause; other 4xx and redirects: permanent. The
 * signature is made at each attempt so its timestamp is fresh for the receiver's check.
 */
export async function deliverEvent(event: WebhookEvent, target: DeliveryTarget): Promise<WebhookDelivered> {
  const body = JSON.stringify(event);
  let res: Response;
  try {
    res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'notification-worker-webhooks/1',
        [SIGNATURE_HEADER]: signPayload(target.secret, body),
        'x-event-id': event.id,
        'x-event-type': event.type,
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(target.timeoutMs),
    });
    // The receiver's answer is not used: release the connection.
    await res.body?.cancel();
  } catch (err) {
    // The URL may carry credentials: never put it in the reason.
    throw transient(`webhook: ${networkReason(err)}`);
  }
  if (res.ok) return { status: 'delivered', eventId: event.id, type: event.type, httpStatus: res.status };
  const msg = `webhook receiver answered ${res.status}`;
  if (res.status >= 300 && res.status < 400) throw permanent('PROVIDER_REJECTED', `${msg} (redirects are not followed)`);
  throw fromHttpStatus(res.status, msg, parseRetryAfter(res.headers.get('retry-after')));
}
