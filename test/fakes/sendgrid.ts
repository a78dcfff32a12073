import { randomBytes } from 'node:crypto';
import { FakeServer, type FakeReply, type RecordedRequest } from './server.js';

interface Address {
  email: string;
  name?: string;
}

export interface DeliveredMail {
  messageId: string;
  from: Address;
  personalizations: { to: Address[]; cc?: Address[]; bcc?: Address[] }[];
  subject?: string;
  content: { type: string; value: string }[];
  replyTo?: Address;
  customArgs?: Record<string, string>;
  attachments?: { content: string; filename: string; type?: string; disposition?: string }[];
  at: number;
}

const EMAIL = /^[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+$/;
const HELP = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html';
const errorReply = (status: number, message: string, field: string | null = null, help: string | null = null): FakeReply => ({
  status,
  body: { errors: [{ message, field, help }] },
});

/** SendGrid's v3 API (api.sendgrid.com), as much of it as the service uses. */
export class FakeSendGrid extends FakeServer {
  /** Mails SendGrid accepted (202). */
  readonly delivered: DeliveredMail[] = [];

  constructor(readonly apiKey = 'SG.test-key.0123456789abcdef') {
    super();
    this.route('POST', /^\/v3\/mail\/send$/, (r) => this.send(r));
    this.route('GET', /^\/v3\/scopes$/, (r) => this.auth(r) ?? { status: 200, body: { scopes: ['mail.send'] } });
  }

  private auth(r: RecordedRequest): FakeReply | undefined {
    if (r.headers.authorization === `Bearer ${this.apiKey}`) return undefined;
    return errorReply(401, 'The provided authorization grant is invalid, expired, or revoked');
  }

  private send(r: RecordedRequest): FakeReply {
    const denied = this.auth(r);
    if (denied) return denied;
    const b = (r.body ?? {}) as Record<string, any>;
    const ps: any[] = Array.isArray(b.personalizations) ? b.personalizations : [];
    if (ps.length === 0)
      return errorReply(400, 'The personalizations field is required and must have at least one personalization.', 'personalizations', `${HELP}#-Personalizations-Errors`);
    for (const [i, p] of ps.entries()) {
      const to: any[] = Array.isArray(p?.to) ? p.to : [];
      if (to.length === 0)
        return errorReply(400, 'The to array is required for all personalization objects, and must have at least one email object with a valid email address.', `personalizations.${i}.to`, `${HELP}#message.personalizations.to`);
      for (const [j, a] of to.entries())
        if (typeof a?.email !== 'string' || !EMAIL.test(a.email))
          return errorReply(400, 'Does not contain a valid address.', `personalizations.${i}.to.${j}.email`, `${HELP}#message.personalizations.to`);
    }
    if (typeof b.from?.email !== 'string' || !EMAIL.test(b.from.email))
      return errorReply(400, 'The from email does not contain a valid address.', 'from.email', `${HELP}#message.from`);
    const content: any[] = Array.isArray(b.content) ? b.content : [];
    if (content.length === 0 && !b.template_id)
      return errorReply(400, 'Unless a valid template_id is provided, the content parameter is required.', 'content', `${HELP}#message.content`);
    if (!b.subject && !ps.every((p) => p.subject) && !b.template_id)
      return errorReply(400, 'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.', 'subject', `${HELP}#message.subject`);

    for (const [i, a] of (Array.isArray(b.attachments) ? b.attachments : []).entries()) {
      if (typeof a?.content !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(a.content))
        return errorReply(400, 'The attachment content must be base64 encoded.', `attachments.${i}.content`, `${HELP}#message.attachments.content`);
      if (typeof a.filename !== 'string' || !a.filename)
        return errorReply(400, 'The attachment filename parameter is required.', `attachments.${i}.filename`, `${HELP}#message.attachments.filename`);
    }
    const messageId = randomBytes(16).toString('base64url').slice(0, 22);
    this.delivered.push({
      messageId,
      from: b.from,
      personalizations: ps,
      subject: b.subject,
      content,
      replyTo: b.reply_to,
      customArgs: b.custom_args,
      attachments: b.attachments,
      at: Date.now(),
    });
    return { status: 202, headers: { 'x-message-id': messageId } };
  }
}
