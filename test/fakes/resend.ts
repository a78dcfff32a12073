import { randomUUID } from 'node:crypto';
import { FakeServer, type FakeReply, type RecordedRequest } from './server.js';

export interface DeliveredEmail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  html?: string;
  text?: string;
  replyTo?: string | string[];
  tags?: { name: string; value: string }[];
  attachments?: { filename: string; content: string; content_type?: string }[];
  idempotencyKey?: string;
  at: number;
}

const ADDRESS = /^\s*(?:"?[^"<>]*"?\s*<[^<>\s@]+@[^<>\s@]+\.[^<>\s@]+>|[^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)\s*$/;
const errorReply = (statusCode: number, name: string, message: string): FakeReply => ({
  status: statusCode,
  body: { statusCode, message, name },
});

/** Resend's REST API (api.resend.com), as much of it as the service uses. */
export class FakeResend extends FakeServer {
  /** Emails Resend accepted: an idempotent replay does not add one. */
  readonly delivered: DeliveredEmail[] = [];
  /** Idempotency-Key -> the request body it was first used with, and the answer. */
  private readonly idempotent = new Map<string, { rawBody: string; id: string }>();
  /** A sending-only key: Resend answers 401 restricted_api_key on everything but sending. */
  sendOnly = false;

  /** Also forgets accepted emails and idempotency keys: a long bench must not grow the fake's heap. */
  override reset(): void {
    super.reset();
    this.delivered.length = 0;
    this.idempotent.clear();
  }

  constructor(readonly apiKey = 're_test_0123456789abcdef') {
    super();
    this.route('POST', /^\/emails$/, (r) => this.sendEmail(r));
    this.route('GET', /^\/domains$/, (r) => this.domains(r));
  }

  private auth(r: RecordedRequest): FakeReply | undefined {
    const h = r.headers.authorization;
    if (!h?.startsWith('Bearer ') || h.length === 'Bearer '.length)
      return errorReply(401, 'missing_api_key', 'Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY');
    if (h !== `Bearer ${this.apiKey}`) return errorReply(403, 'invalid_api_key', 'API key is invalid');
    return undefined;
  }

  private sendEmail(r: RecordedRequest): FakeReply {
    const denied = this.auth(r);
    if (denied) return denied;
    const key = r.headers['idempotency-key'] as string | undefined;
    if (key !== undefined && (key.length < 1 || key.length > 256))
      return errorReply(400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.');
    if (key !== undefined) {
      const seen = this.idempotent.get(key);
      if (seen && seen.rawBody !== r.rawBody)
        return errorReply(409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload. Change your idempotency key or payload.');
      if (seen) return { status: 200, body: { id: seen.id } };
    }
    const b = (r.body ?? {}) as Record<string, any>;
    for (const field of ['from', 'to', 'subject'])
      if (b[field] === undefined || b[field] === '') return errorReply(422, 'missing_required_field', `Missing \`${field}\` field.`);
    const to: string[] = Array.isArray(b.to) ? b.to : [b.to];
    if (to.length === 0 || to.length > 50 || !to.every((a) => typeof a === 'string' && ADDRESS.test(a)))
      return errorReply(422, 'validation_error', 'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.');
    if (typeof b.from !== 'string' || !ADDRESS.test(b.from))
      return errorReply(422, 'validation_error', 'Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.');
    if (!b.html && !b.text) return errorReply(422, 'validation_error', 'Missing `html` or `text` field.');
    for (const a of Array.isArray(b.attachments) ? b.attachments : [])
      if (typeof a?.content !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(a.content) || !a.filename)
        return errorReply(422, 'validation_error', 'Invalid `attachments` field: `content` must be base64 and `filename` is required.');

    const id = randomUUID();
    if (key !== undefined) this.idempotent.set(key, { rawBody: r.rawBody, id });
    this.delivered.push({
      id,
      from: b.from,
      to,
      subject: b.subject,
      html: b.html,
      text: b.text,
      replyTo: b.reply_to,
      tags: b.tags,
      attachments: b.attachments,
      idempotencyKey: key,
      at: Date.now(),
    });
    return { status: 200, body: { id } };
  }

  private domains(r: RecordedRequest): FakeReply {
    const denied = this.auth(r);
    if (denied) return denied;
    if (this.sendOnly) return errorReply(401, 'restricted_api_key', 'This API key is restricted to only send emails');
    return { status: 200, body: { object: 'list', has_more: false, data: [] } };
  }
}
