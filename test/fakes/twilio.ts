import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { FakeServer, type FakeReply, type RecordedRequest } from './server.js';

export interface DeliveredMessage {
  to: string;
  from: string;
  body?: string;
  contentSid?: string;
  contentVariables?: string;
  sid: string;
  at: number;
}

/** One status callback the fake posts: Twilio's MessageStatus and, for failures, ErrorCode. */
export interface CallbackStep {
  status: string;
  errorCode?: string;
}

export interface PostedCallback {
  url: string;
  params: Record<string, string>;
  httpStatus: number;
}

/** POSTs form `params` to `url` signed as Twilio does (X-Twilio-Signature, HMAC-SHA1 with the auth token). */
export async function postSignedTwilio(url: string, params: Record<string, string>, authToken: string, signedUrl = url): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, signedUrl, params),
    },
    body: new URLSearchParams(params).toString(),
  });
}

const rfc2822 = (d: Date) => d.toUTCString().replace('GMT', '+0000');
const errorReply = (status: number, code: number, message: string): FakeReply => ({
  status,
  body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
});

/** Twilio's Programmable Messaging API (2010-04-01), as much of it as the service uses. */
export class FakeTwilio extends FakeServer {
  readonly delivered: DeliveredMessage[] = [];
  readonly invalidNumbers = new Set<string>();
  readonly optedOut = new Set<string>();
  /** Status callbacks per recipient (bare E.164); others get `defaultCallbacks`. */
  readonly callbackScripts = new Map<string, CallbackStep[]>();
  defaultCallbacks: CallbackStep[] = [{ status: 'sent' }, { status: 'delivered' }];
  readonly callbacks: PostedCallback[] = [];
  private inFlight = new Set<Promise<void>>();

  constructor(
    readonly accountSid = 'AC' + 'a1'.repeat(16),
    readonly authToken = 'test-auth-token',
  ) {
    super();
    this.route('POST', /^\/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/, (r) => this.createMessage(r));
    this.route('GET', /^\/2010-04-01\/Accounts\/[^/]+\.json$/, (r) => this.account(r));
  }

  private authorized(r: RecordedRequest, sidInPath: string | undefined): boolean {
    const expected = 'Basic ' + Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64');
    return r.headers.authorization === expected && sidInPath === this.accountSid;
  }

  private unauthorized(): FakeReply {
    return errorReply(401, 20003, 'Authenticate');
  }

  private createMessage(r: RecordedRequest): FakeReply {
    if (!this.authorized(r, r.path.split('/')[3])) return this.unauthorized();
    const f = (r.body ?? {}) as Record<string, string | undefined>;
    const to = f.To ?? '';
    const bare = to.replace(/^whatsapp:/, '');
    if (!to) return errorReply(400, 21604, "A 'To' phone number is required.");
    if (!f.From) return errorReply(400, 21603, "A 'From' phone number is required.");
    if (!f.Body && !f.ContentSid) return errorReply(400, 21619, 'A text message body or media urls must be specified.');
    if (this.invalidNumbers.has(bare)) return errorReply(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (this.optedOut.has(bare))
      return errorReply(400, 21610, 'Attempt to send to unsubscribed recipient');

    const sid = 'SM' + randomBytes(16).toString('hex');
    const now = new Date();
    this.delivered.push({ to, from: f.From, body: f.Body, contentSid: f.ContentSid, contentVariables: f.ContentVariables, sid, at: r.at });
    if (f.StatusCallback) this.callBack(f.StatusCallback, sid, f.From, to, this.callbackScripts.get(bare) ?? this.defaultCallbacks);
    const uri = `/2010-04-01/Accounts/${this.accountSid}/Messages/${sid}`;
    return {
      status: 201,
      body: {
        account_sid: this.accountSid,
        api_version: '2010-04-01',
        body: f.Body ?? '',
        date_created: rfc2822(now),
        date_sent: null,
        date_updated: rfc2822(now),
        direction: 'outbound-api',
        error_code: null,
        error_message: null,
        from: f.From,
        messaging_service_sid: null,
        num_media: '0',
        num_segments: '1',
        price: null,
        price_unit: 'USD',
        sid,
        status: 'queued',
        subresource_uris: { media: `${uri}/Media.json`, feedback: `${uri}/Feedback.json` },
        to,
        uri: `${uri}.json`,
      },
    };
  }

  /** Like Twilio: after answering the send, posts each step to the StatusCallback, in order. */
  private callBack(url: string, sid: string, from: string, to: string, steps: CallbackStep[]): void {
    const run = (async () => {
      await new Promise((r) => setTimeout(r, 10));
      for (const step of steps) {
        const params: Record<string, string> = {
          AccountSid: this.accountSid,
          ApiVersion: '2010-04-01',
          From: from,
          To: to,
          MessageSid: sid,
          SmsSid: sid,
          MessageStatus: step.status,
          SmsStatus: step.status,
          ...(step.errorCode && { ErrorCode: step.errorCode }),
        };
        let httpStatus = 0;
        try {
          const res = await postSignedTwilio(url, params, this.authToken);
          httpStatus = res.status;
          await res.body?.cancel();
        } catch {
          httpStatus = -1;
        }
        this.callbacks.push({ url, params, httpStatus });
      }
    })();
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  /** Resolves when every callback started so far was posted. */
  async settled(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  private account(r: RecordedRequest): FakeReply {
    const sid = r.path.split('/')[3]?.replace(/\.json$/, '');
    if (!this.authorized(r, sid)) return this.unauthorized();
    const created = rfc2822(new Date('2020-01-01T00:00:00Z'));
    return {
      status: 200,
      body: {
        date_created: created,
        date_updated: created,
        friendly_name: 'Fake Twilio account',
        owner_account_sid: this.accountSid,
        sid: this.accountSid,
        status: 'active',
        subresource_uris: {},
        type: 'Full',
        uri: `/2010-04-01/Accounts/${this.accountSid}.json`,
      },
    };
  }
}
