import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { verifySignature } from '../src/index.js';
import { enqueueEvent, webhookListener } from '../src/webhooks/emit.js';
import { eventFromOutcome, type WebhookEvent } from '../src/webhooks/events.js';
import type { JobOutcome } from '../src/contract/outcome.js';
import { FakeTwilio } from './fakes/twilio.js';
import { FakeZoom } from './fakes/zoom.js';
import { startService, tomorrow, waitFor, zoomEnv, type Service } from './support/meetings.js';

const SECRET = 'whsec_test_secret_value';

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  event: WebhookEvent;
}

/** A webhook receiver: records every delivery; answers `failWith` to the next `failures` ones. */
class Receiver {
  readonly got: Received[] = [];
  failures = 0;
  failWith = 500;
  private server?: Server;
  url = '';

  async start() {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      this.got.push({ headers: req.headers, raw, event: JSON.parse(raw) });
      if (this.failures > 0) {
        this.failures--;
        res.writeHead(this.failWith).end('nope');
        return;
      }
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/hooks/notifications`;
  }

  of(type: string) {
    return this.got.filter((g) => g.event.type === type);
  }

  async stop() {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}

const zoom = new FakeZoom();
const twilio = new FakeTwilio();
const receiver = new Receiver();
beforeAll(async () => {
  await Promise.all([zoom.start(), twilio.start(), receiver.start()]);
});
afterAll(async () => {
  await Promise.all([zoom.stop(), twilio.stop(), receiver.stop()]);
});

const twilioEnv = () => ({
  TWILIO_ACCOUNT_SID: twilio.accountSid,
  TWILIO_AUTH_TOKEN: twilio.authToken,
  TWILIO_PHONE_NUMBER: '+15005550006',
  TWILIO_API_BASE_URL: twilio.url,
});

describe('webhook deliveries', () => {
  let svc: Service;
  const start = (extra: Record<string, string> = {}) => {
    svc = startService({ ...zoomEnv(zoom), ...twilioEnv(), WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, ...extra }, ['meeting', 'sms', 'webhook']);
  };
  afterEach(async () => {
    await svc?.close();
    receiver.failures = 0;
    receiver.failWith = 500;
  });

  it('delivers meeting.created, signed so that the receiver can verify it', async () => {
    start();
    const result = await (await svc.client.createMeeting({ appointmentId: 'apt-wh-1', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' })).result(10_000);
    const got = await waitFor(() => receiver.of('meeting.created').find((g) => g.event.data.appointmentId === 'apt-wh-1'), 5_000, 'meeting.created');

    expect(verifySignature(SECRET, got.raw, got.headers['x-signature'] as string)).toBe(true);
    expect(verifySignature('wrong-secret', got.raw, got.headers['x-signature'] as string)).toBe(false);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.event).toEqual({
      id: expect.stringMatching(/^evt_[0-9a-f]{32}$/),
      type: 'meeting.created',
      createdAt: expect.any(String),
      data: {
        appointmentId: 'apt-wh-1',
        visioProvider: 'ZOOM',
        visioUrl: (result as { visioUrl: string }).visioUrl,
        visioMeetingId: (result as { visioMeetingId: string }).visioMeetingId,
      },
    });
    expect(got.headers['x-event-id']).toBe(got.event.id);
  });

  it('retries a failing receiver with backoff: it gets the event on the third delivery', async () => {
    start();
    receiver.failures = 2;
    const before = receiver.got.length;
    await (await svc.client.createMeeting({ appointmentId: 'apt-wh-retry', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' })).result(10_000);
    const deliveries = await waitFor(() => {
      const d = receiver.got.slice(before).filter((g) => g.event.data.appointmentId === 'apt-wh-retry');
      return d.length >= 3 ? d : undefined;
    }, 10_000, 'three deliveries');
    expect(new Set(deliveries.map((d) => d.event.id)).size).toBe(1);
    for (const d of deliveries) expect(verifySignature(SECRET, d.raw, d.headers['x-signature'] as string)).toBe(true);
    const job = await waitFor(async () => {
      const j = await svc.client.queue('webhook').getJob(deliveries[0]!.event.id);
      return j?.finishedOn ? j : undefined;
    });
    expect(job.returnvalue).toMatchObject({ status: 'delivered', httpStatus: 204 });
    expect(job.attemptsMade).toBe(3);
    // No fourth delivery.
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.got.slice(before).filter((g) => g.event.data.appointmentId === 'apt-wh-retry')).toHaveLength(3);
  });

  it('fails a delivery the receiver refuses with a 4xx after one attempt', async () => {
    start();
    receiver.failures = 1;
    receiver.failWith = 400;
    await (await svc.client.createMeeting({ appointmentId: 'apt-wh-400', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' })).result(10_000);
    const got = await waitFor(() => receiver.of('meeting.created').find((g) => g.event.data.appointmentId === 'apt-wh-400'));
    const job = await waitFor(async () => {
      const j = await svc.client.queue('webhook').getJob(got.event.id);
      return j?.failedReason ? j : undefined;
    });
    expect(job.failedReason).toMatch(/^PROVIDER_REJECTED: webhook receiver answered 400/);
    expect(job.attemptsMade).toBe(1);
  });

  it('emits meeting.failed on a final failure, not on a retry', async () => {
    start();
    zoom.failNext(1, { status: 400, body: { code: 300, message: 'Invalid field.' } }, (r) => r.method === 'POST' && r.path.endsWith('/meetings'));
    const job = await svc.client.createMeeting({ appointmentId: 'apt-wh-fail', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' });
    await job.result(10_000).catch(() => {});
    const got = await waitFor(() => receiver.of('meeting.failed').find((g) => g.event.data.appointmentId === 'apt-wh-fail'));
    expect(got.event.data).toMatchObject({ operation: 'create', visioProvider: 'ZOOM', code: 'PROVIDER_REJECTED', failedReason: expect.stringMatching(/^PROVIDER_REJECTED/) });
  });

  it('emits message.sent and message.failed with masked recipients and no body', async () => {
    start();
    twilio.invalidNumbers.add('+15005550001');
    const sent = await svc.client.sendSms({ to: '+33612345678', body: 'secret code 4242' });
    const failed = await svc.client.sendSms({ to: '+15005550001', body: 'secret code 4242' });
    const ok = await waitFor(() => receiver.of('message.sent').find((g) => g.event.data.jobId === sent.id));
    const ko = await waitFor(() => receiver.of('message.failed').find((g) => g.event.data.jobId === failed.id));
    expect(ok.event.data).toEqual({ queue: 'sms', jobId: sent.id, provider: 'twilio', messageId: expect.stringMatching(/^SM/), to: '+336******78' });
    expect(ko.event.data).toMatchObject({ queue: 'sms', jobId: failed.id, provider: 'twilio', code: 'INVALID_RECIPIENT' });
    for (const g of [ok, ko]) {
      expect(g.raw).not.toContain('secret code');
      expect(g.raw).not.toContain('+33612345678');
    }
  });

  it('enqueues nothing without WEBHOOK_URL', async () => {
    svc = startService({ ...zoomEnv(zoom) }, ['meeting', 'webhook']);
    await (await svc.client.createMeeting({ appointmentId: 'apt-wh-off', scheduledAt: tomorrow(), duration: 30, visioProvider: 'ZOOM' })).result(10_000);
    await new Promise((r) => setTimeout(r, 100));
    const counts = await svc.client.queue('webhook').getJobCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('a replayed event does not add a second delivery', async () => {
    start({ WEBHOOK_URL: 'http://127.0.0.1:9/unused' });
    await svc.running.close(); // keep the job in the queue to count it
    const outcome: JobOutcome = {
      queue: 'meeting', name: 'create', jobId: 'meeting-create-apt-x', provider: 'zoom', attempt: 1, durationMs: 1, enqueuedAt: 1,
      outcome: 'completed', result: { status: 'created', visioProvider: 'ZOOM', visioUrl: 'https://z/j/1', visioMeetingId: '1' } as never,
    };
    const job = { name: 'create', data: { appointmentId: 'apt-x' } } as never;
    const a = eventFromOutcome(outcome, job)!;
    const b = eventFromOutcome(outcome, job, new Date(Date.now() + 5_000))!;
    expect(b.id).toBe(a.id);
    const queue = svc.client.queue('webhook');
    await enqueueEvent(queue, svc.config, a);
    await enqueueEvent(queue, svc.config, b);
    expect(await queue.getJobCountByTypes('wait', 'delayed', 'prioritized', 'active')).toBe(1);
  });
});

describe('webhook listener', () => {
  it('never fails the job that caused the event, even when it cannot enqueue', async () => {
    const ctx = {
      config: { webhook: { url: 'http://x', secret: 's' }, jobs: { attempts: 1, backoffMs: 1 } },
      logger: createLogger('silent'),
      queue: () => { throw new Error('Redis is gone'); },
    } as never;
    const outcome = { queue: 'sms', name: 'send', jobId: '1', provider: 'twilio', attempt: 1, durationMs: 1, enqueuedAt: 1, outcome: 'completed', result: { status: 'sent', messageId: 'SM1' } } as never;
    await expect(webhookListener(ctx)(outcome, { name: 'send', data: { to: '+33612345678' } } as never)).resolves.toBeUndefined();
  });
});
