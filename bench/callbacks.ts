/**
 * Twilio status callbacks as Twilio posts them: form-encoded, signed with the account's
 * token over the URL, sent with IN_FLIGHT requests at a time on kept-alive connections.
 * The bench posts them from the fake providers' process, as Twilio posts from elsewhere.
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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Posts `all` at a steady `ratePerS`: when each was sent (wall clock, in order) and each answer's latency (ms). */
export async function steadily(url: string, all: Signed[], ratePerS: number): Promise<{ sentAt: number[]; answered: number[] }> {
  const sentAt: number[] = [];
  const answered: number[] = [];
  const t0 = performance.now();
  const posts: Promise<number>[] = [];
  for (let i = 0; i < all.length; i++) {
    const wait = t0 + (i * 1000) / ratePerS - performance.now();
    if (wait > 1) await sleep(wait);
    const t = epochNow();
    sentAt.push(t);
    posts.push(post(url, all[i]!).then((st) => (answered.push(epochNow() - t), st)));
  }
  if ((await Promise.all(posts)).some((st) => st !== 200)) throw new Error('a callback was not answered 200');
  return { sentAt, answered };
}
