import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  rawBody: string;
  /** JSON or form body, parsed when the content type says so. */
  body: any;
  at: number;
}

export interface FakeReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Route = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

/**
 * A provider fake: a real HTTP server on 127.0.0.1 that records every request and can
 * be told to answer the next N requests with a given reply (errors, 429s) or to be slow.
 */
export class FakeServer {
  readonly requests: RecordedRequest[] = [];
  latencyMs = 0;
  private server?: Server;
  private queued: { match?: (r: RecordedRequest) => boolean; reply: FakeReply }[] = [];
  private down?: { until: number; reply: FakeReply };
  private routes: { method: string; pattern: RegExp; route: Route }[] = [];
  url = '';

  route(method: string, pattern: RegExp, route: Route): this {
    this.routes.push({ method, pattern, route });
    return this;
  }

  /** The next `times` matching requests get `reply` instead of the normal answer. */
  failNext(times: number, reply: FakeReply, match?: (r: RecordedRequest) => boolean): this {
    for (let i = 0; i < times; i++) this.queued.push({ match, reply });
    return this;
  }

  /** For the next `ms` milliseconds every request gets `reply` (a 503 by default): a provider outage. */
  outage(ms: number, reply: FakeReply = { status: 503, body: { message: 'Service Unavailable' } }): this {
    this.down = { until: Date.now() + ms, reply };
    return this;
  }

  /** Forgets recorded requests, queued replies, outage and latency (subclasses clear their own state too). */
  reset(): void {
    this.requests.length = 0;
    this.queued.length = 0;
    this.latencyMs = 0;
    this.down = undefined;
  }

  /** Requests that reached a route with `method` and a path matching `pattern`. */
  received(method: string, pattern: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && pattern.test(r.path));
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const at = Date.now(); // arrival, before the body is read
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const u = new URL(req.url ?? '/', 'http://fake');
    const type = String(req.headers['content-type'] ?? '');
    let body: any = rawBody;
    try {
      if (type.includes('json') && rawBody) body = JSON.parse(rawBody);
      else if (type.includes('x-www-form-urlencoded')) body = Object.fromEntries(new URLSearchParams(rawBody));
    } catch {
      /* keep raw */
    }
    const rec: RecordedRequest = { method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: req.headers, rawBody, body, at };
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    let reply: FakeReply;
    const qi = this.queued.findIndex((q) => !q.match || q.match(rec));
    if (this.down && Date.now() < this.down.until) {
      reply = this.down.reply;
      this.requests.push(rec);
    } else if (qi >= 0) {
      reply = this.queued.splice(qi, 1)[0]!.reply;
      this.requests.push(rec);
    } else {
      const r = this.routes.find((x) => x.method === rec.method && x.pattern.test(rec.path));
      this.requests.push(rec);
      reply = r ? await r.route(rec) : { status: 404, body: { message: `no fake route for ${rec.method} ${rec.path}` } };
    }
    const payload = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': typeof reply.body === 'string' ? 'text/plain' : 'application/json',
      ...reply.headers,
    });
    res.end(payload);
  }
}
