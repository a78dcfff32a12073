import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { doctor } from '../src/doctor/run.js';
import { MeetingStore } from '../src/meetings/store.js';
import { createGoogleMeet, eventIdFor } from '../src/providers/google-meet.js';
import { failure } from './support/failure.js';
import { FakeGoogle } from './fakes/google.js';
import { FakeZoom } from './fakes/zoom.js';
import { testEnv } from './support/config.js';
import { googleEnv, startService, tomorrow, type Service } from './support/meetings.js';

/** Google Meet in each host's own calendar, by domain-wide delegation (README "Meetings owned by the host"). */
const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const SA_EMAIL = 'meetings@acme-project.iam.gserviceaccount.com';
const SA_CLIENT_ID = '109876543210987654321';
const keyJson = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'service_account',
    project_id: 'acme-project',
    private_key_id: 'abc123',
    private_key: privateKey,
    client_email: SA_EMAIL,
    client_id: SA_CLIENT_ID,
    token_uri: 'https://oauth2.googleapis.com/token',
    ...over,
  });

const fake = new FakeGoogle();
fake.trustServiceAccount(SA_EMAIL, publicKey);
beforeAll(() => fake.start());
afterAll(() => fake.stop());

/** Delegation only: no refresh-token account. */
const delegationEnv = (extra: Record<string, string> = {}) => ({
  GOOGLE_SERVICE_ACCOUNT_KEY: keyJson(),
  GOOGLE_API_BASE_URL: `${fake.url}/`,
  GOOGLE_OAUTH_TOKEN_URL: `${fake.url}/token`,
  ...extra,
});

const opened: Service[] = [];
const service = (env: Record<string, string>) => {
  const svc = startService({ MEETING_CONCURRENCY: '20', ...env });
  opened.push(svc);
  return svc;
};
afterEach(async () => {
  fake.latencyMs = 0;
  fake.refusedSubs.clear();
  fake.unknownSubs.clear();
  for (const s of opened.splice(0)) await s.close();
});

const create = async (svc: Service, appointmentId: string, hostEmail?: string) =>
  (await svc.client.createMeeting({ appointmentId, scheduledAt: tomorrow(10), duration: 30, visioProvider: 'GOOGLE_MEET', ...(hostEmail && { hostEmail }) })).result(10_000);

const failureOf = async (p: Promise<unknown>) => p.then(() => expect.fail('expected a failure'), (e: Error) => e);

describe('Google Meet by domain-wide delegation', () => {
  it("puts each host's events in the host's own calendar, one token grant per host under concurrency", async () => {
    const svc = service(delegationEnv());
    fake.latencyMs = 40; // the grants would overlap if each job asked for its own token
    const hosts = ['anne@acme.example', 'bruno@acme.example'];
    const before = Object.fromEntries(hosts.map((h) => [h, fake.tokenRequestsBySub.get(h) ?? 0]));
    const results = await Promise.all(
      hosts.flatMap((host, h) => Array.from({ length: 5 }, (_, i) => create(svc, `apt-gh-${h}-${i}`, host))),
    );
    fake.latencyMs = 0;
    const grants = Object.fromEntries(hosts.map((h) => [h, (fake.tokenRequestsBySub.get(h) ?? 0) - before[h]!]));
    console.log('token requests per host (5 concurrent meetings each):', JSON.stringify(grants));
    expect(grants).toEqual({ 'anne@acme.example': 1, 'bruno@acme.example': 1 });

    for (const [h, host] of hosts.entries()) {
      const mine = [...fake.calendarOf(host).values()];
      expect(mine.map((e) => e.id).sort()).toEqual(Array.from({ length: 5 }, (_, i) => eventIdFor(`apt-gh-${h}-${i}`)).sort());
      expect(mine.every((e) => e.calendar === host)).toBe(true);
    }
    expect(results.every((r) => r.status === 'created')).toBe(true);
    expect(results.slice(0, 5).every((r) => r.status === 'created' && r.hostedBy === 'anne@acme.example')).toBe(true);
    // The grant was the JWT-bearer one, signed by the service account (the fake checked the signature).
    const grant = fake.tokenRequests.at(-1)!.body;
    expect(grant.grant_type).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(grant.assertion.split('.')).toHaveLength(3);
  });

  it('moves and deletes in the same host calendar, also after a reschedule', async () => {
    const svc = service(delegationEnv());
    await create(svc, 'apt-gh-life', 'anne@acme.example');
    expect(await new MeetingStore(svc.ctx.connection, svc.config.redis).get('apt-gh-life')).toMatchObject({ hostedBy: 'anne@acme.example' });
    const event = fake.calendarOf('anne@acme.example').get(eventIdFor('apt-gh-life'))!;
    for (const hour of [14, 16]) {
      const to = tomorrow(hour);
      await expect((await svc.client.updateMeeting({ appointmentId: 'apt-gh-life', scheduledAt: to, duration: 45 })).result(10_000)).resolves.toMatchObject({ status: 'updated' });
      expect(event.start).toMatchObject({ dateTime: to });
    }
    await expect((await svc.client.deleteMeeting({ appointmentId: 'apt-gh-life' })).result(10_000)).resolves.toMatchObject({ status: 'deleted' });
    expect(event.status).toBe('cancelled');
  });

  it('without a host email: GOOGLE_DEFAULT_HOST by delegation', async () => {
    const svc = service(delegationEnv({ GOOGLE_DEFAULT_HOST: 'desk@acme.example' }));
    const r = await create(svc, 'apt-gh-default');
    expect(r).toMatchObject({ status: 'created', hostedBy: 'desk@acme.example' });
    expect(fake.calendarOf('desk@acme.example').has(eventIdFor('apt-gh-default'))).toBe(true);
  });

  it('without a host email: the refresh-token account when one is configured', async () => {
    const svc = service({ ...googleEnv(fake), GOOGLE_SERVICE_ACCOUNT_KEY: keyJson() });
    const r = await create(svc, 'apt-gh-account');
    expect(r).toMatchObject({ status: 'created', hostedBy: 'primary' });
    expect(fake.events.get(eventIdFor('apt-gh-account'))).toMatchObject({ calendar: FakeGoogle.ACCOUNT });
    // With a host email, the same service acts as the host.
    await create(svc, 'apt-gh-both', 'bruno@acme.example');
    expect(fake.calendarOf('bruno@acme.example').has(eventIdFor('apt-gh-both'))).toBe(true);
  });

  it('without a host email and nothing to fall back on: PROVIDER_REJECTED at once, no token asked', async () => {
    const svc = service(delegationEnv());
    const tokens = fake.tokenRequests.length;
    const job = await svc.client.createMeeting({ appointmentId: 'apt-gh-nohost', scheduledAt: tomorrow(), duration: 30, visioProvider: 'GOOGLE_MEET' });
    const err = await failureOf(job.result(10_000));
    expect(err.message).toMatch(/^PROVIDER_REJECTED: google: a host email is needed.*GOOGLE_DEFAULT_HOST/);
    expect((await svc.client.queue('meeting').getJob(job.id))!.attemptsMade).toBe(1);
    expect(fake.tokenRequests.length).toBe(tokens);
  });

  it('a host Google knows no user for (invalid_grant): hosted by GOOGLE_DEFAULT_HOST, said in hostFallback; moved and deleted there', async () => {
    fake.unknownSubs.add('visitor@elsewhere.example');
    const svc = service(delegationEnv({ GOOGLE_DEFAULT_HOST: 'desk@acme.example' }));
    const r = await create(svc, 'apt-gh-unknown', 'visitor@elsewhere.example');
    expect(r).toMatchObject({ status: 'created', hostedBy: 'desk@acme.example' });
    expect((r as { hostFallback?: string }).hostFallback).toMatch(/is not a user of the Google Workspace domain \(invalid_grant\): hosted by .* instead/);
    expect(fake.calendarOf('desk@acme.example').has(eventIdFor('apt-gh-unknown'))).toBe(true);
    // A replay finds the one event (deterministic id) instead of making a second.
    await svc.client.queue('meeting').getJob(`meeting-create-apt-gh-unknown`).then((j) => j?.remove());
    await create(svc, 'apt-gh-unknown', 'visitor@elsewhere.example');
    expect([...fake.calendars.values()].filter((c) => c.has(eventIdFor('apt-gh-unknown')))).toHaveLength(1);
    const moved = await svc.client.updateMeeting({ appointmentId: 'apt-gh-unknown', scheduledAt: tomorrow(15), duration: 45 });
    await expect(moved.result(10_000)).resolves.toMatchObject({ status: 'updated' });
    await expect((await svc.client.deleteMeeting({ appointmentId: 'apt-gh-unknown' })).result(10_000)).resolves.toMatchObject({ status: 'deleted' });
  });

  it('a host Google knows no user for, and no default host: PROVIDER_AUTH at once', async () => {
    fake.unknownSubs.add('visitor@elsewhere.example');
    const svc = service(delegationEnv());
    const job = await svc.client.createMeeting({ appointmentId: 'apt-gh-unknown2', scheduledAt: tomorrow(), duration: 30, visioProvider: 'GOOGLE_MEET', hostEmail: 'visitor@elsewhere.example' });
    const err = await failureOf(job.result(10_000));
    expect(err.message).toMatch(/^PROVIDER_AUTH: google oauth 400 invalid_grant: Invalid email or User ID/);
    expect((await svc.client.queue('meeting').getJob(job.id))!.attemptsMade).toBe(1);
  });

  it('delegation refused (unauthorized_client): PROVIDER_AUTH saying what the admin must grant', async () => {
    fake.refusedSubs.add('carla@acme.example');
    const svc = service(delegationEnv());
    const job = await svc.client.createMeeting({
      appointmentId: 'apt-gh-refused',
      scheduledAt: tomorrow(),
      duration: 30,
      visioProvider: 'GOOGLE_MEET',
      hostEmail: 'carla@acme.example',
    });
    const err = await failureOf(job.result(10_000));
    expect(err.message).toMatch(/^PROVIDER_AUTH: google oauth: domain-wide delegation refused/);
    expect(err.message).toContain(`client ID ${SA_CLIENT_ID}`);
    expect(err.message).toContain('https://www.googleapis.com/auth/calendar');
    expect(err.message).toContain('Domain-wide delegation');
    expect(err.message).not.toContain('carla@acme.example');
    expect((await svc.client.queue('meeting').getJob(job.id))!.attemptsMade).toBe(1);
    expect(fake.tokenRequestsBySub.get('carla@acme.example')).toBe(1); // the library did not retry behind the queue
  });
});

describe('google meet provider acting as a host', () => {
  const meet = () =>
    createGoogleMeet({
      calendarId: 'primary',
      serviceAccount: { clientEmail: SA_EMAIL, privateKey, clientId: SA_CLIENT_ID },
      apiBaseUrl: `${fake.url}/`,
      tokenUrl: `${fake.url}/token`,
      timeoutMs: 2_000,
    });
  const spec = (appointmentId: string, hostEmail: string) => ({
    appointmentId,
    topic: 'Bilan',
    startTime: tomorrow(),
    durationMinutes: 30,
    timezone: 'Europe/Paris',
    hostEmail,
  });

  it('a 5xx at the token endpoint is one request and transient: the library does not retry behind the queue', async () => {
    const before = fake.tokenRequests.length;
    fake.failNext(1, { status: 503, body: { error: 'temporarily_unavailable' } }, (r) => r.path === '/token');
    const err = await failure(meet().create(spec('apt-gp-5xx', 'dora@acme.example')));
    expect(err).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', kind: 'transient' });
    expect(fake.tokenRequests.length - before).toBe(1);
  });

  it("after a 401 the host's token is renewed once, for that host only", async () => {
    const m = meet();
    await m.create(spec('apt-gp-401a', 'emil@acme.example'));
    fake.revokeTokens();
    const before = fake.tokenRequestsBySub.get('emil@acme.example')!;
    const made = await m.create(spec('apt-gp-401b', 'emil@acme.example'));
    expect(made).toMatchObject({ hostedBy: 'emil@acme.example', owner: 'user:emil@acme.example' });
    expect(fake.tokenRequestsBySub.get('emil@acme.example')! - before).toBe(1);
  });

  it('the same host in another case is the same calendar and the same token', async () => {
    const m = meet();
    await m.create(spec('apt-gp-case1', 'fanny@acme.example'));
    await m.create(spec('apt-gp-case2', 'Fanny@ACME.example'));
    expect(fake.tokenRequestsBySub.get('fanny@acme.example')).toBe(1);
    expect(fake.calendarOf('fanny@acme.example').size).toBe(2);
  });
});

describe('GOOGLE_SERVICE_ACCOUNT_KEY at start-up', () => {
  const env = (key: string) => ({ GOOGLE_SERVICE_ACCOUNT_KEY: key });

  it.each([
    ['malformed JSON', `{"type": "service_account", "private_key": "${privateKey.slice(30, 60)}`, /GOOGLE_SERVICE_ACCOUNT_KEY: is not valid JSON/],
    ['no client_email', keyJson({ client_email: undefined }), /GOOGLE_SERVICE_ACCOUNT_KEY: client_email is missing/],
    ['no private_key', keyJson({ private_key: undefined }), /GOOGLE_SERVICE_ACCOUNT_KEY: private_key is missing/],
    ['a broken private_key', keyJson({ private_key: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n' }), /private_key is not a PEM private key/],
    ['not a file', '/nonexistent/key.json', /GOOGLE_SERVICE_ACCOUNT_KEY: expected the service account's JSON key/],
  ])('stops start-up naming the variable: %s, without quoting the key', (_what, key, message) => {
    const err = (() => {
      try {
        loadConfig(env(key));
      } catch (e) {
        return e as Error;
      }
      return expect.fail('expected a ConfigError');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('PRIVATE KEY');
    expect(err.message).not.toContain(privateKey.slice(30, 60));
  });

  it('GOOGLE_DEFAULT_HOST without a service account key is refused', () => {
    expect(() => loadConfig({ GOOGLE_DEFAULT_HOST: 'desk@acme.example' })).toThrow(/GOOGLE_DEFAULT_HOST: needs GOOGLE_SERVICE_ACCOUNT_KEY/);
  });

  it('a valid key enables Google Meet on its own', () => {
    const c = loadConfig(env(keyJson()));
    expect(c.google).toMatchObject({ serviceAccount: { clientEmail: SA_EMAIL, clientId: SA_CLIENT_ID } });
    expect(c.google?.refreshToken).toBeUndefined();
  });
});

describe('npm run doctor with hosts', () => {
  const zoom = new FakeZoom();
  beforeAll(() => zoom.start());
  afterAll(() => zoom.stop());
  const zoomEnv = () => ({ ZOOM_API_KEY: zoom.clientId, ZOOM_API_SECRET: zoom.clientSecret, ZOOM_ACCOUNT_ID: zoom.accountId, ZOOM_OAUTH_BASE_URL: zoom.url });
  const rowsOf = async (env: Record<string, string>) => Object.fromEntries((await doctor(testEnv(env))).rows.map((r) => [r.name, r]));

  it("says each provider's mode; a token for GOOGLE_DEFAULT_HOST proves the delegation grant", async () => {
    const before = fake.tokenRequestsBySub.get('desk@acme.example') ?? 0;
    const rows = await rowsOf({ ...zoomEnv(), ZOOM_HOST_FROM_APPOINTMENT: 'true', ...delegationEnv({ GOOGLE_DEFAULT_HOST: 'desk@acme.example' }) });
    expect(rows.zoom).toMatchObject({ ok: true, detail: expect.stringMatching(/^mode: host from appointment/) });
    expect(rows['google-meet']).toMatchObject({ ok: true, detail: expect.stringMatching(/mode: domain-wide delegation.*token granted acting as d\*\*\*@acme\.example/) });
    expect(fake.tokenRequestsBySub.get('desk@acme.example')).toBe(before + 1);

    const single = await rowsOf({ ...zoomEnv(), ...googleEnv(fake) });
    expect(single.zoom!.detail).toMatch(/^mode: single user \(every meeting under me\)/);
    expect(single['google-meet']!.detail).toMatch(/^mode: refresh token: token refreshed/);
  });

  it('fails the Zoom row in host mode when the app lacks the admin meeting scope', async () => {
    zoom.failNext(1, { status: 200, body: { access_token: 'zt', token_type: 'bearer', expires_in: 3599, scope: 'meeting:write:meeting' } }, (r) => r.path === '/oauth/token');
    const rows = await rowsOf({ ...zoomEnv(), ZOOM_HOST_FROM_APPOINTMENT: 'true' });
    expect(rows.zoom).toMatchObject({ ok: false, detail: expect.stringMatching(/lacks meeting:write:meeting:admin/) });
  });

  it('fails the Google row with what to grant when delegation is refused', async () => {
    fake.refusedSubs.add('desk@acme.example');
    const rows = await rowsOf(delegationEnv({ GOOGLE_DEFAULT_HOST: 'desk@acme.example' }));
    expect(rows['google-meet']).toMatchObject({ ok: false, detail: expect.stringMatching(new RegExp(`client ID ${SA_CLIENT_ID} for the scope https://www\\.googleapis\\.com/auth/calendar`)) });
  });
});
