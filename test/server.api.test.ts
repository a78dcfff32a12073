import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationClient } from '../src/producer/client.js';
import { BODY_LIMIT } from '../src/server/app.js';
import { freePort } from './support/redis.js';
import { finished, startHarness } from './support/harness.js';
import { TOKEN, bearer, startApp } from './support/server.js';

const SMS = { to: '+33612345678', body: 'Bonjour' };
const APPOINTMENT = {
  id: 'apt_123',
  scheduledAt: '2030-01-15T10:00:00Z',
  duration: 30,
  title: 'Rendez-vous découverte',
  attendee: { name: 'Paul Durand', email: 'paul@example.com', phone: '+33612345678' },
};

describe('HTTP API: auth', () => {
  let s: Awaited<ReturnType<typeof startApp>>;
  beforeAll(async () => {
    s = await startApp({ API_TOKENS: `other-token,${TOKEN}` });
  });
  afterAll(() => s.close());

  it('answers 401 without a token, with a wrong one, or with another scheme', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }]) {
      const r = await s.app.inject({ method: 'POST', url: '/v1/sms', headers, payload: SMS });
      expect(r.statusCode).toBe(401);
      expect(r.json()).toEqual({ error: 'unauthorized' });
      expect(r.headers['www-authenticate']).toBe('Bearer');
    }
    expect(await s.client.queue('sms').count()).toBe(0);
  });

  it('accepts every configured token', async () => {
    for (const t of ['other-token', TOKEN]) {
      const r = await s.app.inject({ method: 'POST', url: '/v1/sms', headers: { authorization: `Bearer ${t}` }, payload: SMS });
      expect(r.statusCode).toBe(202);
    }
  });

  it('leaves health, metrics and the OpenAPI document open', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json'])
      expect((await s.app.inject({ url })).statusCode, url).toBe(200);
  });
});

describe('HTTP API without API_TOKENS', () => {
  it('answers 503 api_disabled to every /v1 call', async () => {
    const s = await startApp({ API_TOKENS: '' });
    try {
      for (const [method, url] of [['POST', '/v1/sms'], ['GET', '/v1/jobs/sms/1'], ['DELETE', '/v1/appointments/a']] as const) {
        const r = await s.app.inject({ method, url, headers: bearer, payload: method === 'POST' ? SMS : undefined });
        expect(r.statusCode).toBe(503);
        expect(r.json().error).toBe('api_disabled');
      }
      expect((await s.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe('HTTP API: enqueueing', () => {
  let s: Awaited<ReturnType<typeof startApp>>;
  beforeAll(async () => {
    s = await startApp();
  });
  afterAll(() => s.close());
  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    s.app.inject({ method: 'POST', url, headers: { ...bearer, ...headers }, payload: payload as object });

  it('answers 400 with every issue and enqueues nothing', async () => {
    const r = await post('/v1/sms', { to: '0612345678', body: '' });
    expect(r.statusCode).toBe(400);
    const body = r.json();
    expect(body.error).toBe('validation_failed');
    expect(body.issues).toEqual(
      expect.arrayContaining([
        { path: 'to', message: expect.stringContaining('E.164') },
        { path: 'body', message: expect.any(String) },
      ]),
    );
    const e = await post('/v1/emails', { to: 'paul@example.com', subject: 'a\r\nBcc: x@y.z', text: 'x' });
    expect(e.statusCode).toBe(400);
    expect(e.json().issues[0].path).toBe('subject');
    const counts = await s.client.queue('sms').getJobCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    expect(await s.client.queue('email').count()).toBe(0);
  });

  it('answers 400 validation_failed to malformed JSON and 415 to other media types', async () => {
    const bad = await s.app.inject({ method: 'POST', url: '/v1/sms', headers: { ...bearer, 'content-type': 'application/json' }, payload: '{"to":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('validation_failed');
    const form = await s.app.inject({ method: 'POST', url: '/v1/sms', headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'to=x' });
    expect(form.statusCode).toBe(415);
    expect(form.json().error).toBe('unsupported_media_type');
  });

  it('refuses bodies over the limit with 413, as JSON', async () => {
    const r = await post('/v1/sms', { to: '+33612345678', body: 'x'.repeat(BODY_LIMIT) });
    expect(r.statusCode).toBe(413);
    expect(r.json().error).toBe('payload_too_large');
  });

  it('answers 202 {id, queue} and puts the job in its queue, for every kind', async () => {
    const cases = [
      ['/v1/emails', 'email', 'send', { to: 'paul@example.com', subject: 'Hello', text: 'Hi' }],
      ['/v1/sms', 'sms', 'send', SMS],
      ['/v1/whatsapp', 'whatsapp', 'send', { to: '+33612345678', contentSid: 'HX' + 'ab'.repeat(16), contentVariables: { '1': 'Paul' } }],
      ['/v1/meetings', 'meeting', 'create', { appointmentId: 'apt_1', scheduledAt: '2030-01-15T10:00:00+01:00', duration: 30, visioProvider: 'ZOOM' }],
    ] as const;
    for (const [url, queue, name, payload] of cases) {
      const r = await post(url, payload);
      expect(r.statusCode, url).toBe(202);
      const { id, queue: q } = r.json();
      expect(q).toBe(queue);
      const job = await s.client.queue(queue).getJob(id);
      expect(job?.name).toBe(name);
      expect(job?.data).toEqual(payload);
    }
  });

  it('honours Idempotency-Key: a replay answers 200 with the same id and adds no job', async () => {
    const first = await post('/v1/sms', SMS, { 'idempotency-key': 'order-42-confirmation' });
    const again = await post('/v1/sms', SMS, { 'idempotency-key': 'order-42-confirmation' });
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ ...first.json(), duplicate: true });
    expect(first.json()).toEqual({ id: expect.stringMatching(/^idem-/), queue: 'sms', duplicate: false });
    const jobs = await s.client.queue('sms').getJobs(['waiting']);
    expect(jobs.filter((j) => j.id === first.json().id)).toHaveLength(1);
    for (const key of ['', 'x'.repeat(256)]) {
      const bad = await post('/v1/sms', SMS, { 'idempotency-key': key });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().issues[0].path).toBe('Idempotency-Key');
    }
    // The same key with another body is the caller's bug: 409, nothing added.
    const reused = await post('/v1/sms', { ...SMS, body: 'another' }, { 'idempotency-key': 'order-42-confirmation' });
    expect(reused.statusCode).toBe(409);
    expect(reused.json().error).toBe('idempotency_key_reused');
    expect(await s.client.queue('sms').count()).toBe(jobs.length);
  });

  it('turns appointment routes into booked, rescheduled and cancelled events', async () => {
    const booked = await post('/v1/appointments', APPOINTMENT);
    expect(booked.statusCode).toBe(202);
    expect(booked.json().queue).toBe('appointment');
    const put = await s.app.inject({ method: 'PUT', url: '/v1/appointments/apt_123', headers: bearer, payload: { ...APPOINTMENT, id: undefined, scheduledAt: '2030-01-16T10:00:00Z' } });
    expect(put.statusCode).toBe(202);
    const del = await s.app.inject({ method: 'DELETE', url: '/v1/appointments/apt_123', headers: bearer, payload: { reason: 'patient ill' } });
    expect(del.statusCode).toBe(202);
    const bare = await s.app.inject({ method: 'DELETE', url: '/v1/appointments/apt_124', headers: { ...bearer, 'content-type': 'application/json' } });
    expect(bare.statusCode).toBe(202);
    const q = s.client.queue('appointment');
    const [b, r, c, c2] = await Promise.all([booked, put, del, bare].map((x) => q.getJob(x.json().id)));
    expect(b?.name).toBe('booked');
    expect(r?.name).toBe('rescheduled');
    expect(r?.data).toMatchObject({ id: 'apt_123', scheduledAt: '2030-01-16T10:00:00Z' });
    expect(c?.name).toBe('cancelled');
    expect(c?.data).toEqual({ id: 'apt_123', reason: 'patient ill' });
    expect(c2?.data).toEqual({ id: 'apt_124' });

    const mismatch = await s.app.inject({ method: 'PUT', url: '/v1/appointments/apt_123', headers: bearer, payload: { ...APPOINTMENT, id: 'apt_999' } });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.json().issues[0].path).toBe('id');
  });

  it('answers JSON 404 to unknown routes and never a stack trace', async () => {
    const r = await s.app.inject({ method: 'GET', url: '/v1/nothing', headers: bearer });
    expect(r.statusCode).toBe(404);
    expect(r.json().error).toBe('not_found');
    expect(r.body).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });
});

describe('HTTP API: the OpenAPI document', () => {
  it('is generated from the route table and the zod schemas', async () => {
    const s = await startApp();
    try {
      const doc = (await s.app.inject({ url: '/openapi.json' })).json();
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths).sort()).toEqual(
        ['/v1/appointments', '/v1/appointments/{id}', '/v1/appointments/{id}/reminders', '/v1/emails', '/v1/jobs/{queue}/{id}', '/v1/meetings', '/v1/sms', '/v1/suppressions', '/v1/suppressions/{channel}/{recipient}', '/v1/whatsapp'].sort(),
      );
      const sms = doc.paths['/v1/sms'].post;
      expect(sms.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/SmsPayload');
      expect(doc.components.schemas.SmsPayload.properties.to.pattern).toBe('^\\+[1-9]\\d{6,14}$');
      expect(doc.components.schemas.SmsPayload.required).toEqual(['to', 'body']);
      expect(sms.parameters.map((p: { name: string }) => p.name)).toContain('Idempotency-Key');
      expect(Object.keys(sms.responses)).toEqual(expect.arrayContaining(['200', '202', '400', '401', '503']));
      expect(doc.components.schemas.Appointment.properties.visioProvider).toBeDefined();
      expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    } finally {
      await s.close();
    }
  });
});

describe('HTTP API: jobs end to end', () => {
  it('reports a job run by real workers, and 404 for unknown ones', async () => {
    const h = await startHarness({ API_TOKENS: TOKEN }, ['sms']);
    const s = await startApp({ QUEUE_PREFIX: h.config.redis.prefix }, { client: NotificationClient.fromConfig(h.config) });
    try {
      const r = await s.app.inject({ method: 'POST', url: '/v1/sms', headers: bearer, payload: SMS });
      const { id } = r.json();
      await finished(h, 'sms', id);
      const job = await s.app.inject({ url: `/v1/jobs/sms/${id}`, headers: bearer });
      expect(job.statusCode).toBe(200);
      const body = job.json();
      expect(body).toMatchObject({ id, queue: 'sms', name: 'send', state: 'completed', attemptsMade: 1, failedReason: null });
      expect(body.returnvalue).toMatchObject({ status: 'skipped' });
      expect(body.timestamp).toBeTypeOf('number');
      expect(body.finishedOn).toBeGreaterThanOrEqual(body.timestamp);
      expect(body).not.toHaveProperty('data');

      expect((await s.app.inject({ url: '/v1/jobs/sms/does-not-exist', headers: bearer })).statusCode).toBe(404);
      expect((await s.app.inject({ url: `/v1/jobs/nosuchqueue/${id}`, headers: bearer })).json().error).toBe('not_found');
    } finally {
      await s.close();
      await h.close();
    }
  });
});

describe('HTTP API: pending reminders', () => {
  it('lists the reminders the appointment worker scheduled, soonest first', async () => {
    const h = await startHarness({ API_TOKENS: TOKEN }, ['appointment']);
    const client = NotificationClient.fromConfig(h.config);
    const s = await startApp({ QUEUE_PREFIX: h.config.redis.prefix }, { client });
    try {
      const scheduledAt = new Date(Date.now() + 3 * 24 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
      const booked = await s.app.inject({ method: 'POST', url: '/v1/appointments', headers: bearer, payload: { ...APPOINTMENT, id: 'apt_rem', scheduledAt, visioProvider: null } });
      expect(booked.statusCode).toBe(202);
      await finished(h, 'appointment', booked.json().id);
      const r = await s.app.inject({ url: '/v1/appointments/apt_rem/reminders', headers: bearer });
      expect(r.statusCode).toBe(200);
      const { appointmentId, reminders } = r.json();
      expect(appointmentId).toBe('apt_rem');
      expect(reminders.map((x: { name: string }) => x.name)).toEqual(['J-1', 'H-1']);
      expect(Date.parse(reminders[0].fireAt)).toBe(Date.parse(scheduledAt) - 24 * 3600_000);
      expect(reminders[0].id).toContain('apt_rem');

      const none = await s.app.inject({ url: '/v1/appointments/unknown_apt/reminders', headers: bearer });
      expect(none.json()).toEqual({ appointmentId: 'unknown_apt', reminders: [] });
    } finally {
      await s.close();
      await h.close();
    }
  });
});

describe('HTTP API without Redis', () => {
  it('answers 503 redis_unavailable, enqueues nothing, and readiness says unready', async () => {
    const port = await freePort();
    const s = await startApp({ REDIS_URL: `redis://127.0.0.1:${port}`, DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 'pw' });
    try {
      const r = await s.app.inject({ method: 'POST', url: '/v1/sms', headers: bearer, payload: SMS });
      expect(r.statusCode).toBe(503);
      expect(r.json().error).toBe('redis_unavailable');
      expect((await s.app.inject({ url: '/readyz' })).statusCode).toBe(503);
      expect((await s.app.inject({ url: '/healthz' })).statusCode).toBe(200);
      const m = await s.app.inject({ url: '/metrics' });
      expect(m.statusCode).toBe(200);
      expect(m.body).toMatch(/^notification_redis_up 0$/m);
      // The dashboard's page loads; its API answers 503 at once instead of hanging.
      const auth = { authorization: `Basic ${Buffer.from('ops:pw').toString('base64')}` };
      expect((await s.app.inject({ url: '/admin/queues', headers: auth })).statusCode).toBe(200);
      const t0 = Date.now();
      const board = await s.app.inject({ url: '/admin/queues/api/queues', headers: auth });
      expect(board.statusCode).toBe(503);
      expect(board.json().error).toBe('redis_unavailable');
      expect(Date.now() - t0).toBeLessThan(3_000);
    } finally {
      await s.close();
    }
  });
});
