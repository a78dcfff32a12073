import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { InvalidPayloadError } from '../src/contract/errors.js';
import { emailPayload, MAX_ATTACHMENT_BYTES } from '../src/contract/schemas.js';
import { createLogger } from '../src/logger.js';
import { NotificationClient } from '../src/producer/client.js';
import { createService, startWorkers } from '../src/service.js';
import { FakeResend } from './fakes/resend.js';
import { FakeSendGrid } from './fakes/sendgrid.js';
import { testEnv } from './support/config.js';
import { finished, until } from './support/harness.js';
import { bearer, startApp } from './support/server.js';

const mail = { to: 'paul@example.com', subject: 'Votre facture', text: 'Ci-joint.' };
const pdf = randomBytes(3000);
// MIME-style base64: 76-character lines, which the schema accepts and the adapters join.
const wrapped = pdf.toString('base64').replace(/.{76}/g, '$&\r\n');

describe('email attachments through both providers', () => {
  const resend = new FakeResend();
  const sendgrid = new FakeSendGrid();
  const lines: string[] = [];
  let running: ReturnType<typeof startWorkers> | undefined;
  let client: NotificationClient | undefined;

  beforeAll(async () => {
    await resend.start();
    await sendgrid.start();
  });
  afterAll(async () => {
    await resend.stop();
    await sendgrid.stop();
  });
  afterEach(async () => {
    await running?.close();
    await client?.close();
    resend.reset();
    sendgrid.reset();
    lines.length = 0;
  });

  /** Workers logging at debug into `lines`, and a producer on the same prefix. */
  function start(provider: 'resend' | 'sendgrid') {
    const env =
      provider === 'resend'
        ? { RESEND_API_KEY: resend.apiKey, RESEND_BASE_URL: resend.url }
        : { SENDGRID_API_KEY: sendgrid.apiKey, SENDGRID_API_BASE_URL: sendgrid.url };
    const config = loadConfig(testEnv({ ...env, EMAIL_FROM: 'Cabinet <no-reply@example.com>', JOB_ATTEMPTS: '3' }));
    const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
    running = startWorkers(createService(config, createLogger('debug', sink)), ['email']);
    client = NotificationClient.fromConfig(config);
    return { config, client };
  }

  it('Resend: filename, standard base64 on one line, content type; never in the logs', async () => {
    const { client } = start('resend');
    const { id } = await client.sendEmail({
      ...mail,
      attachments: [
        { filename: 'facture 12.pdf', content: wrapped, contentType: 'application/pdf' },
        { filename: 'notes.txt', content: Buffer.from('é;,\n').toString('base64') },
      ],
    });
    const job = await finished({ queue: (n) => client.queue(n) }, 'email', id);
    expect(job.returnvalue).toMatchObject({ status: 'sent', provider: 'resend' });
    const sent = resend.delivered[0]!.attachments!;
    expect(sent).toEqual([
      { filename: 'facture 12.pdf', content: pdf.toString('base64'), content_type: 'application/pdf' },
      { filename: 'notes.txt', content: Buffer.from('é;,\n').toString('base64') },
    ]);
    expect(Buffer.from(sent[0]!.content, 'base64').equals(pdf)).toBe(true);
    await until(() => lines.length > 0, 5_000, 'log lines');
    const logs = lines.join('');
    expect(logs).not.toContain(pdf.toString('base64').slice(0, 40));
  });

  it('SendGrid: the same attachment, as SendGrid takes it', async () => {
    const { client } = start('sendgrid');
    const { id } = await client.sendEmail({ ...mail, attachments: [{ filename: 'facture.pdf', content: wrapped, contentType: 'application/pdf' }] });
    const job = await finished({ queue: (n) => client.queue(n) }, 'email', id);
    expect(job.returnvalue).toMatchObject({ status: 'sent', provider: 'sendgrid' });
    expect(sendgrid.delivered[0]!.attachments).toEqual([
      { filename: 'facture.pdf', content: pdf.toString('base64'), type: 'application/pdf', disposition: 'attachment' },
    ]);
  });

  it('an invalid attachment written straight into Redis fails once, INVALID_PAYLOAD naming attachments, nothing sent', async () => {
    const { config } = start('resend');
    const raw = new Queue('email', { connection: { url: config.redis.url }, prefix: config.redis.prefix });
    try {
      const job = await raw.add('send', { ...mail, attachments: [{ filename: '../etc/passwd', content: 'not base64!' }] }, { attempts: 3 });
      const done = await finished({ queue: () => raw }, 'email', job.id!);
      expect(done.failedReason).toMatch(/^INVALID_PAYLOAD: .*attachments\.0\.filename/);
      expect(done.failedReason).toMatch(/attachments\.0\.content/);
      expect(done.attemptsMade).toBe(1);
      expect(resend.delivered).toHaveLength(0);
      expect(lines.join('')).not.toContain('not base64!');
    } finally {
      await raw.close();
    }
  });
});

describe('email attachment limits (the one schema)', () => {
  const b64 = (n: number) => Buffer.alloc(n, 1).toString('base64');
  const bad = (attachments: unknown) => {
    const r = emailPayload.safeParse({ ...mail, attachments });
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => i.path.join('.')).join(' ');
  };

  it('accepts up to 10 attachments and 7 MiB decoded in all', () => {
    const ten = Array.from({ length: 10 }, (_, i) => ({ filename: `f${i}.bin`, content: b64(MAX_ATTACHMENT_BYTES / 10 - 1) }));
    expect(emailPayload.safeParse({ ...mail, attachments: ten }).success).toBe(true);
    expect(emailPayload.safeParse({ ...mail, attachments: [{ filename: 'a', content: 'YQ==' }, { filename: 'b', content: 'YWI=' }, { filename: 'c', content: 'YWJj' }] }).success).toBe(true);
  });

  it('refuses the rest, naming attachments', () => {
    expect(bad(Array.from({ length: 11 }, () => ({ filename: 'a', content: 'YQ==' })))).toMatch(/^attachments$/);
    expect(bad([{ filename: 'big', content: b64(MAX_ATTACHMENT_BYTES + 1) }])).toMatch(/^attachments$/);
    expect(bad([{ filename: 'a', content: 'YQ' }])).toBe('attachments.0.content'); // unpadded
    expect(bad([{ filename: 'a', content: 'YQ-_' }])).toBe('attachments.0.content'); // base64url
    expect(bad([{ filename: 'a', content: '' }])).toBe('attachments.0.content');
    for (const filename of ['a/b.pdf', 'a\\b.pdf', 'a\r\nb.pdf', ''])
      expect(bad([{ filename, content: 'YQ==' }])).toMatch(/^attachments\.0\.filename( |$)/);
    expect(bad([{ filename: 'a', content: 'YQ==', contentType: 'text/plain\r\nX: y' }])).toBe('attachments.0.contentType');
    expect(bad({ filename: 'a', content: 'YQ==' })).toBe('attachments');
  });

  it('the producer refuses before enqueueing', async () => {
    const client = NotificationClient.fromConfig(loadConfig(testEnv()));
    try {
      await expect(client.sendEmail({ ...mail, attachments: [{ filename: 'x/y', content: 'YQ==' }] })).rejects.toThrow(InvalidPayloadError);
      await expect(client.sendEmail({ ...mail, attachments: [{ filename: 'x/y', content: 'YQ==' }] })).rejects.toThrow(/attachments/);
    } finally {
      await client.close();
    }
  });
});

describe('POST /v1/emails body limit', () => {
  let s: Awaited<ReturnType<typeof startApp>>;
  beforeAll(async () => {
    s = await startApp();
  });
  afterAll(() => s.close());

  it('takes an email with 6 MiB of attachments (a body over 1 MiB), refuses one over 10 MiB with 413', async () => {
    const six = Buffer.alloc(6 * 1024 * 1024, 7).toString('base64');
    const ok = await s.app.inject({ method: 'POST', url: '/v1/emails', headers: bearer, payload: { ...mail, attachments: [{ filename: 'big.bin', content: six }] } });
    expect(ok.statusCode).toBe(202);
    const tooBig = await s.app.inject({ method: 'POST', url: '/v1/emails', headers: bearer, payload: { ...mail, text: 'x'.repeat(11 * 1024 * 1024) } });
    expect(tooBig.statusCode).toBe(413);
    const invalid = await s.app.inject({ method: 'POST', url: '/v1/emails', headers: bearer, payload: { ...mail, attachments: [{ filename: 'a/b', content: 'YQ==' }] } });
    expect(invalid.statusCode).toBe(400);
    expect(JSON.stringify(invalid.json())).toContain('attachments');
  });
});
