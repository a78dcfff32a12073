import { afterEach, describe, expect, it } from 'vitest';
import { addSuppression } from '../src/delivery/suppressions.js';
import { bearer, startApp } from './support/server.js';

describe('suppression list API', () => {
  let s: Awaited<ReturnType<typeof startApp>>;
  afterEach(() => s?.close());
  const db = () => ({ connection: s.client.connection, redis: s.config.redis });

  it('PUT adds (201) then keeps (200) a manual entry; GET finds it; DELETE removes it (204) then 404', async () => {
    s = await startApp();
    const url = '/v1/suppressions/sms/%2B33612345678';
    const put = await s.app.inject({ method: 'PUT', url, headers: bearer });
    expect(put.statusCode).toBe(201);
    expect(put.json()).toMatchObject({ channel: 'sms', recipient: '+33612345678', reason: 'manual' });
    expect(new Date(put.json().since).toISOString()).toBe(put.json().since);
    expect((await s.app.inject({ method: 'PUT', url, headers: { ...bearer, 'content-type': 'application/json' }, payload: '{"ignored":true}' })).statusCode).toBe(200);
    expect((await s.app.inject({ method: 'GET', url, headers: bearer })).json()).toMatchObject({ reason: 'manual' });
    // The whatsapp: scheme and email case are normalised away.
    await s.app.inject({ method: 'PUT', url: '/v1/suppressions/whatsapp/whatsapp%3A%2B33612345678', headers: bearer });
    expect((await s.app.inject({ method: 'GET', url: '/v1/suppressions/whatsapp/%2B33612345678', headers: bearer })).statusCode).toBe(200);
    await s.app.inject({ method: 'PUT', url: '/v1/suppressions/email/Paul%40Example.com', headers: bearer });
    expect((await s.app.inject({ method: 'GET', url: '/v1/suppressions/email/paul%40example.com', headers: bearer })).json().recipient).toBe('paul@example.com');

    expect((await s.app.inject({ method: 'DELETE', url, headers: bearer })).statusCode).toBe(204);
    expect((await s.app.inject({ method: 'DELETE', url, headers: bearer })).statusCode).toBe(404);
    expect((await s.app.inject({ method: 'GET', url, headers: bearer })).statusCode).toBe(404);
  });

  it('refuses without a token, and names the field for a bad channel, recipient or cursor', async () => {
    s = await startApp();
    expect((await s.app.inject({ method: 'GET', url: '/v1/suppressions' })).statusCode).toBe(401);
    expect((await s.app.inject({ method: 'PUT', url: '/v1/suppressions/sms/%2B33612345678' })).statusCode).toBe(401);
    const badChannel = await s.app.inject({ method: 'PUT', url: '/v1/suppressions/fax/%2B33612345678', headers: bearer });
    expect(badChannel.statusCode).toBe(400);
    expect(badChannel.json().issues[0].path).toBe('channel');
    const badPhone = await s.app.inject({ method: 'PUT', url: '/v1/suppressions/sms/0612345678', headers: bearer });
    expect(badPhone.json().issues[0].path).toBe('recipient');
    expect((await s.app.inject({ method: 'GET', url: '/v1/suppressions?channel=fax', headers: bearer })).statusCode).toBe(400);
    expect((await s.app.inject({ method: 'GET', url: '/v1/suppressions?cursor=junk', headers: bearer })).json().issues[0].path).toBe('cursor');
  });

  it('lists every entry once over pages, per channel or all, with reason and since', async () => {
    s = await startApp();
    await s.client.withRedis(async () => {
      for (let i = 0; i < 230; i++) await addSuppression(db(), 'email', `user${i}@example.com`, 'bounced');
      for (let i = 0; i < 3; i++) await addSuppression(db(), 'sms', `+3361234567${i}`, 'opted_out');
    });
    const all = async (query: string) => {
      const seen: { channel: string; recipient: string; reason: string; since: string }[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: { statusCode: number; json(): { items: typeof seen; nextCursor: string | null } } = await s.app.inject({ method: 'GET', url: `/v1/suppressions?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, headers: bearer });
        expect(res.statusCode).toBe(200);
        const page: { items: typeof seen; nextCursor: string | null } = res.json();
        seen.push(...page.items);
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor && pages < 50);
      return { seen, pages };
    };
    const everything = await all('');
    expect(new Set(everything.seen.map((e) => `${e.channel}/${e.recipient}`)).size).toBe(233);
    expect(everything.pages).toBeGreaterThan(1);
    const sms = await all('channel=sms');
    expect(sms.seen.map((e) => e.reason)).toEqual(['opted_out', 'opted_out', 'opted_out']);
    expect((await all('channel=whatsapp')).seen).toEqual([]);
  });

  it('is in the OpenAPI document', async () => {
    s = await startApp();
    const doc = (await s.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths['/v1/suppressions/{channel}/{recipient}']).sort()).toEqual(['delete', 'get', 'put']);
    expect(doc.paths['/v1/suppressions'].get).toBeDefined();
    expect(doc.components.schemas.Job.properties.delivery).toBeDefined();
  });
});
