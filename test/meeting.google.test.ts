import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MeetingStore } from '../src/meetings/store.js';
import { createGoogleMeet, eventIdFor } from '../src/providers/google-meet.js';
import { FakeGoogle } from './fakes/google.js';
import { googleEnv, startService, tomorrow, type Service } from './support/meetings.js';
import { failure } from './support/failure.js';

const fake = new FakeGoogle();
beforeAll(() => fake.start());
afterAll(() => fake.stop());
afterEach(() => {
  fake.pendingConferences = false;
});

const googleOpts = (over: Partial<Parameters<typeof createGoogleMeet>[0]> = {}) => ({
  clientId: fake.clientId,
  clientSecret: fake.clientSecret,
  refreshToken: fake.refreshToken,
  calendarId: 'primary',
  apiBaseUrl: `${fake.url}/`,
  tokenUrl: `${fake.url}/token`,
  timeoutMs: 2_000,
  pollIntervalMs: 20,
  ...over,
});

const spec = (appointmentId: string) => ({
  appointmentId,
  topic: 'Rendez-vous découverte',
  startTime: tomorrow(),
  durationMinutes: 30,
  timezone: 'Europe/Paris',
});

const insertsFor = (appointmentId: string) =>
  fake.received('POST', /\/events$/).filter((r) => r.body?.id === eventIdFor(appointmentId));

describe('google meet provider', () => {
  it('derives a valid Calendar event id (base32hex, 5-1024) from the appointment', () => {
    expect(eventIdFor('apt_123')).toMatch(/^[a-v0-9]{5,1024}$/);
    expect(eventIdFor('apt_123')).toBe(eventIdFor('apt_123'));
    expect(eventIdFor('apt_124')).not.toBe(eventIdFor('apt_123'));
  });

  it('uses the existing event when a retried insert gets 409', async () => {
    const meet = createGoogleMeet(googleOpts());
    const first = await meet.create(spec('apt-g-409'));
    const again = await meet.create(spec('apt-g-409'));
    expect(again).toEqual(first);
    expect(fake.liveEvents().filter((e) => e.id === eventIdFor('apt-g-409'))).toHaveLength(1);
    expect(insertsFor('apt-g-409')).toHaveLength(2);
  });

  it('maps invalid_grant at the token endpoint to PROVIDER_AUTH', async () => {
    const meet = createGoogleMeet(googleOpts({ refreshToken: '1//revoked' }));
    const err = await failure(meet.create(spec('apt-g-grant')));
    expect(err).toMatchObject({ code: 'PROVIDER_AUTH', kind: 'permanent' });
    expect(err.message).toMatch(/invalid_grant/);
    expect(err.message).not.toContain('1//revoked');
  });

  it('makes one token request on a 5xx: the SDK does not retry behind the queue', async () => {
    const meet = createGoogleMeet(googleOpts());
    const before = fake.tokenRequests.length;
    fake.failNext(1, { status: 503, body: { error: 'temporarily_unavailable' } }, (r) => r.path === '/token');
    const err = await failure(meet.create(spec('apt-g-tok5xx')));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
    expect(fake.tokenRequests.length - before).toBe(1);
  });

  it('makes one insert on a Calendar 5xx, and maps it to transient', async () => {
    const meet = createGoogleMeet(googleOpts());
    fake.failNext(1, { status: 503, body: { error: { code: 503, message: 'Backend Error', errors: [{ reason: 'backendError' }] } } }, (r) => r.path.endsWith('/events'));
    const err = await failure(meet.create(spec('apt-g-5xx')));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
    expect(insertsFor('apt-g-5xx')).toHaveLength(1);
  });

  it('treats a 403 rateLimitExceeded as a rate limit, other 403s as auth errors', async () => {
    const meet = createGoogleMeet(googleOpts());
    fake.failNext(1, { status: 403, body: { error: { code: 403, message: 'Rate Limit Exceeded', errors: [{ domain: 'usageLimits', reason: 'rateLimitExceeded' }] } } }, (r) => r.path.endsWith('/events'));
    expect(await failure(meet.create(spec('apt-g-403a')))).toMatchObject({ kind: 'rate_limited' });
    fake.failNext(1, { status: 403, body: { error: { code: 403, message: 'Insufficient Permission', errors: [{ reason: 'insufficientPermissions' }] } } }, (r) => r.path.endsWith('/events'));
    expect(await failure(meet.create(spec('apt-g-403b')))).toMatchObject({ code: 'PROVIDER_AUTH', kind: 'permanent' });
  });

  it('refreshes the token once after a 401', async () => {
    const meet = createGoogleMeet(googleOpts());
    await meet.create(spec('apt-g-401a'));
    const before = fake.tokenRequests.length;
    fake.revokeTokens();
    await expect(meet.create(spec('apt-g-401b'))).resolves.toMatchObject({ visioUrl: expect.stringMatching(/^https:\/\/meet\.google\.com\//) });
    expect(fake.tokenRequests.length - before).toBe(1);
  });

  it('counts deleting an event already deleted (410) or unknown (404) as done', async () => {
    const meet = createGoogleMeet(googleOpts());
    const m = await meet.create(spec('apt-g-gone'));
    await meet.remove(m.visioMeetingId);
    await expect(meet.remove(m.visioMeetingId)).resolves.toBeUndefined();
    await expect(meet.remove('0123456789abcdef')).resolves.toBeUndefined();
  });

  it('revives its own event after a cancellation when the appointment is created again', async () => {
    const meet = createGoogleMeet(googleOpts());
    const m = await meet.create(spec('apt-g-revive'));
    await meet.remove(m.visioMeetingId);
    const again = await meet.create(spec('apt-g-revive'));
    expect(again.visioMeetingId).toBe(m.visioMeetingId);
    expect(fake.events.get(m.visioMeetingId)!.status).toBe('confirmed');
  });
});

describe('meeting jobs on Google Meet', () => {
  let svc: Service;
  beforeEach(() => {
    svc = startService({ ...googleEnv(fake), LOG_LEVEL: process.env.TLOG ?? 'silent' });
  });
  afterEach(() => svc.close());

  it('creates a Meet: refresh-token grant, conferenceDataVersion=1, requestId, link in the result', async () => {
    const tokensBefore = fake.tokenRequests.length;
    const at = tomorrow(9);
    const result = await (
      await svc.client.createMeeting({
        appointmentId: 'apt-g-1',
        scheduledAt: at,
        duration: 30,
        visioProvider: 'GOOGLE_MEET',
        topic: 'Consultation',
        attendees: ['paul@example.com'],
      })
    ).result(10_000);

    expect(fake.tokenRequests.length - tokensBefore).toBe(1);
    expect(fake.tokenRequests.at(-1)!.body).toMatchObject({
      grant_type: 'refresh_token',
      refresh_token: fake.refreshToken,
      client_id: fake.clientId,
    });
    const insert = insertsFor('apt-g-1').at(-1)!;
    expect(insert.headers.authorization).toMatch(/^Bearer ya29\.fake-\d+$/);
    expect(insert.query.get('conferenceDataVersion')).toBe('1');
    expect(insert.query.get('sendUpdates')).toBe('none');
    expect(insert.body).toMatchObject({
      id: eventIdFor('apt-g-1'),
      summary: 'Consultation',
      start: { dateTime: at, timeZone: 'Europe/Paris' },
      attendees: [{ email: 'paul@example.com' }],
      conferenceData: { createRequest: { requestId: 'meet-apt-g-1', conferenceSolutionKey: { type: 'hangoutsMeet' } } },
    });
    expect(Date.parse(insert.body.end.dateTime) - Date.parse(at)).toBe(30 * 60_000);
    const event = fake.events.get(eventIdFor('apt-g-1'))!;
    expect(result).toEqual({ status: 'created', visioProvider: 'GOOGLE_MEET', visioUrl: event.hangoutLink, visioMeetingId: event.id, hostedBy: 'primary', icalUid: `${event.id}@google.com` });
    expect(event.hangoutLink).toMatch(/^https:\/\/meet\.google\.com\/[a-z]{3}-[a-z]{4}-[a-z]{3}$/);
  });

  it('waits for a pending conference that turns success on the next read', async () => {
    fake.pendingConferences = true;
    const result = await (await svc.client.createMeeting({ appointmentId: 'apt-g-pending', scheduledAt: tomorrow(), duration: 30, visioProvider: 'GOOGLE_MEET' })).result(10_000);
    const id = eventIdFor('apt-g-pending');
    expect(result).toMatchObject({ status: 'created', visioUrl: expect.stringMatching(/^https:\/\/meet\.google\.com\//), visioMeetingId: id });
    expect(fake.received('GET', new RegExp(`/events/${id}$`))).toHaveLength(1);
  });

  it('after a crash between the insert and the store, the re-run gets 409, reads the event, makes no second one', async () => {
    // The first run created the event, then died before storing it.
    const made = await createGoogleMeet(googleOpts()).create({ ...spec('apt-g-crash'), topic: 'Rendez-vous' });
    const result = await (await svc.client.createMeeting({ appointmentId: 'apt-g-crash', scheduledAt: tomorrow(), duration: 30, visioProvider: 'GOOGLE_MEET' })).result(10_000);
    expect(result).toMatchObject({ status: 'created', visioMeetingId: made.visioMeetingId, visioUrl: made.visioUrl });
    expect([...fake.events.values()].filter((e) => e.id === made.visioMeetingId)).toHaveLength(1);
    expect(await new MeetingStore(svc.ctx.connection, svc.config.redis).get('apt-g-crash')).toMatchObject({ visioMeetingId: made.visioMeetingId });
  });

  it('moves and deletes the event it created', async () => {
    await (await svc.client.createMeeting({ appointmentId: 'apt-g-life', scheduledAt: tomorrow(10), duration: 30, visioProvider: 'GOOGLE_MEET' })).result(10_000);
    const to = tomorrow(15);
    await expect((await svc.client.updateMeeting({ appointmentId: 'apt-g-life', scheduledAt: to, duration: 45 })).result(10_000)).resolves.toMatchObject({ status: 'updated' });
    const event = fake.events.get(eventIdFor('apt-g-life'))!;
    expect(event.start).toEqual({ dateTime: to, timeZone: 'Europe/Paris' });
    expect(fake.received('PATCH', /\/events\//).at(-1)!.query.get('sendUpdates')).toBe('none');
    await expect((await svc.client.deleteMeeting({ appointmentId: 'apt-g-life' })).result(10_000)).resolves.toMatchObject({ status: 'deleted', visioProvider: 'GOOGLE_MEET' });
    expect(event.status).toBe('cancelled');
  });

  it('a token failure fails the job at once with PROVIDER_AUTH', async () => {
    fake.failNext(1, { status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } }, (r) => r.path === '/token');
    const job = await svc.client.createMeeting({ appointmentId: 'apt-g-auth', scheduledAt: tomorrow(), duration: 30, visioProvider: 'GOOGLE_MEET' });
    await expect(job.result(10_000)).rejects.toThrow(/^PROVIDER_AUTH: google oauth 400 invalid_grant/);
    expect((await svc.client.queue('meeting').getJob(job.id))!.attemptsMade).toBe(1);
  });

  it('retries a Calendar 5xx and succeeds with one event', async () => {
    fake.failNext(1, { status: 500, body: { error: { code: 500, message: 'Backend Error', errors: [{ reason: 'backendError' }] } } }, (r) => r.path.endsWith('/events'));
    const job = await svc.client.createMeeting({ appointmentId: 'apt-g-retry', scheduledAt: tomorrow(), duration: 30, visioProvider: 'GOOGLE_MEET' });
    await expect(job.result(10_000)).resolves.toMatchObject({ status: 'created' });
    expect((await svc.client.queue('meeting').getJob(job.id))!.attemptsMade).toBe(2);
    expect(fake.liveEvents().filter((e) => e.id === eventIdFor('apt-g-retry'))).toHaveLength(1);
  });

  it('fails a Calendar 400 at once with PROVIDER_REJECTED', async () => {
    fake.failNext(1, { status: 400, body: { error: { code: 400, message: 'Invalid attendee email paul@example.com.', errors: [{ reason: 'invalid' }] } } }, (r) => r.path.endsWith('/events'));
    const job = await svc.client.createMeeting({ appointmentId: 'apt-g-400', scheduledAt: tomorrow(), duration: 30, visioProvider: 'GOOGLE_MEET' });
    const err = await job.result(10_000).then(() => expect.fail('expected a failure'), (e: Error) => e);
    expect(err.message).toMatch(/^PROVIDER_REJECTED: google 400\/invalid/);
    expect(err.message).not.toContain('paul@example.com');
    expect((await svc.client.queue('meeting').getJob(job.id))!.attemptsMade).toBe(1);
  });
});
