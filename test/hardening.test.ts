import { connect } from 'node:net';
import { runInNewContext } from 'node:vm';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BULLMQ_KEY_NAMES } from '../src/contract/job-ids.js';
import { QUEUES } from '../src/contract/queues.js';
import { createLogger, serializeError } from '../src/logger.js';
import { NotificationClient } from '../src/producer/client.js';
import { REQUEST_TIMEOUT_MS } from '../src/server/app.js';
import { BOARD_JSON_SHIM } from '../src/server/dashboard.js';
import { finished, startHarness } from './support/harness.js';
import { monitorCommands } from './support/monitor.js';
import { PrivateRedis } from './support/redis.js';
import { TOKEN, bearer, startApp } from './support/server.js';

const PHONE = '+33612345678';
const SECRET_BODY = 'Votre code secret : 918273';

/** A logger writing JSON lines into an array. */
function capturedLogger() {
  const lines: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
  return { logger: createLogger('debug', sink), lines };
}

/**
 * Sends raw bytes on a fresh connection and collects what comes back until the server closes
 * it (or `giveUpMs` passes: then `closed` is false).
 */
function rawExchange(port: number, bytes: string, giveUpMs: number) {
  return new Promise<{ text: string; closed: boolean; ms: number }>((resolve) => {
    const t0 = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false, ms: Date.now() - t0 });
    }, giveUpMs);
    socket.on('connect', () => bytes && socket.write(bytes));
    socket.on('data', (d) => (text += String(d)));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true, ms: Date.now() - t0 });
    });
  });
}

describe('hardening: path parameters are checked before Redis is read', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  let s: Awaited<ReturnType<typeof startApp>>;
  beforeAll(async () => {
    h = await startHarness({ API_TOKENS: TOKEN }, ['sms', 'appointment']);
    s = await startApp({ QUEUE_PREFIX: h.config.redis.prefix }, { client: NotificationClient.fromConfig(h.config) });
  });
  afterAll(async () => {
    await s?.close();
    await h?.close();
  });
  const get = (url: string) => s.app.inject({ url, headers: bearer });

  it('answers 404 for every BullMQ key name as a job id, reads none of those keys, and the queues still process', async () => {
    // A first SMS so that the queue's own keys (meta, events, id, completed...) exist.
    const first = await s.app.inject({ method: 'POST', url: '/v1/sms', headers: bearer, payload: { to: PHONE, body: 'Bonjour' } });
    await finished(h, 'sms', first.json().id);

    const { seen, stop } = await monitorCommands(h.config.redis.url);
    try {
      for (const queue of QUEUES)
        for (const name of BULLMQ_KEY_NAMES) {
          const r = await get(`/v1/jobs/${queue}/${name}`);
          expect(r.statusCode, `${queue}/${name}`).toBe(404);
          expect(r.json().error).toBe('not_found');
          // The same names as appointment ids are ordinary ids: no 500, an empty list.
          const rem = await get(`/v1/appointments/${name}/reminders`);
          expect(rem.statusCode, name).toBe(200);
          expect(rem.json()).toEqual({ appointmentId: name, reminders: [] });
        }
      // The control: a real id is read with HGETALL, so the check below can see one.
      expect((await get(`/v1/jobs/sms/${first.json().id}`)).statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, 200)); // MONITOR lines arrive after the commands' answers
    } finally {
      await stop();
    }
    const prefix = `${h.config.redis.prefix}:`;
    const reads = seen.filter(([cmd, key]) => /^hgetall$/i.test(cmd ?? '') && key?.startsWith(prefix));
    const reserved = new Set(QUEUES.flatMap((q) => BULLMQ_KEY_NAMES.map((n) => `${prefix}${q}:${n}`)));
    expect(reads.map(([, key]) => key)).toContain(`${prefix}sms:${first.json().id}`);
    expect(reads.filter(([, key]) => reserved.has(key!))).toEqual([]);

    const after = await s.app.inject({ method: 'POST', url: '/v1/sms', headers: bearer, payload: { to: PHONE, body: 'Toujours là' } });
    expect(after.statusCode).toBe(202);
    const job = await finished(h, 'sms', after.json().id);
    expect(await job.getState()).toBe('completed');
    // The numbered ids BullMQ gives jobs added without a key are still found.
    expect((await get(`/v1/jobs/sms/${after.json().id}`)).json()).toMatchObject({ state: 'completed' });
  });

  it('answers 400 naming the id to ids that cannot be job ids, 404 to unknown queues', async () => {
    for (const id of ['a:b', 'a%3Aevents', '-1', '%00', 'a%20b', 'caf%C3%A9', 'x'.repeat(90) + '%7F']) {
      const r = await get(`/v1/jobs/sms/${id}`);
      expect(r.statusCode, id).toBe(400);
      expect(r.json()).toMatchObject({ error: 'validation_failed', issues: [{ path: 'id' }] });
    }
    for (const queue of ['nosuchqueue', 'sms:meta', 'SMS', '__proto__', 'constructor']) {
      const r = await get(`/v1/jobs/${queue}/1`);
      expect(r.statusCode, queue).toBe(404);
      expect(r.json().error).toBe('not_found');
    }
  });

  it('answers 400 naming the id to malformed appointment ids on every appointment route, and enqueues nothing', async () => {
    const before = await h.queue('appointment').getJobCounts();
    for (const id of ['apt_x:events', 'a%20b', 'a%00', 'caf%C3%A9', 'a%2Fb', 'meta:x', 'x'.repeat(129)]) {
      const answers = [
        await get(`/v1/appointments/${id}/reminders`),
        await s.app.inject({ method: 'DELETE', url: `/v1/appointments/${id}`, headers: bearer }),
        await s.app.inject({
          method: 'PUT',
          url: `/v1/appointments/${id}`,
          headers: bearer,
          payload: { scheduledAt: '2030-01-15T10:00:00Z', duration: 30, title: 'T', attendee: { name: 'Paul', phone: PHONE } },
        }),
      ];
      for (const [i, r] of answers.entries()) {
        expect(r.statusCode, `${['GET reminders', 'DELETE', 'PUT'][i]} ${id}`).toBe(400);
        expect(r.json()).toMatchObject({ error: 'validation_failed', issues: [{ path: 'id' }] });
      }
    }
    expect(await h.queue('appointment').getJobCounts()).toEqual(before);
    // The producer client checks the id it is given the same way.
    await expect(h.client.appointments.reminders('apt_x:events')).rejects.toThrow(/id/);
  });
});

describe('hardening: requests that never finish arriving', () => {
  const TIMEOUT = 400;
  let s: Awaited<ReturnType<typeof startApp>>;
  let port: number;
  beforeAll(async () => {
    s = await startApp({ DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 'pw' }, { requestTimeoutMs: TIMEOUT });
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    port = (s.app.server.address() as { port: number }).port;
  });
  afterAll(() => s?.close());

  const cases: [string, string][] = [
    ['headers never finished, unauthenticated', 'POST /v1/sms HTTP/1.1\r\nHost: x\r\nContent-Type: appl'],
    ['headers never finished, unknown route', 'GET /nowhere HTTP/1.1\r\nHost: x\r\n'],
    [
      'authenticated body never sent',
      `POST /v1/sms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"to":`,
    ],
    ['dashboard body never sent', `PUT /admin/queues/api/queues/sms/pause HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Basic ${Buffer.from('ops:pw').toString('base64')}\r\nContent-Length: 10\r\n\r\n`],
    ['connection opened, nothing sent', ''],
  ];
  it.each(cases)('%s: 408 and the connection closed within the limit', async (_what, bytes) => {
    const r = await rawExchange(port, bytes, TIMEOUT * 10);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT - 50);
    expect(r.ms).toBeLessThan(TIMEOUT * 3);
    if (bytes) {
      expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
      expect(r.text).toMatch(/\r\nConnection: close\r\n/i);
      expect(JSON.parse(r.text.split('\r\n\r\n')[1]!)).toEqual({ error: 'request_timeout', message: expect.any(String) });
    }
  });

  it('closes a connection whose refused request never sends its body', async () => {
    // Answered 401 at once (no token): the announced body never comes, the connection goes.
    const r = await rawExchange(port, 'POST /v1/sms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n', TIMEOUT * 10);
    expect(r.text).toMatch(/^HTTP\/1\.1 401 /);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeLessThan(TIMEOUT * 3);
  });

  it('leaves an idle kept-alive connection alone after a complete request: no stray 408', async () => {
    const r = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', TIMEOUT * 4);
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.text).not.toContain('408');
  });

  it('uses 30 s unless told otherwise', async () => {
    const d = await startApp();
    try {
      expect([d.app.server.headersTimeout, d.app.server.requestTimeout]).toEqual([REQUEST_TIMEOUT_MS, REQUEST_TIMEOUT_MS]);
      expect(REQUEST_TIMEOUT_MS).toBe(30_000);
    } finally {
      await d.close();
    }
  });

  it('still serves a request that arrives in time', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(r.status).toBe(200);
  });
});

describe('hardening: error logs carry no payload', () => {
  it('logs a write refused by a full Redis without the phone number or the body', async () => {
    const redis = await PrivateRedis.start();
    const { logger, lines } = capturedLogger();
    const s = await startApp({ REDIS_URL: redis.url }, { logger });
    const admin = new Redis(redis.url);
    try {
      // Warm up (scripts loaded, connection ready), then make Redis refuse every write.
      expect((await s.app.inject({ method: 'POST', url: '/v1/sms', headers: bearer, payload: { to: '+33700000000', body: 'x' } })).statusCode).toBe(202);
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', '1');
      const r = await s.app.inject({ method: 'POST', url: '/v1/sms', headers: bearer, payload: { to: PHONE, body: SECRET_BODY } });
      expect(r.statusCode).toBe(503);
      expect(r.json().error).toBe('redis_unavailable');
      await new Promise((res) => setImmediate(res));
      const log = lines.join('');
      expect(log).toMatch(/OOM/); // the refusal itself is logged...
      expect(log).not.toContain('612345678'); // ...without the recipient
      expect(log).not.toContain('918273'); // or the body
      expect(log).not.toContain('Votre code');
    } finally {
      await admin.config('SET', 'maxmemory', '0').catch(() => {});
      admin.disconnect();
      await s.close();
      await redis.stop();
    }
  });

  it('keeps an error to its type, message, stack and codes, contacts masked', () => {
    const ioredisLike = Object.assign(new Error(`OOM command not allowed, to ${PHONE} and paul.durand@example.com`), {
      name: 'ReplyError',
      command: { name: 'evalsha', args: ['sha', '8', PHONE, SECRET_BODY] },
      previousErrors: [{ message: SECRET_BODY, command: { args: [PHONE] } }],
    });
    const providerLike = Object.assign(new Error('Bad Request'), {
      code: 21211,
      status: 400,
      response: { body: { to: PHONE, body: SECRET_BODY } },
      request: { data: SECRET_BODY },
      cause: ioredisLike,
    });
    const out = JSON.stringify([serializeError(ioredisLike), serializeError(providerLike), serializeError({ message: `to ${PHONE}` }), serializeError(`to ${PHONE}`)]);
    expect(out).not.toContain('612345678');
    expect(out).not.toContain('918273');
    expect(out).not.toContain('paul.durand');
    expect(serializeError(providerLike)).toMatchObject({ type: 'Error', message: 'Bad Request', code: 21211, status: 400, cause: { name: 'ReplyError', command: 'evalsha' } });
  });
});

describe('hardening: dashboard', () => {
  const auth = { authorization: `Basic ${Buffer.from('ops:pw').toString('base64')}` };
  const dashboardEnv = { DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 'pw' };
  const frame = (r: { headers: Record<string, unknown> }) => [r.headers['x-frame-options'], r.headers['content-security-policy']];

  it('forbids framing on its pages, assets, API answers and refusals', async () => {
    const s = await startApp(dashboardEnv);
    try {
      const page = await s.app.inject({ url: '/admin/queues', headers: auth });
      expect(page.statusCode).toBe(200);
      const script = /src="(static\/js\/[^"]+\.js)"/.exec(page.body)![1]!;
      for (const [i, r] of [
        page,
        await s.app.inject({ url: '/admin/queues/queue/sms', headers: auth }),
        await s.app.inject({ url: `/admin/queues/${script}`, headers: auth }),
        await s.app.inject({ url: '/admin/queues/api/queues', headers: auth }),
        await s.app.inject({ url: '/admin/queues' }),
        await s.app.inject({ method: 'PUT', url: '/admin/queues/api/queues/sms/pause', headers: auth }),
      ].entries())
        expect(frame(r), `answer ${i}`).toEqual(['DENY', "frame-ancestors 'none'"]);
    } finally {
      await s.close();
    }
  });

  it('refuses state-changing requests without a JSON content type (415), and takes them with one', async () => {
    const s = await startApp(dashboardEnv);
    const sms = s.client.queue('sms');
    try {
      const writes: [string, string, string | undefined][] = [
        ['PUT', '/admin/queues/api/queues/sms/pause', undefined],
        ['PUT', '/admin/queues/api/queues/pause', ''],
        ['POST', '/admin/queues/api/queues/sms/add', JSON.stringify({ name: 'send', data: { to: PHONE, body: 'forged' } })],
        ['PATCH', '/admin/queues/api/queues/sms/1/update-data', JSON.stringify({ data: {} })],
        ['PUT', '/admin/queues/api/queues/sms/clean/completed', undefined],
      ];
      for (const [method, url, payload] of writes)
        for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'text/json']) {
          const headers = { ...auth, ...(type && { 'content-type': type }) };
          const r = await s.app.inject({ method: method as 'PUT', url, headers, payload });
          expect(r.statusCode, `${method} ${url} ${type}`).toBe(415);
          expect(r.json().error).toBe('unsupported_media_type');
        }
      expect(await sms.isPaused()).toBe(false);
      expect(await sms.count()).toBe(0);

      const json = { ...auth, 'content-type': 'application/json' };
      expect((await s.app.inject({ method: 'PUT', url: '/admin/queues/api/queues/sms/pause', headers: json })).statusCode).toBeLessThan(300);
      expect(await sms.isPaused()).toBe(true);
      const resume = await s.app.inject({ method: 'PUT', url: '/admin/queues/api/queues/sms/resume', headers: { ...auth, 'content-type': 'Application/JSON; charset=utf-8' } });
      expect(resume.statusCode).toBeLessThan(300);
      expect(await sms.isPaused()).toBe(false);
      // Credentials are still checked first.
      expect((await s.app.inject({ method: 'PUT', url: '/admin/queues/api/queues/sms/pause' })).statusCode).toBe(401);
    } finally {
      await s.close();
    }
  });

  it("refuses BullMQ's key names as job ids on the board's job routes, so none of the queue's keys is read or removed", async () => {
    const h = await startHarness(dashboardEnv, ['sms']);
    const s = await startApp({ ...dashboardEnv, QUEUE_PREFIX: h.config.redis.prefix }, { client: NotificationClient.fromConfig(h.config) });
    const redis = new Redis(h.config.redis.url);
    try {
      const { id } = await h.client.sendSms({ to: PHONE, body: 'Bonjour' });
      await finished(h, 'sms', id);
      const keyOf = (name: string) => `${h.config.redis.prefix}:sms:${name}`;
      const snapshot = async () => Promise.all(BULLMQ_KEY_NAMES.map(async (n) => `${n}=${await redis.type(keyOf(n))}`));
      const before = await snapshot();
      const metaBefore = await redis.hgetall(keyOf('meta'));
      const json = { ...auth, 'content-type': 'application/json' };
      for (const name of BULLMQ_KEY_NAMES) {
        for (const [method, url] of [
          ['GET', `/admin/queues/api/queues/sms/${name}`],
          ['GET', `/admin/queues/api/queues/sms/${name}/logs`],
          ['PUT', `/admin/queues/api/queues/sms/${name}/clean`],
          ['PUT', `/admin/queues/api/queues/sms/${name}/retry`],
          ['PATCH', `/admin/queues/api/queues/sms/${name}/update-data`],
        ] as const) {
          const r = await s.app.inject({ method, url, headers: json, ...(method === 'PATCH' && { payload: { data: {} } }) });
          // GET …/metrics is the board's own queue-metrics page, not a job.
          if (!(method === 'GET' && url.endsWith('/metrics'))) expect(r.statusCode, `${method} ${url}`).toBe(404);
        }
      }
      expect(await snapshot()).toEqual(before);
      expect(await redis.hgetall(keyOf('meta'))).toEqual(metaBefore);
      expect((await s.app.inject({ url: '/admin/queues/api/queues/sms/a%3Ab', headers: auth })).statusCode).toBe(400);
      expect((await s.app.inject({ url: `/admin/queues/api/queues/sms/${id}`, headers: auth })).statusCode).toBe(200);
      const after = await h.client.sendSms({ to: PHONE, body: 'Toujours là' });
      expect(await (await finished(h, 'sms', after.id)).getState()).toBe('completed');
    } finally {
      redis.disconnect();
      await s.close();
      await h.close();
    }
  });

  it('keeps read-only mode: changes with a JSON content type answer 405, without one 415', async () => {
    const s = await startApp({ ...dashboardEnv, DASHBOARD_READ_ONLY: 'true' });
    try {
      const url = '/admin/queues/api/queues/sms/pause';
      expect((await s.app.inject({ method: 'PUT', url, headers: { ...auth, 'content-type': 'application/json' } })).statusCode).toBe(405);
      expect((await s.app.inject({ method: 'PUT', url, headers: auth })).statusCode).toBe(415);
      expect(await s.client.queue('sms').isPaused()).toBe(false);
      expect((await s.app.inject({ url: '/admin/queues/api/queues', headers: auth })).statusCode).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("gives the board's own body-less buttons a JSON content type, and leaves other requests alone", async () => {
    const s = await startApp(dashboardEnv);
    try {
      const page = (await s.app.inject({ url: '/admin/queues', headers: auth })).body;
      // Before the board's scripts, which capture XMLHttpRequest when they load.
      expect(page.indexOf(BOARD_JSON_SHIM)).toBeGreaterThan(-1);
      expect(page.indexOf(BOARD_JSON_SHIM)).toBeLessThan(page.indexOf('<script defer'));
    } finally {
      await s.close();
    }
    // The shim against a stand-in for the browser's XMLHttpRequest.
    const sent: { method: string; headers: Record<string, string> }[] = [];
    class XMLHttpRequest {
      method = '';
      headers: Record<string, string> = {};
      open(method: string) {
        this.method = method;
      }
      setRequestHeader(k: string, v: string) {
        this.headers[k] = v;
      }
      send() {
        sent.push({ method: this.method, headers: this.headers });
      }
    }
    const js = BOARD_JSON_SHIM.replace(/^<script>|<\/script>$/g, '');
    runInNewContext(`${js}
      const a = new XMLHttpRequest(); a.open('put', 'api/queues/sms/pause'); a.send();
      const b = new XMLHttpRequest(); b.open('GET', 'api/queues'); b.send();
      const c = new XMLHttpRequest(); c.open('PATCH', 'x'); c.setRequestHeader('Content-Type', 'application/json'); c.send('{}');`, { XMLHttpRequest });
    expect(sent).toEqual([
      { method: 'put', headers: { 'Content-Type': 'application/json' } },
      { method: 'GET', headers: {} },
      { method: 'PATCH', headers: { 'Content-Type': 'application/json' } },
    ]);
  });
});

describe('hardening: text rules hold in the API, the producer and the worker', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  let s: Awaited<ReturnType<typeof startApp>>;
  beforeAll(async () => {
    h = await startHarness({ API_TOKENS: TOKEN }, ['sms', 'email']);
    s = await startApp({ QUEUE_PREFIX: h.config.redis.prefix }, { client: NotificationClient.fromConfig(h.config) });
  });
  afterAll(async () => {
    await s?.close();
    await h?.close();
  });
  const post = (url: string, payload: object) => s.app.inject({ method: 'POST', url, headers: bearer, payload });

  it('answers 400 naming the field and enqueues nothing', async () => {
    const tags = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`t${i}`, 'x']));
    const cases: [string, object, string][] = [
      ['/v1/sms', { to: PHONE, body: 'code\u0000 1234' }, 'body'],
      ['/v1/sms', { to: PHONE, body: 'del\u007f' }, 'body'],
      ['/v1/emails', { to: 'paul@example.com', subject: 'Facture \u202egpj.exe', text: 'x' }, 'subject'],
      ['/v1/emails', { to: 'paul@example.com', subject: 'a\u2028b', text: 'x' }, 'subject'],
      ['/v1/emails', { to: 'paul@example.com', subject: 'a\u0000', text: 'x' }, 'subject'],
      ['/v1/emails', { to: 'paul@example.com', subject: 's', text: 'x', tags }, 'tags'],
      ['/v1/whatsapp', { to: PHONE, contentSid: 'HX' + 'ab'.repeat(16), contentVariables: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [String(i), 'v'])) }, 'contentVariables'],
      ['/v1/appointments', { id: 'a1', scheduledAt: '2030-01-15T10:00:00Z', duration: 30, title: 'T\u0007', attendee: { name: 'Paul' } }, 'title'],
      ['/v1/appointments', { id: 'a1', scheduledAt: '2030-01-15T10:00:00Z', duration: 30, title: 'T', attendee: { name: 'Pa\tul' } }, 'attendee.name'],
    ];
    for (const [url, payload, path] of cases) {
      const t0 = Date.now();
      const r = await post(url, payload);
      expect(r.statusCode, `${url} ${path}`).toBe(400);
      expect(r.json().issues.map((i: { path: string }) => i.path)).toEqual([path]);
      expect(Date.now() - t0, `${url} ${path}`).toBeLessThan(2_000);
    }
    for (const q of ['sms', 'email', 'whatsapp', 'appointment'] as const) expect(await h.queue(q).count(), q).toBe(0);
    // The producer client refuses the same, before anything is enqueued.
    await expect(h.client.sendSms({ to: PHONE, body: 'a\u0000' })).rejects.toThrow(/body/);
    // Tab, CR and LF stay allowed in bodies.
    expect((await post('/v1/sms', { to: PHONE, body: 'Ligne 1\r\nLigne 2\tfin' })).statusCode).toBe(202);
  });

  it('fails a job pushed straight into Redis by another producer, INVALID_PAYLOAD naming the field, without retrying', async () => {
    const sms = await h.queue('sms').add('send', { to: PHONE, body: 'code\u0000' }, { attempts: 5 });
    const email = await h.queue('email').add('send', { to: 'paul@example.com', subject: 'x\u202ey', text: 'x' }, { attempts: 5 });
    const [a, b] = [await finished(h, 'sms', sms.id!), await finished(h, 'email', email.id!)];
    expect(a.failedReason).toMatch(/^INVALID_PAYLOAD: body: must not contain control characters/);
    expect(b.failedReason).toMatch(/^INVALID_PAYLOAD: subject: must not contain U\+2028/);
    expect([a.attemptsMade, b.attemptsMade]).toEqual([1, 1]);
  });
});
