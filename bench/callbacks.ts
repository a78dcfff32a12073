/**
 * Twilio status callbacks as Twilio posts them: form-encoded, signed with the account's
 * token over the URL, sent with IN_FLIGHT requests at a time on kept-alive connections.
 * The throughput runs post them from the fake providers' process (as Twilio does, from
 * elsewhere); the latency run posts its 200/s from the bench process.
 */
import twilio from 'twilio';
import { Agent } from 'undici';

export const IN_FLIGHT = 32;

export interface Signed {
  sid: string;
  body: string;
  signature: string;
}

/** Signed ahead of time, so that signing costs nothing during a timed run. */
export function signedCallbacks(url: string, accountSid: string, token: string, sids: string[], status: string): Signed[] {
  return sids.map((sid) => {
    const params = { AccountSid: accountSid, ApiVersion: '2010-04-01', From: '+15005550006', To: '+33612345678', MessageSid: sid, SmsSid: sid, MessageStatus: status, SmsStatus: status };
    return { sid, body: new URLSearchParams(params).toString(), signature: twilio.getExpectedTwilioSignature(token, url, params) };
  });
}

const dispatcher = new Agent({ connections: IN_FLIGHT, keepAliveTimeout: 30_000 });

export async function post(url: string, s: Signed): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': s.signature },
    body: s.body,
    dispatcher,
  });
  await res.arrayBuffer();
  return res.status;
}

/** Posts every callback with IN_FLIGHT requests at a time; any answer but 200 fails the run. */
export async function blast(url: string, all: Signed[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < all.length) {
        const status = await post(url, all[next++]!);
        if (status !== 200) throw new Error(`callback answered ${status}`);
      }
    }),
  );
}

/** Wall-clock time in ms with sub-ms precision, comparable across processes of one machine. */
export const epochNow = () => performance.timeOrigin + performance.now();
