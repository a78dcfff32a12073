import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeServer } from './fakes/server.js';
import { FakeTwilio, postSignedTwilio } from './fakes/twilio.js';
import { recordSend } from '../src/delivery/status-store.js';
import { getSuppression } from '../src/delivery/suppressions.js';
import { startDeliveryStack } from './support/delivery.js';
import { finished, startHarness, until } from './support/harness.js';
import { bearer } from './support/server.js';

const PHONE = '+33612345678';
const STATUS = '/providers/twilio/status';
const INBOUND = '/providers/twilio/inbound';

describe('Twilio delivery events through the real server, queue and workers', () => {
  const twilio = new FakeTwilio();
  const receiver = new FakeServer().route('POST', /^\/hook$/, () => ({ status: 200, body: { ok: true } }));
  let s: Awaited<ReturnType<typeof startDeliveryStack>>;

  beforeAll(async () => {
    await twilio.start();
    await receiver.start();
  });
  afterAll(async () => {
    await twilio.stop();
    await receiver.stop();
  });
  afterEach(async () => {
    await twilio.settled();
    await s?.close();
    twilio.reset();
    twilio.delivered.length = 0;
    twilio.callbacks.length = 0;
    twilio.callbackScripts.clear();
    twilio.optedOut.clear();
    receiver.reset();
  });

  const env = (extra: Record<string, string> = {}) => ({
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_PHONE_NUMBER: '+15005550006',
    TWILIO_WHATSAPP_NUMBER: 'whatsapp:+14155238886',
    TWILIO_API_BASE_URL: twilio.url,
    WEBHOOK_URL: `${receiver.url}/hook`,
    WEBHOOK_SECRET: 'whsec-test',
    ...extra,
  });
  const start = (extra: Record<string, string> = {}) => startDeliveryStack(env(extra), ['sms', 'whatsapp', 'delivery', 'webhook']);
  const events = () => receiver.received('POST', /^\/hook$/).map((r) => r.body as { id: string; type: string; data: Record<string, unknown> });
  const post = (path: string, params: Record<string, string>, token = twilio.authToken, signedUrl?: string) =>
    postSignedTwilio(`${s.url}${path}`, params, token, signedUrl ?? `${s.url}${path}`);
  const callback = (sid: string, status: string, extra: Record<string, string> = {}) => ({
    AccountSid: twilio.accountSid,
    MessageSid: sid,
    MessageStatus: status,
    To: PHONE,
    From: '+15005550006',
    ...extra,
  });

  it('sends StatusCallback = PUBLIC_URL + path and follows sent -> delivered; GET /v1/jobs shows it; one message.delivered', async () => {
    s = await start();
    const { id } = await s.client.sendSms({ to: PHONE, body: 'Rappel' });
    await finished(s, 'sms', id);
    expect(twilio.requests.at(-1)!.body.StatusCallback).toBe(`${s.url}${STATUS}`);
    const d = await s.untilStatus('sms', id, 'delivered');
    expect(d.history.map((x) => x.status)).toEqual(['sent', 'delivered']);
    expect(twilio.callbacks.every((c) => c.httpStatus === 200)).toBe(true);

    const res = await s.app.inject({ method: 'GET', url: `/v1/jobs/sms/${id}`, headers: bearer });
    expect(res.json().delivery).toMatchObject({ status: 'delivered', history: [{ status: 'sent' }, { status: 'delivered' }] });

    const ev = await until(() => events().find((e) => e.type === 'message.delivered'), 10_000, 'message.delivered');
    expect(ev.data).toMatchObject({ queue: 'sms', jobId: id, channel: 'sms', provider: 'twilio', status: 'delivered' });
    expect(ev.data.messageId).toMatch(/^SM/);

    // The same callback again, and a late `sent`: acknowledged, nothing changes, nothing told twice.
    const sid = twilio.callbacks[0]!.params.MessageSid!;
    expect((await post(STATUS, callback(sid, 'delivered'))).status).toBe(200);
    expect((await post(STATUS, callback(sid, 'sent'))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect((await s.delivery('sms', id))!.history).toHaveLength(2);
    expect(events().filter((e) => e.type === 'message.delivered')).toHaveLength(1);

    const metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/notification_delivery_events_total\{channel="sms",provider="twilio",status="delivered"\} 2/);
  });

  it('a WhatsApp refused after the 24 h window (undelivered 63016) is told as message.undelivered with its code', async () => {
    s = await start();
    twilio.callbackScripts.set(PHONE, [{ status: 'sent' }, { status: 'undelivered', errorCode: '63016' }]);
    const ref = { appointmentId: 'apt_42', kind: 'J-1' as const, version: 1, recipient: 'attendee' as const };
    // Added as the appointments feature adds its messages: producers cannot set `ref`.
    const id = (await s.queue('whatsapp').add('send', { to: PHONE, body: 'Bonjour', ref }, { jobId: 'apt-apt_42-J-1-v1-whatsapp' })).id!;
    const d = await s.untilStatus('whatsapp', id, 'undelivered');
    expect(d.errorCode).toBe('63016');
    const ev = await until(() => events().find((e) => e.type === 'message.undelivered'), 10_000, 'message.undelivered');
    expect(ev.data).toMatchObject({ queue: 'whatsapp', channel: 'whatsapp', status: 'undelivered', errorCode: '63016', appointmentId: 'apt_42', kind: 'J-1' });
    // A negative status is final: a late delivered changes nothing.
    await post(STATUS, callback(twilio.callbacks[0]!.params.MessageSid!, 'delivered', { To: `whatsapp:${PHONE}` }));
    await new Promise((r) => setTimeout(r, 300));
    expect((await s.delivery('whatsapp', id))!.status).toBe('undelivered');
  });

  it('without PUBLIC_URL sends carry no StatusCallback and the routes answer 404 not_configured', async () => {
    s = await start({ PUBLIC_URL: '' });
    const { id } = await s.client.sendSms({ to: PHONE, body: 'x' });
    await finished(s, 'sms', id);
    expect(twilio.requests.at(-1)!.body.StatusCallback).toBeUndefined();
    for (const path of [STATUS, INBOUND]) {
      const res = await post(path, callback('SM' + 'a'.repeat(32), 'sent'));
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'not_configured' });
    }
  });

  it('refuses unsigned, forged, wrong-URL, malformed, junk and other-account requests without changing anything', async () => {
    twilio.defaultCallbacks = [{ status: 'sent' }];
    s = await start();
    const { id } = await s.client.sendSms({ to: PHONE, body: 'x' });
    await s.untilStatus('sms', id, 'sent');
    twilio.defaultCallbacks = [{ status: 'sent' }, { status: 'delivered' }];
    const sid = twilio.callbacks[0]!.params.MessageSid!;
    const form = new URLSearchParams(callback(sid, 'delivered')).toString();

    const unsigned = await fetch(`${s.url}${STATUS}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toEqual({ error: 'invalid_signature' });
    expect((await post(STATUS, callback(sid, 'delivered'), 'another-token')).status).toBe(403);
    // Signed for the Host the request reached through a proxy, not PUBLIC_URL.
    expect((await post(STATUS, callback(sid, 'delivered'), twilio.authToken, `http://internal:3000${STATUS}`)).status).toBe(403);
    // Signed, then tampered with.
    const tampered = await fetch(`${s.url}${STATUS}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'AAAA' },
      body: form,
    });
    expect(tampered.status).toBe(403);
    expect((await post(STATUS, { AccountSid: twilio.accountSid, MessageStatus: 'delivered' })).status).toBe(400);
    expect((await post(STATUS, { AccountSid: twilio.accountSid, MessageSid: 'not-a-sid', MessageStatus: 'delivered' })).status).toBe(400);
    const other = await post(STATUS, callback(sid, 'delivered', { AccountSid: 'AC' + 'b2'.repeat(16) }));
    expect(other.status).toBe(200);
    const junk = await fetch(`${s.url}${STATUS}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x'.repeat(1024 * 1024 + 10) });
    expect(junk.status).toBeGreaterThanOrEqual(400);
    expect(junk.status).toBeLessThan(500);
    const json = await fetch(`${s.url}${STATUS}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"MessageSid":' });
    expect(json.status).toBe(403);

    await new Promise((r) => setTimeout(r, 300));
    expect((await s.delivery('sms', id))!.status).toBe('sent');
    const metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/notification_delivery_events_refused_total\{provider="twilio",reason="invalid_signature"\} [4-9]/);
    expect(metrics).toMatch(/notification_delivery_events_refused_total\{provider="twilio",reason="other_account"\} 1/);
    expect(metrics).toMatch(/notification_delivery_events_refused_total\{provider="twilio",reason="malformed"\} 2/);
  });

  it('keeps an event for a message id not recorded yet and applies it once the send is recorded', async () => {
    s = await start();
    twilio.callbackScripts.set(PHONE, []);
    const { id } = await s.client.sendSms({ to: PHONE, body: 'x' });
    const job = await finished(s, 'sms', id);
    const sid = job.returnvalue.messageId as string;
    // As if the callback overtook the worker recording the send.
    await s.client.connection.del(`${s.config.redis.prefix}:dlv:twilio:${sid}`);
    expect((await post(STATUS, callback(sid, 'delivered'))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await s.delivery('sms', id)).toBeNull();
    await recordSend(s.db, 'twilio', sid, 'sms', id, 60);
    const d = await s.untilStatus('sms', id, 'delivered', 15_000);
    expect(d.history).toHaveLength(1);
  });

  it('an acknowledged event is durable: with no delivery worker running it waits in Redis, and is applied once one starts', async () => {
    twilio.callbackScripts.set(PHONE, []);
    s = await startDeliveryStack(env(), ['sms']);
    const { id } = await s.client.sendSms({ to: PHONE, body: 'x' });
    const sid = (await finished(s, 'sms', id)).returnvalue.messageId as string;
    expect((await post(STATUS, callback(sid, 'delivered'))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await s.delivery('sms', id)).toBeNull();
    const later = await startHarness({ ...env(), QUEUE_PREFIX: s.config.redis.prefix }, ['delivery']);
    try {
      expect((await s.untilStatus('sms', id, 'delivered')).history).toHaveLength(1);
    } finally {
      await later.close();
    }
  });

    it('inbound STOP (any case, spaces, ARRET, OptOutType) suppresses the channel; a send then fails at once calling nobody; START lifts it', async () => {
    s = await start();
    const inbound = (from: string, body: string, extra: Record<string, string> = {}) =>
      post(INBOUND, { AccountSid: twilio.accountSid, From: from, To: '+15005550006', Body: body, MessageSid: 'SM' + 'd4'.repeat(16), ...extra });
    const res = await inbound(PHONE, '  stop ');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/xml/);
    const entry = await until(() => getSuppression(s.db, 'sms', PHONE), 10_000, 'sms opt-out');
    expect(entry).toMatchObject({ channel: 'sms', recipient: PHONE, reason: 'opted_out' });
    expect(Number.isNaN(Date.parse(entry!.since))).toBe(false);
    expect(await getSuppression(s.db, 'whatsapp', PHONE)).toBeNull();

    const before = twilio.delivered.length;
    const { id } = await s.client.sendSms({ to: PHONE, body: 'x' });
    const job = await finished(s, 'sms', id);
    expect(job.failedReason).toBe('RECIPIENT_SUPPRESSED: opted_out');
    expect(job.attemptsMade).toBe(1);
    expect(twilio.delivered.length).toBe(before);

    await inbound('whatsapp:+33687654321', 'Arret');
    await until(() => getSuppression(s.db, 'whatsapp', '+33687654321'), 10_000, 'whatsapp opt-out');
    await inbound('+33611111111', 'Please no more', { OptOutType: 'STOP' });
    await until(() => getSuppression(s.db, 'sms', '+33611111111'), 10_000, 'OptOutType opt-out');
    await inbound('+33622222222', 'See you tomorrow');

    await inbound(PHONE, 'START');
    await until(async () => (await getSuppression(s.db, 'sms', PHONE)) === null, 10_000, 'opt-in');
    await new Promise((r) => setTimeout(r, 200));
    expect(await getSuppression(s.db, 'sms', '+33622222222')).toBeNull();
  });

  it('a 21610 at send and a 21610 in a status callback both put the number on the list', async () => {
    s = await start();
    twilio.optedOut.add(PHONE);
    const { id } = await s.client.sendSms({ to: PHONE, body: 'x' });
    const job = await finished(s, 'sms', id);
    expect(job.failedReason).toMatch(/^RECIPIENT_OPTED_OUT/);
    expect(await getSuppression(s.db, 'sms', PHONE)).toMatchObject({ reason: 'opted_out' });

    const other = '+33633333333';
    twilio.callbackScripts.set(other, [{ status: 'failed', errorCode: '21610' }]);
    const w = await s.client.sendWhatsApp({ to: other, body: 'x' });
    await s.untilStatus('whatsapp', w.id, 'failed');
    expect(await getSuppression(s.db, 'whatsapp', other)).toMatchObject({ reason: 'opted_out' });
  });
});
