import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createResend, mapResendError } from '../src/providers/resend.js';
import { ResendOverUndici } from '../src/providers/resend-http.js';
import { createSendGrid, parseMailbox } from '../src/providers/sendgrid.js';
import type { EmailMessage } from '../src/providers/types.js';
import { FakeResend } from './fakes/resend.js';
import { FakeSendGrid } from './fakes/sendgrid.js';
import { freePort } from './support/redis.js';
import { failure } from './support/failure.js';

const message: EmailMessage = {
  from: 'Cabinet Martin <rdv@cabinet.example>',
  to: 'paul@example.com',
  subject: 'Votre rendez-vous',
  html: '<p>Bonjour</p>',
  text: 'Bonjour',
  replyTo: 'claire@example.com',
  tags: { kind: 'confirmation', appointment: 'apt_123' },
};

let keys = 0;
const ctx = () => ({ deliveryKey: `email-job-${++keys}-${Date.now()}` });

describe('resend adapter', () => {
  const fake = new FakeResend();
  let resend: ReturnType<typeof createResend>;

  beforeAll(async () => {
    await fake.start();
    resend = createResend({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 2_000 });
  });
  afterAll(() => fake.stop());
  afterEach(() => {
    fake.latencyMs = 0;
  });

  it('posts /emails with the bearer key, the mapped fields and the idempotency key', async () => {
    const c = ctx();
    const { messageId } = await resend.send(message, c);
    expect(messageId).toMatch(/^[0-9a-f-]{36}$/);
    const req = fake.requests.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/emails');
    expect(req.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(req.headers['idempotency-key']).toBe(c.deliveryKey);
    expect(req.body).toMatchObject({
      from: message.from,
      to: message.to,
      subject: message.subject,
      html: message.html,
      text: message.text,
      reply_to: message.replyTo,
      tags: [
        { name: 'kind', value: 'confirmation' },
        { name: 'appointment', value: 'apt_123' },
      ],
    });
    expect(fake.delivered.at(-1)).toMatchObject({ id: messageId, to: ['paul@example.com'] });
  });

  it('sends to several recipients and without optional fields', async () => {
    const before = fake.delivered.length;
    await resend.send({ from: 'rdv@cabinet.example', to: ['a@example.com', 'b@example.com'], subject: 's', text: 't' }, ctx());
    expect(fake.delivered.length).toBe(before + 1);
    const body = fake.requests.at(-1)!.body;
    expect(body.to).toEqual(['a@example.com', 'b@example.com']);
    expect(body).not.toHaveProperty('html');
    expect(body).not.toHaveProperty('tags');
  });

  it('delivers once when the same idempotency key is sent twice', async () => {
    const c = ctx();
    const before = fake.delivered.length;
    const first = await resend.send(message, c);
    const second = await resend.send(message, c);
    expect(second.messageId).toBe(first.messageId);
    expect(fake.received('POST', /^\/emails$/).filter((r) => r.headers['idempotency-key'] === c.deliveryKey)).toHaveLength(2);
    expect(fake.delivered.length).toBe(before + 1);
  });

  it('maps the same key with a different payload to PROVIDER_REJECTED', async () => {
    const c = ctx();
    await resend.send(message, c);
    const err = await failure(resend.send({ ...message, subject: 'autre' }, c));
    expect(err).toMatchObject({ code: 'PROVIDER_REJECTED', kind: 'permanent' });
    expect(err.message).toContain('invalid_idempotent_request');
  });

  it('maps concurrent requests with one key to a transient error', async () => {
    fake.failNext(1, { status: 409, body: { statusCode: 409, name: 'concurrent_idempotent_requests', message: 'Same idempotency key used while original request is still in progress.' } });
    expect(await failure(resend.send(message, ctx()))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
  });

  it('maps a malformed recipient to INVALID_RECIPIENT', async () => {
    const err = await failure(resend.send({ ...message, to: 'not-an-address' }, ctx()));
    expect(err).toMatchObject({ code: 'INVALID_RECIPIENT', kind: 'permanent' });
  });

  it('maps other validation errors to PROVIDER_REJECTED', async () => {
    const err = await failure(resend.send({ ...message, from: 'nobody' }, ctx()));
    expect(err).toMatchObject({ code: 'PROVIDER_REJECTED', kind: 'permanent' });
  });

  it('maps a wrong key (403 invalid_api_key) and a missing one (401) to PROVIDER_AUTH', async () => {
    const wrong = createResend({ apiKey: 're_wrong', baseUrl: fake.url });
    expect(await failure(wrong.send(message, ctx()))).toMatchObject({ code: 'PROVIDER_AUTH', kind: 'permanent' });
    fake.failNext(1, { status: 401, body: { statusCode: 401, name: 'missing_api_key', message: 'Missing API key in the authorization header.' } });
    expect(await failure(resend.send(message, ctx()))).toMatchObject({ code: 'PROVIDER_AUTH', kind: 'permanent' });
  });

  it('maps 429 to rate_limited with Retry-After', async () => {
    fake.failNext(1, {
      status: 429,
      headers: { 'retry-after': '2' },
      body: { statusCode: 429, name: 'rate_limit_exceeded', message: 'Too many requests. You can only make 2 requests per second.' },
    });
    const err = await failure(resend.send(message, ctx()));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'rate_limited', retryAfterMs: 2_000 });
  });

  it('treats the daily quota as a rate limit until the next UTC day', () => {
    const now = Date.parse('2024-01-15T22:00:00Z');
    const err = mapResendError({ statusCode: 429, name: 'daily_quota_exceeded', message: 'quota' }, {}, undefined, now);
    expect(err).toMatchObject({ kind: 'rate_limited', retryAfterMs: 2 * 3_600_000 });
    const told = mapResendError({ statusCode: 429, name: 'daily_quota_exceeded', message: 'quota' }, { 'retry-after': '60' }, undefined, now);
    expect(told.retryAfterMs).toBe(60_000);
  });

  it('maps 5xx, including a non-JSON body, to transient', async () => {
    fake.failNext(1, { status: 500, body: { statusCode: 500, name: 'internal_server_error', message: 'oops' } });
    expect(await failure(resend.send(message, ctx()))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
    fake.failNext(1, { status: 502, body: '<html>Bad Gateway</html>' });
    expect(await failure(resend.send(message, ctx()))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
    // A 200 that is not JSON (a proxy's page): unknown outcome, retried under the same key.
    fake.failNext(1, { status: 200, body: '<html>OK</html>' });
    const garbled = await failure(resend.send(message, ctx()));
    expect(garbled).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
    expect(garbled.message).toContain('not JSON');
  });

  it('lets the HTTP status decide when an error body has no statusCode (a proxy\'s JSON)', async () => {
    fake.failNext(1, { status: 413, body: { message: 'Request Entity Too Large' } });
    expect(await failure(resend.send(message, ctx()))).toMatchObject({ code: 'PROVIDER_REJECTED', kind: 'permanent' });
    fake.failNext(1, { status: 503, body: { message: 'Service Unavailable' } });
    expect(await failure(resend.send(message, ctx()))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
    fake.failNext(1, { status: 400, body: 'null' });
    expect(await failure(resend.send(message, ctx()))).toMatchObject({ code: 'PROVIDER_REJECTED', kind: 'permanent' });
  });

  it('maps a closed port to transient', async () => {
    const closed = createResend({ apiKey: fake.apiKey, baseUrl: `http://127.0.0.1:${await freePort()}` });
    expect(await failure(closed.send(message, ctx()))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
  });

  it('maps a reply slower than timeoutMs to transient', async () => {
    fake.latencyMs = 3_000;
    const quick = createResend({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 300 });
    const started = Date.now();
    const err = await failure(quick.send(message, ctx()));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
    expect(err.message).toContain('no answer within 300 ms');
    // undici checks its timeouts on a coarse (about half-second) clock.
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('sends through undici, and leaves what it does not understand to the SDK\'s own fetch', async () => {
    const sdk = new ResendOverUndici(fake.apiKey, { baseUrl: fake.url, userAgent: 'test', timeoutMs: 2_000 });
    const email = { from: 'rdv@cabinet.example', to: 'paul@example.com', subject: 's', text: 't' };
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    try {
      const plain = await sdk.emails.send(email, { idempotencyKey: ctx().deliveryKey });
      expect(plain.data?.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(fetchSpy).not.toHaveBeenCalled();
      // An option the override does not know (here an AbortSignal) means the SDK's path.
      const withSignal = await sdk.post<{ id: string }>('/emails', email, { signal: AbortSignal.timeout(2_000) } as object);
      expect(withSignal.data?.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(fetchSpy).toHaveBeenCalledTimes(1);
    } finally {
      fetchSpy.mockRestore();
    }
    expect(fake.requests.at(-1)!.headers['user-agent']).toBe('test');
  });

  it('answers GET /domains for the doctor command', async () => {
    const res = await fetch(`${fake.url}/domains`, { headers: { authorization: `Bearer ${fake.apiKey}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ data: [] });
  });
});

describe('sendgrid adapter', () => {
  const fake = new FakeSendGrid();
  let sendgrid: ReturnType<typeof createSendGrid>;

  beforeAll(async () => {
    await fake.start();
    sendgrid = createSendGrid({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 2_000 });
  });
  afterAll(() => fake.stop());
  afterEach(() => {
    fake.latencyMs = 0;
  });

  it('posts /v3/mail/send and returns X-Message-Id', async () => {
    const { messageId } = await sendgrid.send(message, ctx());
    const req = fake.requests.at(-1)!;
    expect(req.path).toBe('/v3/mail/send');
    expect(req.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(req.body).toMatchObject({
      from: { email: 'rdv@cabinet.example', name: 'Cabinet Martin' },
      personalizations: [{ to: [{ email: 'paul@example.com' }] }],
      subject: 'Votre rendez-vous',
      reply_to: { email: 'claire@example.com' },
      custom_args: { kind: 'confirmation', appointment: 'apt_123' },
    });
    expect(req.body.content).toEqual([
      { type: 'text/plain', value: 'Bonjour' },
      { type: 'text/html', value: '<p>Bonjour</p>' },
    ]);
    expect(messageId).toBe(fake.delivered.at(-1)!.messageId);
    expect(messageId).not.toBe('');
  });

  it('puts several recipients in one personalization and sends a bare from as is', async () => {
    await sendgrid.send({ from: 'rdv@cabinet.example', to: ['a@example.com', 'b@example.com'], subject: 's', html: '<b>h</b>' }, ctx());
    const body = fake.requests.at(-1)!.body;
    expect(body.from).toEqual({ email: 'rdv@cabinet.example' });
    expect(body.personalizations).toEqual([{ to: [{ email: 'a@example.com' }, { email: 'b@example.com' }] }]);
    expect(body).not.toHaveProperty('custom_args');
  });

  it('parses mailboxes', () => {
    expect(parseMailbox('"Cabinet Martin" <rdv@cabinet.example>')).toEqual({ email: 'rdv@cabinet.example', name: 'Cabinet Martin' });
    expect(parseMailbox('<rdv@cabinet.example>')).toEqual({ email: 'rdv@cabinet.example' });
    expect(parseMailbox(' rdv@cabinet.example ')).toEqual({ email: 'rdv@cabinet.example' });
  });

  it('maps a bad recipient address to INVALID_RECIPIENT', async () => {
    const before = fake.delivered.length;
    const err = await failure(sendgrid.send({ ...message, to: 'paul@localhost' }, ctx()));
    expect(err).toMatchObject({ code: 'INVALID_RECIPIENT', kind: 'permanent' });
    expect(err.message).toContain('personalizations.0.to.0.email');
    expect(fake.delivered.length).toBe(before);
  });

  it('maps other 400s to PROVIDER_REJECTED', async () => {
    const err = await failure(sendgrid.send({ ...message, from: 'Cabinet <rdv@localhost>' }, ctx()));
    expect(err).toMatchObject({ code: 'PROVIDER_REJECTED', kind: 'permanent' });
  });

  it('maps a wrong key to PROVIDER_AUTH', async () => {
    const wrong = createSendGrid({ apiKey: 'SG.wrong', baseUrl: fake.url });
    const err = await failure(wrong.send(message, ctx()));
    expect(err).toMatchObject({ code: 'PROVIDER_AUTH', kind: 'permanent' });
    expect(err.message).not.toContain('SG.wrong');
  });

  it('maps 429 to rate_limited with Retry-After or X-RateLimit-Reset', async () => {
    const body = { errors: [{ message: 'too many requests', field: null, help: null }] };
    fake.failNext(1, { status: 429, headers: { 'retry-after': '2' }, body });
    expect(await failure(sendgrid.send(message, ctx()))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 2_000 });
    const reset = Math.floor(Date.now() / 1000) + 30;
    fake.failNext(1, { status: 429, headers: { 'x-ratelimit-reset': String(reset) }, body });
    const err = await failure(sendgrid.send(message, ctx()));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBeGreaterThan(25_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('maps 5xx to transient', async () => {
    fake.failNext(1, { status: 503, body: { errors: [{ message: 'Service Unavailable', field: null, help: null }] } });
    expect(await failure(sendgrid.send(message, ctx()))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
  });

  it('maps a closed port to transient', async () => {
    const closed = createSendGrid({ apiKey: fake.apiKey, baseUrl: `http://127.0.0.1:${await freePort()}` });
    expect(await failure(closed.send(message, ctx()))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
  });

  it('maps a reply slower than timeoutMs to transient', async () => {
    fake.latencyMs = 1_000;
    const quick = createSendGrid({ apiKey: fake.apiKey, baseUrl: fake.url, timeoutMs: 200 });
    const started = Date.now();
    expect(await failure(quick.send(message, ctx()))).toMatchObject({ kind: 'transient' });
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('answers GET /v3/scopes for the doctor command', async () => {
    const res = await fetch(`${fake.url}/v3/scopes`, { headers: { authorization: `Bearer ${fake.apiKey}` } });
    expect(await res.json()).toEqual({ scopes: ['mail.send'] });
  });
});
