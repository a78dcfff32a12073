import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTwilio } from '../src/providers/twilio.js';
import { FakeTwilio } from './fakes/twilio.js';
import { freePort } from './support/redis.js';
import { failure } from './support/failure.js';

const ctx = { deliveryKey: 'job-1' };
const SMS_FROM = '+15005550006';
const WA_FROM = 'whatsapp:+14155238886';
const TO = '+33612345678';

describe('twilio adapter', () => {
  const fake = new FakeTwilio();
  let twilio: ReturnType<typeof createTwilio>;

  beforeAll(async () => {
    await fake.start();
    twilio = createTwilio({ accountSid: fake.accountSid, authToken: fake.authToken, baseUrl: fake.url, timeoutMs: 2_000 });
  });
  afterAll(() => fake.stop());
  afterEach(() => {
    fake.latencyMs = 0;
    fake.invalidNumbers.clear();
    fake.optedOut.clear();
  });

  it('sends an SMS to the Messages resource with Basic auth', async () => {
    const receipt = await twilio.sendSms({ from: SMS_FROM, to: TO, body: 'Votre rendez-vous est demain' }, ctx);
    expect(receipt.messageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(receipt.providerStatus).toBe('queued');
    const req = fake.requests.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`/2010-04-01/Accounts/${fake.accountSid}/Messages.json`);
    expect(req.headers.authorization).toBe(
      'Basic ' + Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64'),
    );
    expect(req.body).toMatchObject({ From: SMS_FROM, To: TO, Body: 'Votre rendez-vous est demain' });
    expect(fake.delivered.at(-1)).toMatchObject({ sid: receipt.messageId, to: TO, from: SMS_FROM });
  });

  it('sends a WhatsApp session message with the whatsapp: scheme on both ends', async () => {
    const receipt = await twilio.sendWhatsApp({ from: WA_FROM, to: TO, body: 'Bonjour' }, ctx);
    expect(receipt.providerStatus).toBe('queued');
    expect(fake.requests.at(-1)!.body).toEqual({ From: WA_FROM, To: `whatsapp:${TO}`, Body: 'Bonjour' });
  });

  it('sends a WhatsApp template with ContentSid and ContentVariables as a JSON string', async () => {
    const contentSid = 'HX' + '0'.repeat(32);
    await twilio.sendWhatsApp({ from: WA_FROM, to: TO, contentSid, contentVariables: { '1': 'Paul', '2': '10:00' } }, ctx);
    const body = fake.requests.at(-1)!.body;
    expect(body).toEqual({
      From: WA_FROM,
      To: `whatsapp:${TO}`,
      ContentSid: contentSid,
      ContentVariables: JSON.stringify({ '1': 'Paul', '2': '10:00' }),
    });
    expect(fake.delivered.at(-1)).toMatchObject({ contentSid, contentVariables: '{"1":"Paul","2":"10:00"}' });
  });

  it('maps 21211 to a permanent INVALID_RECIPIENT without leaking the body', async () => {
    fake.invalidNumbers.add('+15005550001');
    const before = fake.delivered.length;
    const err = await failure(twilio.sendSms({ from: SMS_FROM, to: '+15005550001', body: 'secret code 1234' }, ctx));
    expect(err).toMatchObject({ code: 'INVALID_RECIPIENT', kind: 'permanent' });
    expect(err.message).toMatch(/^INVALID_RECIPIENT: .*21211/);
    expect(err.message).not.toContain('secret code');
    expect(fake.delivered.length).toBe(before);
  });

  it('maps 21610 to RECIPIENT_OPTED_OUT, for WhatsApp too', async () => {
    fake.optedOut.add(TO);
    const err = await failure(twilio.sendWhatsApp({ from: WA_FROM, to: TO, body: 'x' }, ctx));
    expect(err).toMatchObject({ code: 'RECIPIENT_OPTED_OUT', kind: 'permanent' });
  });

  it('maps 63016 (outside the 24 h window) to PROVIDER_REJECTED', async () => {
    fake.failNext(1, { status: 400, body: { code: 63016, message: 'Failed to send freeform message because you are outside the allowed window.', status: 400 } });
    const err = await failure(twilio.sendWhatsApp({ from: WA_FROM, to: TO, body: 'x' }, ctx));
    expect(err).toMatchObject({ code: 'PROVIDER_REJECTED', kind: 'permanent' });
  });

  it('maps a wrong auth token (401/20003) to PROVIDER_AUTH without leaking the token', async () => {
    const bad = createTwilio({ accountSid: fake.accountSid, authToken: 'wrong-token-xyz', baseUrl: fake.url });
    const err = await failure(bad.sendSms({ from: SMS_FROM, to: TO, body: 'x' }, ctx));
    expect(err).toMatchObject({ code: 'PROVIDER_AUTH', kind: 'permanent' });
    expect(err.message).not.toContain('wrong-token-xyz');
  });

  it('maps 429 (20429) to rate_limited with its Retry-After', async () => {
    fake.failNext(1, { status: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 }, headers: { 'retry-after': '7' } });
    const before = fake.requests.length;
    const err = await failure(twilio.sendSms({ from: SMS_FROM, to: TO, body: 'x' }, ctx));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'rate_limited', retryAfterMs: 7000 });
    expect(err.message).toContain('20429');
    // One request: the SDK must not retry on its own; the queue owns the wait.
    expect(fake.requests.length).toBe(before + 1);
  });

  it('maps 500 to transient', async () => {
    fake.failNext(1, { status: 500, body: { code: 20500, message: 'Internal Server Error', status: 500 } });
    const err = await failure(twilio.sendSms({ from: SMS_FROM, to: TO, body: 'x' }, ctx));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
  });

  it('maps a non-JSON 502 to transient', async () => {
    fake.failNext(1, { status: 502, body: '<html>Bad Gateway</html>' });
    const err = await failure(twilio.sendSms({ from: SMS_FROM, to: TO, body: 'x' }, ctx));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
  });

  it('maps a closed port to transient', async () => {
    const port = await freePort();
    const down = createTwilio({ accountSid: fake.accountSid, authToken: fake.authToken, baseUrl: `http://127.0.0.1:${port}` });
    const err = await failure(down.sendSms({ from: SMS_FROM, to: TO, body: 'x' }, ctx));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
  });

  it('maps a reply slower than timeoutMs to transient', async () => {
    fake.latencyMs = 3_000;
    const quick = createTwilio({ accountSid: fake.accountSid, authToken: fake.authToken, baseUrl: fake.url, timeoutMs: 300 });
    const started = Date.now();
    const err = await failure(quick.sendSms({ from: SMS_FROM, to: TO, body: 'x' }, ctx));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
    expect(err.message).toContain('UND_ERR_HEADERS_TIMEOUT');
    // undici checks its timeouts on a coarse (about half-second) clock.
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('answers the account resource for a doctor check', async () => {
    const auth = 'Basic ' + Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64');
    const res = await fetch(`${fake.url}/2010-04-01/Accounts/${fake.accountSid}.json`, { headers: { authorization: auth } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sid: fake.accountSid, status: 'active' });
    const denied = await fetch(`${fake.url}/2010-04-01/Accounts/${fake.accountSid}.json`);
    expect(denied.status).toBe(401);
  });
});
