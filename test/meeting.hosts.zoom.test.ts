import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMeeting } from '../src/meetings/processors.js';
import { MeetingStore } from '../src/meetings/store.js';
import { createZoom } from '../src/providers/zoom.js';
import { FakeZoom } from './fakes/zoom.js';
import { startService, tomorrow, zoomEnv, type Service } from './support/meetings.js';

/** Zoom meetings owned by the appointment's host (README "Meetings owned by the host"). */
const fake = new FakeZoom();
fake.users = new Set(['claire@example.com', 'marc@example.com']);
beforeAll(() => fake.start());
afterAll(() => fake.stop());

const opened: Service[] = [];
const service = (env: Record<string, string> = {}) => {
  const svc = startService({ ...zoomEnv(fake), ZOOM_HOST_FROM_APPOINTMENT: 'true', ...env });
  opened.push(svc);
  return svc;
};
afterEach(async () => {
  fake.createReplyDelayMs = 0;
  for (const s of opened.splice(0)) await s.close();
});

const tagged = (appointmentId: string) => [...fake.meetings.values()].filter((m) => m.agenda.includes(`[ref ${appointmentId}]`));
const creates = (user: string) => fake.received('POST', new RegExp(`^/v2/users/${encodeURIComponent(user)}/meetings$`));

describe('Zoom meetings under the host (ZOOM_HOST_FROM_APPOINTMENT=true)', () => {
  it("creates each meeting under its host's Zoom user; moves and deletes reach it", async () => {
    const svc = service();
    const [claire, marc] = await Promise.all(
      [
        ['apt-zh-claire', 'claire@example.com'],
        ['apt-zh-marc', 'Marc@example.com'],
      ].map(async ([id, hostEmail]) =>
        (await svc.client.createMeeting({ appointmentId: id!, scheduledAt: tomorrow(10), duration: 30, visioProvider: 'ZOOM', hostEmail })).result(10_000),
      ),
    );
    // Two hosts at 10:00, two hosts' meetings: each can start its own.
    expect(tagged('apt-zh-claire')).toMatchObject([{ createdUnder: 'claire@example.com' }]);
    expect(tagged('apt-zh-marc')).toMatchObject([{ createdUnder: 'marc@example.com' }]);
    expect(creates('claire@example.com').length).toBeGreaterThanOrEqual(1);
    expect(claire).toMatchObject({ status: 'created', hostedBy: 'claire@example.com' });
    expect(marc).toMatchObject({ status: 'created', hostedBy: 'Marc@example.com' });
    expect(claire).not.toHaveProperty('hostFallback');

    const store = new MeetingStore(svc.ctx.connection, svc.config.redis);
    expect(await store.get('apt-zh-claire')).toMatchObject({ hostedBy: 'claire@example.com' });

    const to = tomorrow(15);
    await expect((await svc.client.updateMeeting({ appointmentId: 'apt-zh-claire', scheduledAt: to, duration: 45 })).result(10_000)).resolves.toMatchObject({
      status: 'updated',
    });
    const m = tagged('apt-zh-claire')[0]!;
    expect(m).toMatchObject({ start_time: to, duration: 45, createdUnder: 'claire@example.com' });
    await expect((await svc.client.deleteMeeting({ appointmentId: 'apt-zh-claire' })).result(10_000)).resolves.toMatchObject({ status: 'deleted' });
    expect(fake.meetings.has(m.id)).toBe(false);
  });

  it('a host Zoom does not know (404/1001): one meeting under ZOOM_USER_ID, hostedBy and a warning say so', async () => {
    const svc = service();
    const before = fake.meetings.size;
    const r = await (
      await svc.client.createMeeting({ appointmentId: 'apt-zh-unknown', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM', hostEmail: 'nobody@example.com' })
    ).result(10_000);
    expect(r).toMatchObject({
      status: 'created',
      hostedBy: 'me',
      hostFallback: expect.stringMatching(/nobody@example\.com is not a user of the Zoom account \(404\/1001\): hosted by me/),
      visioUrl: expect.stringContaining('zoom.example'),
    });
    expect(fake.meetings.size - before).toBe(1);
    expect(tagged('apt-zh-unknown')).toMatchObject([{ createdUnder: 'me' }]);
    expect(creates('nobody@example.com')).toHaveLength(1);
  });

  it('logs the fallback as a warning with the host email masked', async () => {
    const warnings: { fields: Record<string, unknown>; msg: string }[] = [];
    const svc = service();
    const deps = {
      providers: { ZOOM: createZoom({ ...svc.config.zoom!, timeoutMs: 2_000 }) },
      store: new MeetingStore(svc.ctx.connection, svc.config.redis),
      defaultTimezone: 'Europe/Paris',
      defaultTopic: 'Rendez-vous',
      logger: { warn: (fields: Record<string, unknown>, msg: string) => warnings.push({ fields, msg }) } as never,
    };
    await createMeeting({ appointmentId: 'apt-zh-warn', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM', hostEmail: 'nobody@example.com' }, deps);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.fields).toMatchObject({ host: 'n***@example.com', hostedBy: 'me' });
    expect(warnings[0]!.msg).toMatch(/not created as its host/);
    expect(JSON.stringify(warnings)).not.toContain('nobody@example.com');
  });

  it("a lost answer: the retry finds the meeting among the host's own meetings, one meeting", async () => {
    const svc = service({ PROVIDER_TIMEOUT_MS: '300' });
    fake.createReplyDelayMs = 800; // Zoom creates, then answers too late
    const job = await svc.client.createMeeting({ appointmentId: 'apt-zh-lost', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM', hostEmail: 'marc@example.com' });
    const r = await job.result(10_000);
    expect(tagged('apt-zh-lost')).toHaveLength(1);
    expect(r).toMatchObject({ status: 'created', hostedBy: 'marc@example.com', visioMeetingId: String(tagged('apt-zh-lost')[0]!.id) });
    expect(fake.received('GET', /^\/v2\/users\/marc%40example\.com\/meetings$/).length).toBeGreaterThanOrEqual(1);
    expect((await svc.client.queue('meeting').getJob(job.id))!.attemptsMade).toBe(2);
  });

  it('a lost answer after a fallback: the retry looks under ZOOM_USER_ID, one meeting', async () => {
    const svc = service({ PROVIDER_TIMEOUT_MS: '300' });
    fake.createReplyDelayMs = 800;
    const job = await svc.client.createMeeting({ appointmentId: 'apt-zh-lostfb', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM', hostEmail: 'ghost@example.com' });
    const r = await job.result(10_000);
    expect(tagged('apt-zh-lostfb')).toMatchObject([{ createdUnder: 'me' }]);
    expect(r).toMatchObject({ status: 'created', hostedBy: 'me', hostFallback: expect.stringContaining('ghost@example.com') });
  });
});

describe('Zoom with ZOOM_HOST_FROM_APPOINTMENT off (the default)', () => {
  it('creates under ZOOM_USER_ID whatever the host email', async () => {
    const svc = startService(zoomEnv(fake));
    opened.push(svc);
    const r = await (
      await svc.client.createMeeting({ appointmentId: 'apt-zh-off', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM', hostEmail: 'claire@example.com' })
    ).result(10_000);
    expect(r).toMatchObject({ status: 'created', hostedBy: 'me' });
    expect(tagged('apt-zh-off')).toMatchObject([{ createdUnder: 'me' }]);
  });
});
