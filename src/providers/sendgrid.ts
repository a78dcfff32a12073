import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import { parseRetryAfter, permanent, rateLimited, transient, type ProviderError } from '../contract/errors.js';
import { maskEmailsIn, scrub } from '../logger.js';
import type { EmailProvider } from './types.js';

export interface SendGridOptions {
  apiKey: string;
  baseUrl?: string;
  timeoutMs?: number;
}

/** `Name <addr>` or `"Name" <addr>` -> SendGrid's `{email, name}`. */
export function parseMailbox(value: string): { email: string; name?: string } {
  const m = /^\s*"?([^"<>]*?)"?\s*<([^<>\s]+)>\s*$/.exec(value);
  if (!m) return { email: value.trim() };
  const name = m[1]!.trim();
  return name ? { email: m[2]!, name } : { email: m[2]! };
}

/**
 * SendGrid via @sendgrid/mail on a client of our own (the module singletons are
 * process-global state). SendGrid has no idempotency key; the worker runtime covers that.
 */
export function createSendGrid(opts: SendGridOptions): EmailProvider {
  const client = new Client();
  // setApiKey resets the base URL to the region host, so the override must come after it.
  client.setApiKey(opts.apiKey);
  if (opts.baseUrl) client.setDefaultRequest('baseUrl', opts.baseUrl);
  const mail = new MailService();
  mail.setClient(client);
  // Becomes axios' `timeout` on every request of this client.
  mail.setTimeout(opts.timeoutMs ?? 15_000);
  const clean = (m: string) => maskEmailsIn(scrub(m, [opts.apiKey]));

  return {
    name: 'sendgrid',
    async send(message) {
      try {
        const [response] = await mail.send({
          from: parseMailbox(message.from),
          to: message.to,
          subject: message.subject,
          ...(message.text !== undefined && { text: message.text }),
          ...(message.html !== undefined && { html: message.html }),
          ...(message.replyTo && { replyTo: message.replyTo }),
          ...(message.tags && { customArgs: message.tags }),
          ...(message.attachments && {
            attachments: message.attachments.map((a) => ({
              filename: a.filename,
              content: a.content.replace(/\s+/g, ''), // the API takes one base64 line
              disposition: 'attachment',
              ...(a.contentType && { type: a.contentType }),
            })),
          }),
        } as Parameters<MailService['send']>[0]);
        const id = headerOf(response.headers, 'x-message-id');
        return { messageId: id ?? '' };
      } catch (err) {
        throw mapSendGridError(err, clean);
      }
    },
  };
}

interface SendGridFailure {
  code?: unknown;
  message?: string;
  isAxiosError?: boolean;
  response?: { headers?: unknown; body?: unknown };
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const v = (headers as Record<string, unknown>)[name];
  return v == null ? undefined : String(v);
}

export function mapSendGridError(err: unknown, clean: (m: string) => string = (m) => m, now = Date.now()): ProviderError {
  const e = (err ?? {}) as SendGridFailure;
  const status = typeof e.code === 'number' ? e.code : undefined;
  if (status === undefined) {
    // axios errors (refused, reset, timeout) carry a string code: no answer, outcome unknown.
    if (e.isAxiosError || typeof e.code === 'string') return transient(`sendgrid network: ${clean(String(e.message))}`);
    // Anything else was thrown by the SDK building the request: the same input fails again.
    return permanent('PROVIDER_REJECTED', `sendgrid refused the message locally: ${clean(String(e.message))}`);
  }
  const body = e.response?.body as { errors?: { message?: string; field?: string | null }[] } | undefined;
  const errors = Array.isArray(body?.errors) ? body.errors : [];
  const detail = errors.map((x) => (x.field ? `${x.field}: ${x.message}` : x.message)).join('; ');
  const msg = `sendgrid ${status}: ${clean(detail || String(e.message))}`;

  if (status === 429) {
    const reset = Number(headerOf(e.response?.headers, 'x-ratelimit-reset'));
    const fromReset = Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now) : undefined;
    return rateLimited(msg, fromReset ?? parseRetryAfter(headerOf(e.response?.headers, 'retry-after'), now));
  }
  if (status === 401 || status === 403) return permanent('PROVIDER_AUTH', msg);
  if (status === 408 || status >= 500) return transient(msg);
  const aboutRecipient = errors.some(
    (x) => /^personalizations\.\d+\.(to|cc|bcc)\b/.test(x.field ?? '') || (!x.field && /recipient/i.test(x.message ?? '')),
  );
  if (status === 400 && aboutRecipient) return permanent('INVALID_RECIPIENT', msg);
  return permanent('PROVIDER_REJECTED', msg);
}
