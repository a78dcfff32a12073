import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeResend } from './fakes/resend.js';
import { FakeSendGrid } from './fakes/sendgrid.js';
import { getSuppression } from '../src/delivery/suppressions.js';
import { startDeliveryStack } from './support/delivery.js';
import { finished, until } from './support/harness.js';
import { resendEvent, resendSecret, sendgridEvent, sendgridHeaders, sendgridKeys, svixHeaders } from './support/provider-events.js';

const FROM = { EMAIL_FROM: 'Clinic <rdv@example.com>' };

describe('Resend events through the real route, queue and workers', () => {
  const resend = new FakeResend();
  const secret = resendSecret();
  let s: Awaited<ReturnType<typeof startDeliveryStack>>;

  beforeAll(() => resend.start());
  afterAll(() => resend.stop());
  afterEach(async () => {
    await s?.close();
    resend.reset();
  });

  const start = (extra: Record<string, string> = {}) =>
    startDeliveryStack({ RESEND_API_KEY: resend.apiKey, RESEND_BASE_URL: resend.url, RESEND_WEBHOOK_SECRET: secret, ...FROM, ...extra }, ['email', 'delivery']);
  const post = (event: unknown, headers?: Record<string, string>) => {
    const body = JSON.stringify(event);
    return fetch(`${s.url}/providers/resend`, { method: 'POST', headers: headers ?? svixHeaders(secret, body), body });
  };
  const send = async (to: string | string[]) => {
    const { id } = await s.client.sendEmail({ to, subject: 'Rappel', text: 'Demain 10 h' });
    const job = await finished(s, 'email', id);
    return { id, job, messageId: job.returnvalue?.messageId as string };
  };

  it('sent -> delayed -> delivered, in order; a late sent and a replay change nothing', async () => {
    s = await start();
    const { id, messageId } = await send('paul@example.com');
    for (const type of ['email.sent', 'email.delivery_delayed', 'email.delivered']) expect((await post(resendEvent(type, messageId, ['paul@example.com']))).status).toBe(200);
    const d = await s.untilStatus('email', id, 'delivered');
    expect(d.history.map((h) => h.status)).toEqual(['sent', 'delayed', 'delivered']);
    const again = resendEvent('email.delivered', messageId, ['paul@example.com']);
    await post(again);
    await post(again);
    await post(resendEvent('email.sent', messageId, ['paul@example.com']));
    await new Promise((r) => setTimeout(r, 400));
    expect((await s.delivery('email', id))!.history).toHaveLength(3);
  });

  it('a hard bounce marks the message bounced and suppresses the address; the next email fails at once; a Transient one does not suppress', async () => {
    s = await start();
    const { id, messageId } = await send('Gone@Example.com');
    await post(resendEvent('email.delivered', messageId, ['Gone@Example.com']));
    await s.untilStatus('email', id, 'delivered');
    // A late bounce may follow delivered.
    await post(resendEvent('email.bounced', messageId, ['Gone@Example.com'], { bounce: { type: 'Permanent', subType: 'General', message: 'no such user' } }));
    const d = await s.untilStatus('email', id, 'bounced');
    expect(d.errorCode).toBe('Permanent/General');
    expect(await getSuppression(s.db, 'email', 'gone@example.com')).toMatchObject({ reason: 'bounced' });

    const calls = resend.requests.length;
    const next = await send('gone@example.com');
    expect(next.job.failedReason).toBe('RECIPIENT_SUPPRESSED: bounced');
    expect(next.job.attemptsMade).toBe(1);
    expect(resend.requests.length).toBe(calls);

    // Several recipients: the suppressed one is left out and listed; the others get it.
    const multi = await send(['gone@example.com', 'paul@example.com']);
    expect(multi.job.returnvalue).toMatchObject({ status: 'sent', suppressed: ['gone@example.com'] });
    expect(resend.delivered.at(-1)!.to).toEqual(['paul@example.com']);

    const t = await send('full@example.com');
    await post(resendEvent('email.bounced', t.messageId, ['full@example.com'], { bounce: { type: 'Transient', subType: 'MailboxFull' } }));
    await s.untilStatus('email', t.id, 'bounced');
    expect(await getSuppression(s.db, 'email', 'full@example.com')).toBeNull();

    const c = await send('angry@example.com');
    await post(resendEvent('email.complained', c.messageId, ['angry@example.com']));
    await s.untilStatus('email', c.id, 'complained');
    expect(await getSuppression(s.db, 'email', 'angry@example.com')).toMatchObject({ reason: 'complained' });
  });

  it('refuses unsigned, forged, stale and not-JSON bodies; an unknown type is acknowledged', async () => {
    s = await start();
    const { id, messageId } = await send('paul@example.com');
    const event = resendEvent('email.delivered', messageId, ['paul@example.com']);
    const body = JSON.stringify(event);
    expect((await post(event, { 'content-type': 'application/json' })).status).toBe(403);
    expect((await post(event, svixHeaders(resendSecret(), body))).status).toBe(403);
    expect((await post(event, svixHeaders(secret, body, new Date(Date.now() - 6 * 60_000)))).status).toBe(403);
    expect((await post(event, svixHeaders(secret, body + ' '))).status).toBe(403);
    const notJson = 'not json at all';
    expect((await fetch(`${s.url}/providers/resend`, { method: 'POST', headers: svixHeaders(secret, notJson), body: notJson })).status).toBe(400);
    const noId = JSON.stringify({ type: 'email.delivered', data: {} });
    expect((await fetch(`${s.url}/providers/resend`, { method: 'POST', headers: svixHeaders(secret, noId), body: noId })).status).toBe(400);
    expect((await post(resendEvent('email.opened', messageId, ['paul@example.com']))).status).toBe(200);
    const junk = 'x'.repeat(1024 * 1024 + 1);
    const big = await fetch(`${s.url}/providers/resend`, { method: 'POST', headers: svixHeaders(secret, junk), body: junk });
    expect(big.status).toBe(413);
    await new Promise((r) => setTimeout(r, 300));
    expect(await s.delivery('email', id)).toBeNull();
  });

  it('answers 404 not_configured without RESEND_WEBHOOK_SECRET', async () => {
    s = await start({ RESEND_WEBHOOK_SECRET: '' });
    const res = await post(resendEvent('email.delivered', 'x', ['a@example.com']));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not_configured' });
  });
});

describe('SendGrid events through the real route, queue and workers', () => {
  const sendgrid = new FakeSendGrid();
  const keys = sendgridKeys();
  let s: Awaited<ReturnType<typeof startDeliveryStack>>;

  beforeAll(() => sendgrid.start());
  afterAll(() => sendgrid.stop());
  afterEach(async () => {
    await s?.close();
    sendgrid.reset();
  });

  const start = (extra: Record<string, string> = {}) =>
    startDeliveryStack(
      { SENDGRID_API_KEY: sendgrid.apiKey, SENDGRID_API_BASE_URL: sendgrid.url, SENDGRID_WEBHOOK_PUBLIC_KEY: keys.publicKeyBase64, ...FROM, ...extra },
      ['email', 'delivery'],
    );
  const postRaw = (body: string, headers = sendgridHeaders(keys, body)) => fetch(`${s.url}/providers/sendgrid`, { method: 'POST', headers, body });
  const send = async (to: string) => {
    const { id } = await s.client.sendEmail({ to, subject: 'Rappel', text: 'Demain 10 h' });
    const job = await finished(s, 'email', id);
    return { id, job, messageId: job.returnvalue?.messageId as string };
  };

  it('maps a batch by X-Message-Id prefix, in array order; a bounce suppresses; opens and unknown ids are fine', async () => {
    s = await start();
    const a = await send('paul@example.com');
    const b = await send('gone@example.com');
    const batch = [
      sendgridEvent('processed', a.messageId, 'paul@example.com'),
      sendgridEvent('delivered', a.messageId, 'paul@example.com'),
      sendgridEvent('open', a.messageId, 'paul@example.com'),
      sendgridEvent('processed', b.messageId, 'gone@example.com'),
      sendgridEvent('bounce', b.messageId, 'Gone@example.com', { type: 'bounce', status: '5.1.1', reason: 'no such user' }),
      sendgridEvent('delivered', 'unknownid0000000000000', 'x@example.com'),
    ];
    expect((await postRaw(JSON.stringify(batch))).status).toBe(200);
    const da = await s.untilStatus('email', a.id, 'delivered');
    expect(da.history.map((h) => h.status)).toEqual(['sent', 'delivered']);
    const db = await s.untilStatus('email', b.id, 'bounced');
    expect(db.errorCode).toBe('5.1.1');
    expect(await getSuppression(s.db, 'email', 'gone@example.com')).toMatchObject({ reason: 'bounced' });
    const again = await send('gone@example.com');
    expect(again.job.failedReason).toBe('RECIPIENT_SUPPRESSED: bounced');

    const c = await send('angry@example.com');
    await postRaw(JSON.stringify([sendgridEvent('spamreport', c.messageId, 'angry@example.com')]));
    await s.untilStatus('email', c.id, 'complained');
    expect(await getSuppression(s.db, 'email', 'angry@example.com')).toMatchObject({ reason: 'complained' });
  });

  it('refuses unsigned, forged, stale and junk-signed requests; a body that is not an array is 400', async () => {
    s = await start();
    const a = await send('paul@example.com');
    const body = JSON.stringify([sendgridEvent('delivered', a.messageId, 'paul@example.com')]);
    expect((await postRaw(body, { 'content-type': 'application/json' })).status).toBe(403);
    expect((await postRaw(body, sendgridHeaders(sendgridKeys(), body))).status).toBe(403);
    expect((await postRaw(body, sendgridHeaders(keys, body, new Date(Date.now() - 6 * 60_000)))).status).toBe(403);
    expect((await postRaw(body, sendgridHeaders(keys, body, new Date(Date.now() + 6 * 60_000)))).status).toBe(403);
    expect((await postRaw(body, { ...sendgridHeaders(keys, body), 'x-twilio-email-event-webhook-signature': 'bm90IGEgc2lnbmF0dXJl' })).status).toBe(403);
    expect((await postRaw(body + ' ', sendgridHeaders(keys, body))).status).toBe(403);
    const obj = JSON.stringify({ event: 'delivered' });
    expect((await postRaw(obj)).status).toBe(400);
    expect((await postRaw('[{"event":')).status).toBe(400);
    expect((await postRaw('[1,2]')).status).toBe(400);
    await new Promise((r) => setTimeout(r, 300));
    expect(await s.delivery('email', a.id)).toBeNull();
  });

  it('answers 404 not_configured without SENDGRID_WEBHOOK_PUBLIC_KEY', async () => {
    s = await start({ SENDGRID_WEBHOOK_PUBLIC_KEY: '' });
    expect((await postRaw('[]')).status).toBe(404);
  });
});
