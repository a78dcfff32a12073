import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MeetingStore } from '../src/meetings/store.js';
import { createMeeting } from '../src/meetings/processors.js';
import { createZoom, mapZoomError } from '../src/providers/zoom.js';
import { FakeZoom } from './fakes/zoom.js';
import { startService, tomorrow, waitFor, zoomEnv, type Service } from './support/meetings.js';
import { failure } from './support/failure.js';

const fake = new FakeZoom();
beforeAll(() => fake.start());
afterAll(() => fake.stop());
afterEach(() => {
  fake.createReplyDelayMs = 0;
  fake.tokenLifetime = 3599;
});

const spec = (appointmentId: string) => ({
  appointmentId,
  topic: 'Rendez-vous découverte',
  startTime: tomorrow(),
  durationMinutes: 30,
  timezone: 'Europe/Paris',
});

const zoomOpts = (now?: () => number) => ({
  clientId: fake.clientId,
  clientSecret: fake.clientSecret,
  accountId: fake.accountId,
  userId: 'me',
  apiBaseUrl: `${fake.url}/v2`,
  oauthBaseUrl: fake.url,
  timeoutMs: 2_000,
  now,
});

describe('zoom provider', () => {
  it('shares one token between 20 concurrent creations (single flight)', async () => {
    const zoom = createZoom(zoomOpts());
    const before = fake.tokenRequests.length;
    fake.latencyMs = 30; // token requests would overlap if each caller fetched its own
    try {
      const made = await Promise.all(Array.from({ length: 20 }, (_, i) => zoom.create(spec(`apt-sf-${i}`))));
      expect(new Set(made.map((m) => m.visioMeetingId)).size).toBe(20);
    } finally {
      fake.latencyMs = 0;
    }
    expect(fake.tokenRequests.length - before).toBe(1);
  });

  it('renews a token shortly before it expires, not before', async () => {
    let clock = Date.now();
    const zoom = createZoom(zoomOpts(() => clock));
    const before = fake.tokenRequests.length;
    await zoom.create(spec('apt-exp-1'));
    clock += 3599_000 - 120_000; // two minutes left: still good
    await zoom.create(spec('apt-exp-2'));
    expect(fake.tokenRequests.length - before).toBe(1);
    clock += 90_000; // 30 s left: renewed first
    await zoom.create(spec('apt-exp-3'));
    expect(fake.tokenRequests.length - before).toBe(2);
  });

  it('refreshes once after a 401 and retries the call', async () => {
    const zoom = createZoom(zoomOpts());
    await zoom.create(spec('apt-401-a'));
    const tokensBefore = fake.tokenRequests.length;
    const createsBefore = fake.received('POST', /\/meetings$/).length;
    fake.revokeTokens();
    const m = await zoom.create(spec('apt-401-b'));
    expect(m.visioUrl).toContain('zoom.example');
    expect(fake.tokenRequests.length - tokensBefore).toBe(1);
    expect(fake.received('POST', /\/meetings$/).length - createsBefore).toBe(2);
  });

  it('gives up after a second 401 with PROVIDER_AUTH', async () => {
    const zoom = createZoom(zoomOpts());
    fake.failNext(2, { status: 401, body: { code: 124, message: 'Invalid access token.' } }, (r) => r.path.endsWith('/meetings'));
    const err = await failure(zoom.create(spec('apt-401-twice')));
    expect(err).toMatchObject({ code: 'PROVIDER_AUTH', kind: 'permanent' });
  });

  it('maps wrong credentials at the token endpoint to PROVIDER_AUTH without leaking the secret', async () => {
    const zoom = createZoom({ ...zoomOpts(), clientSecret: 'wrong-secret-123' });
    const err = await failure(zoom.create(spec('apt-badcreds')));
    expect(err).toMatchObject({ code: 'PROVIDER_AUTH', kind: 'permanent' });
    expect(err.message).toMatch(/invalid_client/);
    expect(err.message).not.toContain('wrong-secret-123');
  });

  it('treats the daily limit (429 with an ISO Retry-After) as a rate limit', async () => {
    const zoom = createZoom(zoomOpts());
    const resume = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    fake.failNext(
      1,
      {
        status: 429,
        body: { code: 429, message: 'You have exceeded the daily rate limit (100) of Meeting Create/Update API requests permitted for this particular user.' },
        headers: { 'retry-after': resume, 'x-ratelimit-type': 'Daily-limit' },
      },
      (r) => r.path.endsWith('/meetings'),
    );
    const err = await failure(zoom.create(spec('apt-daily')));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBeGreaterThan(3_500_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(3_600_000);
  });

  it('waits until 00:00 UTC for a daily limit without Retry-After', () => {
    const now = Date.parse('2030-01-15T22:00:00Z');
    const err = mapZoomError(
      { status: 429, data: { code: 429, message: 'You have exceeded the daily rate limit (100)' }, headers: new Headers() },
      'creating a meeting',
      now,
    );
    expect(err).toMatchObject({ kind: 'rate_limited', retryAfterMs: 2 * 3_600_000 });
  });

  it('counts a delete of a meeting that does not exist (3001) as done', async () => {
    const zoom = createZoom(zoomOpts());
    await expect(zoom.remove('99999999999')).resolves.toBeUndefined();
  });

  it('finds the meeting of an attempt whose answer was lost', async () => {
    const zoom = createZoom(zoomOpts());
    const made = await zoom.create(spec('apt-recover'));
    await expect(zoom.recover!(spec('apt-recover'))).resolves.toEqual(made);
    await expect(zoom.recover!(spec('apt-never-made'))).resolves.toBeUndefined();
  });
});

describe('meeting jobs on Zoom', () => {
  let svc: Service;
  beforeEach(() => {
    svc = startService({ ...zoomEnv(fake), MEETING_CONCURRENCY: '20' });
  });
  afterEach(() => svc.close());

  it('creates a meeting: token in a Basic-auth form body, scheduled-meeting body, contract result', async () => {
    const tokensBefore = fake.tokenRequests.length;
    const at = tomorrow(14);
    const job = await svc.client.createMeeting({
      appointmentId: 'apt-zoom-1',
      scheduledAt: at,
      duration: 45,
      visioProvider: 'ZOOM',
      topic: 'Rendez-vous découverte',
      timezone: 'Europe/Paris',
    });
    expect(job).toMatchObject({ id: 'meeting-create-apt-zoom-1', queue: 'meeting', duplicate: false });
    const result = await job.result(10_000);

    const tokenReq = fake.tokenRequests.at(-1)!;
    expect(fake.tokenRequests.length - tokensBefore).toBe(1);
    expect(tokenReq.headers.authorization).toBe('Basic ' + Buffer.from(`${fake.clientId}:${fake.clientSecret}`).toString('base64'));
    expect(tokenReq.query.size).toBe(0);
    expect(tokenReq.body).toEqual({ grant_type: 'account_credentials', account_id: fake.accountId });

    const create = fake.received('POST', /^\/v2\/users\/me\/meetings$/).at(-1)!;
    expect(create.headers.authorization).toMatch(/^Bearer zoom-token-\d+$/);
    expect(create.body).toMatchObject({
      topic: 'Rendez-vous découverte',
      type: 2,
      start_time: at,
      duration: 45,
      timezone: 'Europe/Paris',
      settings: { join_before_host: false, waiting_room: true },
    });
    const made = [...fake.meetings.values()].find((m) => m.agenda.includes('apt-zoom-1'))!;
    expect(result).toEqual({
      status: 'created',
      visioProvider: 'ZOOM',
      visioUrl: made.join_url,
      visioMeetingId: String(made.id),
      password: made.password,
      hostedBy: 'me',
    });
    // The host's start_url (it carries a host key) is neither returned nor stored.
    const stored = await svc.ctx.connection.get(`${svc.config.redis.prefix}:meetings:apt-zoom-1`);
    expect(stored).not.toContain('zak=');
  });

  it('runs 20 concurrent create jobs on one token', async () => {
    const tokensBefore = fake.tokenRequests.length;
    const jobs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        svc.client.createMeeting({ appointmentId: `apt-many-${i}`, scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' }),
      ),
    );
    const results = await Promise.all(jobs.map((j) => j.result(15_000)));
    expect(results.every((r) => r.status === 'created')).toBe(true);
    expect(fake.tokenRequests.length - tokensBefore).toBe(1);
  });

  it('a replayed create adds no job and no meeting', async () => {
    const payload = { appointmentId: 'apt-replay', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' as const };
    const first = await svc.client.createMeeting(payload);
    const r1 = await first.result(10_000);
    const again = await svc.client.createMeeting(payload);
    expect(again).toMatchObject({ id: first.id, duplicate: true });
    expect(await again.result(10_000)).toEqual(r1);
    expect([...fake.meetings.values()].filter((m) => m.agenda.includes('[ref apt-replay]'))).toHaveLength(1);
  });

  it('two create jobs with different ids for one appointment, at once: one meeting', async () => {
    fake.createReplyDelayMs = 300; // both jobs are in flight while Zoom is creating
    const payload = { appointmentId: 'apt-race', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' as const };
    const [a, b] = await Promise.all([
      svc.client.createMeeting(payload, { idempotencyKey: 'caller-key-a' }),
      svc.client.createMeeting(payload, { idempotencyKey: 'caller-key-b' }),
    ]);
    const [ra, rb] = await Promise.all([a.result(15_000), b.result(15_000)]);
    fake.createReplyDelayMs = 0;
    expect(ra).toEqual(rb);
    expect([...fake.meetings.values()].filter((m) => m.agenda.includes('[ref apt-race]'))).toHaveLength(1);
  });

  it('after a crash between creation and completion, the re-run returns the same meeting', async () => {
    // The first run got as far as creating and storing the meeting, then the process died.
    const deps = {
      providers: { ZOOM: createZoom(zoomOpts()) },
      store: new MeetingStore(svc.ctx.connection, svc.config.redis),
      defaultTimezone: 'Europe/Paris',
      defaultTopic: 'Rendez-vous',
    };
    const payload = { appointmentId: 'apt-crash', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' as const };
    const firstRun = await createMeeting(payload, deps);
    const rerun = await (await svc.client.createMeeting(payload)).result(10_000);
    expect(rerun).toEqual(firstRun);
    expect([...fake.meetings.values()].filter((m) => m.agenda.includes('[ref apt-crash]'))).toHaveLength(1);
  });

  it('an answer lost to a timeout does not make a second meeting: the retry finds the first', async () => {
    await svc.close();
    svc = startService({ ...zoomEnv(fake), PROVIDER_TIMEOUT_MS: '300' });
    fake.createReplyDelayMs = 800; // Zoom creates, then answers too late
    const job = await svc.client.createMeeting({ appointmentId: 'apt-lost', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' });
    const result = await job.result(10_000);
    const made = [...fake.meetings.values()].filter((m) => m.agenda.includes('[ref apt-lost]'));
    expect(made).toHaveLength(1);
    expect(result).toMatchObject({ status: 'created', visioMeetingId: String(made[0]!.id), password: made[0]!.password });
    const j = await svc.client.queue('meeting').getJob(job.id);
    expect(j!.attemptsMade).toBe(2);
  });

  it('moves the meeting it created, and skips an appointment without one', async () => {
    await (await svc.client.createMeeting({ appointmentId: 'apt-move', scheduledAt: tomorrow(10), duration: 30, visioProvider: 'ZOOM', timezone: 'America/New_York' })).result(10_000);
    const to = tomorrow(16);
    const moved = await (await svc.client.updateMeeting({ appointmentId: 'apt-move', scheduledAt: to, duration: 60 })).result(10_000);
    expect(moved).toMatchObject({ status: 'updated', visioProvider: 'ZOOM' });
    const m = [...fake.meetings.values()].find((x) => x.agenda.includes('[ref apt-move]'))!;
    // A move that names no zone keeps the meeting's.
    expect(m).toMatchObject({ start_time: to, duration: 60, timezone: 'America/New_York' });
    expect(fake.received('PATCH', new RegExp(`^/v2/meetings/${m.id}$`))).toHaveLength(1);

    const none = await (await svc.client.updateMeeting({ appointmentId: 'apt-unknown', scheduledAt: to, duration: 30 })).result(10_000);
    expect(none).toMatchObject({ status: 'skipped', reason: expect.stringContaining('apt-unknown') });
  });

  it('deletes the meeting; one already gone counts as deleted', async () => {
    const created = await (await svc.client.createMeeting({ appointmentId: 'apt-del', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' })).result(10_000);
    if (created.status !== 'created') throw new Error('not created');
    fake.meetings.delete(Number(created.visioMeetingId)); // deleted by hand in Zoom
    const deleted = await (await svc.client.deleteMeeting({ appointmentId: 'apt-del' })).result(10_000);
    expect(deleted).toEqual({ status: 'deleted', visioProvider: 'ZOOM', visioMeetingId: created.visioMeetingId });
    expect(await new MeetingStore(svc.ctx.connection, svc.config.redis).get('apt-del')).toBeUndefined();
    // Re-booked later: a new meeting, not the old finished job.
    const again = await svc.client.createMeeting({ appointmentId: 'apt-del', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' });
    expect(again.duplicate).toBe(false);
    const second = await again.result(10_000);
    expect(second).toMatchObject({ status: 'created' });
    expect((second as { visioMeetingId: string }).visioMeetingId).not.toBe(created.visioMeetingId);
  });

  it('retries a 5xx and succeeds', async () => {
    fake.failNext(2, { status: 503, body: { code: 503, message: 'Service unavailable' } }, (r) => r.path.endsWith('/meetings') && r.method === 'POST');
    const job = await svc.client.createMeeting({ appointmentId: 'apt-5xx', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' });
    await expect(job.result(10_000)).resolves.toMatchObject({ status: 'created' });
    const j = await svc.client.queue('meeting').getJob(job.id);
    expect(j!.attemptsMade).toBe(3);
    expect([...fake.meetings.values()].filter((m) => m.agenda.includes('[ref apt-5xx]'))).toHaveLength(1);
  });

  it('waits out a 429 without consuming an attempt', async () => {
    fake.failNext(1, { status: 429, body: { code: 429, message: 'You have reached the maximum per-second rate limit for this API.' }, headers: { 'retry-after': '0.2' } }, (r) => r.path.endsWith('/meetings') && r.method === 'POST');
    const job = await svc.client.createMeeting({ appointmentId: 'apt-429', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' });
    await expect(job.result(10_000)).resolves.toMatchObject({ status: 'created' });
    const j = await svc.client.queue('meeting').getJob(job.id);
    expect(j!.attemptsMade).toBe(1);
  });

  it('fails a 4xx at once: failedReason starts with the code, one attempt', async () => {
    fake.failNext(1, { status: 400, body: { code: 300, message: 'Invalid field.' } }, (r) => r.path.endsWith('/meetings') && r.method === 'POST');
    const job = await svc.client.createMeeting({ appointmentId: 'apt-4xx', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' });
    await expect(job.result(10_000)).rejects.toThrow(/^PROVIDER_REJECTED: zoom 400\/300/);
    const j = await svc.client.queue('meeting').getJob(job.id);
    expect(j!.attemptsMade).toBe(1);
    expect(j!.failedReason).toMatch(/^PROVIDER_REJECTED:/);
  });

  it('fails an invalid payload with INVALID_PAYLOAD naming the field', async () => {
    await svc.client.queue('meeting').add('create', { appointmentId: 'apt-bad', scheduledAt: '2030-01-15T10:00:00', duration: 30, visioProvider: 'ZOOM' }, { jobId: 'bad-payload' });
    const j = await waitFor(async () => {
      const job = await svc.client.queue('meeting').getJob('bad-payload');
      return job?.failedReason ? job : undefined;
    });
    expect(j.failedReason).toMatch(/^INVALID_PAYLOAD: scheduledAt/);
    expect(j.attemptsMade).toBe(1);
  });
});

describe('meeting jobs with Zoom disabled', () => {
  it('skips with a reason naming what to set (no ZOOM_ACCOUNT_ID)', async () => {
    const svc = startService({ ZOOM_API_KEY: 'id', ZOOM_API_SECRET: 'secret' });
    try {
      const before = fake.requests.length;
      const r = await (await svc.client.createMeeting({ appointmentId: 'apt-off', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' })).result(10_000);
      expect(r).toEqual({ status: 'skipped', reason: expect.stringContaining('ZOOM_ACCOUNT_ID') });
      expect(fake.requests.length).toBe(before);
    } finally {
      await svc.close();
    }
  });
});
