import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationClient } from '../src/producer/client.js';
import { QUEUES } from '../src/contract/queues.js';
import { FakeTwilio } from './fakes/twilio.js';
import { finished, startHarness, until } from './support/harness.js';
import { startApp } from './support/server.js';

const USER = 'ops';
const PASSWORD = 'correct horse battery staple';
const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
const dashboardEnv = { DASHBOARD_USER: USER, DASHBOARD_PASSWORD: PASSWORD };
const CHROMIUM = '/usr/bin/chromium';

describe('dashboard', () => {
  it('is not mounted without credentials', async () => {
    const s = await startApp();
    try {
      const r = await s.app.inject({ url: '/admin/queues', headers: basic(USER, PASSWORD) });
      expect(r.statusCode).toBe(404);
      expect(r.json().error).toBe('not_found');
    } finally {
      await s.close();
    }
  });

  it('answers 401 without or with wrong credentials, and 200 with the right ones', async () => {
    const s = await startApp(dashboardEnv);
    try {
      for (const headers of [{}, basic(USER, 'wrong'), basic('root', PASSWORD), { authorization: 'Bearer x' }]) {
        for (const url of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/queue/sms']) {
          const r = await s.app.inject({ url, headers });
          expect(r.statusCode, url).toBe(401);
          expect(r.json()).toEqual({ error: 'unauthorized' });
          expect(r.headers['www-authenticate']).toMatch(/^Basic realm=/);
        }
      }
      const page = await s.app.inject({ url: '/admin/queues', headers: basic(USER, PASSWORD) });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      const api = await s.app.inject({ url: '/admin/queues/api/queues', headers: basic(USER, PASSWORD) });
      expect(api.statusCode).toBe(200);
      expect(api.json().queues.map((q: { name: string }) => q.name).sort()).toEqual([...QUEUES].sort());
    } finally {
      await s.close();
    }
  });

  describe('retrying a failed job', () => {
    const twilio = new FakeTwilio();
    beforeAll(() => twilio.start());
    afterAll(() => twilio.stop());
    const twilioEnv = () => ({
      ...dashboardEnv,
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_PHONE_NUMBER: '+15005550006',
      TWILIO_API_BASE_URL: twilio.url,
    });

    it('works through the board API: the job runs again and completes', async () => {
      const h = await startHarness(twilioEnv(), ['sms']);
      const s = await startApp({ ...twilioEnv(), QUEUE_PREFIX: h.config.redis.prefix }, { client: NotificationClient.fromConfig(h.config) });
      try {
        // Twilio refuses the credentials once: a permanent failure, no automatic retry.
        twilio.failNext(1, { status: 401, body: { code: 20003, message: 'Authenticate', status: 401 } });
        const { id } = await h.client.sendSms({ to: '+33612345678', body: 'Bonjour' });
        const failed = await finished(h, 'sms', id);
        expect(failed.failedReason).toMatch(/^PROVIDER_AUTH/);

        const r = await s.app.inject({ method: 'PUT', url: `/admin/queues/api/queues/sms/${id}/retry`, headers: { ...basic(USER, PASSWORD), 'content-type': 'application/json' } });
        expect(r.statusCode).toBe(204);
        const job = await until(async () => {
          const j = await h.client.queue('sms').getJob(id);
          // Re-read once completed: the job object above may predate the completion.
          return (await j?.getState()) === 'completed' ? h.client.queue('sms').getJob(id) : undefined;
        }, 15_000, 'the retried job to complete');
        expect(job!.returnvalue).toMatchObject({ status: 'sent', provider: 'twilio' });
        expect(twilio.delivered).toHaveLength(1);
      } finally {
        await s.close();
        await h.close();
      }
    });

    it('is refused in read-only mode', async () => {
      const h = await startHarness(twilioEnv(), ['sms']);
      const s = await startApp({ ...twilioEnv(), DASHBOARD_READ_ONLY: 'true', QUEUE_PREFIX: h.config.redis.prefix });
      try {
        twilio.failNext(1, { status: 401, body: { code: 20003, message: 'Authenticate', status: 401 } });
        const { id } = await h.client.sendSms({ to: '+33612345678', body: 'Bonjour' });
        await finished(h, 'sms', id);
        const r = await s.app.inject({ method: 'PUT', url: `/admin/queues/api/queues/sms/${id}/retry`, headers: { ...basic(USER, PASSWORD), 'content-type': 'application/json' } });
        expect(r.statusCode).toBe(405);
        expect(await (await h.client.queue('sms').getJob(id))!.getState()).toBe('failed');
        // Reading still works.
        expect((await s.app.inject({ url: '/admin/queues/api/queues', headers: basic(USER, PASSWORD) })).statusCode).toBe(200);
      } finally {
        await s.close();
        await h.close();
      }
    });
  });

  it.skipIf(!existsSync(CHROMIUM))('logs in with a real browser and lists every queue', async () => {
    const s = await startApp(dashboardEnv);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      await s.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = s.app.server.address() as { port: number };
      const base = `http://127.0.0.1:${port}`;

      const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD } });
      const page = await context.newPage();
      const response = await page.goto(`${base}/admin/queues`);
      expect(response?.status()).toBe(200);
      for (const q of QUEUES) await page.locator(`a[href$="/queue/${q}"]`).first().waitFor({ timeout: 20_000 });
      const text = await page.locator('body').innerText();
      for (const q of QUEUES) expect(text).toContain(q);
      // The board's own buttons send body-less PUTs with no content type; the page's shim
      // adds application/json, so they pass the JSON-only rule in a real browser too.
      const status = await page.evaluate(
        (url) =>
          new Promise<number>((resolve) => {
            // eslint-disable-next-line @typescript-eslint/no-explicit-any
            const x = new (globalThis as any).XMLHttpRequest();
            x.open('PUT', url);
            x.onload = () => resolve(x.status);
            x.send();
          }),
        `${base}/admin/queues/api/queues/sms/pause`,
      );
      expect(status).toBe(200);
      expect(await s.client.queue('sms').isPaused()).toBe(true);
      await context.close();
    } finally {
      await browser.close();
      await s.close();
    }
  });
});
