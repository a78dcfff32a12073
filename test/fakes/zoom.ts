import { FakeServer, type FakeReply, type RecordedRequest } from './server.js';

export interface FakeZoomMeeting {
  id: number;
  uuid: string;
  host_id: string;
  topic: string;
  type: number;
  start_time: string;
  duration: number;
  timezone: string;
  agenda: string;
  password: string;
  join_url: string;
  created_at: string;
  settings: Record<string, unknown>;
  /** Fake-only: the user (`/users/{user}/meetings`, lower-cased) the meeting was created under. */
  createdUnder: string;
}

const error = (status: number, code: number, message: string): FakeReply => ({ status, body: { code, message } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const userOf = (r: RecordedRequest) => decodeURIComponent(r.path.split('/')[3] ?? '').toLowerCase();

/**
 * Zoom: the OAuth token endpoint (`/oauth/token`, account_credentials grant) and the
 * meetings API under `/v2`. Tokens can be revoked to provoke a 401, and creation can
 * answer late (after it created the meeting) to stand for a lost answer.
 */
export class FakeZoom extends FakeServer {
  readonly meetings = new Map<number, FakeZoomMeeting>();
  private readonly validTokens = new Set<string>();
  private tokenSeq = 0;
  private meetingSeq = 85_000_000_000;
  /** `expires_in` of issued tokens, seconds. */
  tokenLifetime = 3599;
  /** Creation stores the meeting, then waits this long before answering. */
  createReplyDelayMs = 0;
  /**
   * The account's users (emails or ids; `me` always exists). Unset: every user exists. Set:
   * the others get Zoom's 404 with code 1001, "User does not exist".
   */
  users?: Set<string>;

  constructor(
    readonly clientId = 'zoom-client-id',
    readonly clientSecret = 'zoom-client-secret',
    readonly accountId = 'zoom-account-id',
  ) {
    super();
    this.route('POST', /^\/oauth\/token$/, (r) => this.token(r));
    this.route('POST', /^\/v2\/users\/[^/]+\/meetings$/, (r) => this.create(r));
    this.route('GET', /^\/v2\/users\/[^/]+\/meetings$/, (r) => this.list(r));
    this.route('GET', /^\/v2\/meetings\/[^/]+$/, (r) => this.withMeeting(r, (m) => ({ status: 200, body: m })));
    this.route('PATCH', /^\/v2\/meetings\/[^/]+$/, (r) => this.withMeeting(r, (m) => this.patch(m, r)));
    this.route('DELETE', /^\/v2\/meetings\/[^/]+$/, (r) =>
      this.withMeeting(r, (m) => {
        this.meetings.delete(m.id);
        return { status: 204 };
      }),
    );
  }

  get tokenRequests(): RecordedRequest[] {
    return this.received('POST', /^\/oauth\/token$/);
  }

  /** Every token issued so far stops working (Zoom answers 401, code 124). */
  revokeTokens(): void {
    this.validTokens.clear();
  }

  private token(r: RecordedRequest): FakeReply {
    const basic = 'Basic ' + Buffer.from(`${this.clientId}:${this.clientSecret}`).toString('base64');
    if (r.headers.authorization !== basic) return { status: 400, body: { reason: 'Invalid client_id or client_secret', error: 'invalid_client' } };
    // Zoom refuses the query-string form: grant type and account id must be in the form body.
    if (r.query.size > 0 || !String(r.headers['content-type']).includes('x-www-form-urlencoded'))
      return { status: 400, body: { reason: 'unsupported grant type', error: 'unsupported_grant_type' } };
    if (r.body?.grant_type !== 'account_credentials') return { status: 400, body: { reason: 'unsupported grant type', error: 'unsupported_grant_type' } };
    if (r.body?.account_id !== this.accountId) return { status: 400, body: { reason: 'Invalid account_id', error: 'invalid_request' } };
    const token = `zoom-token-${++this.tokenSeq}`;
    this.validTokens.add(token);
    return {
      status: 200,
      body: { access_token: token, token_type: 'bearer', expires_in: this.tokenLifetime, scope: 'meeting:write:meeting:admin', api_url: this.url },
    };
  }

  private authorized(r: RecordedRequest): boolean {
    const h = r.headers.authorization ?? '';
    return h.startsWith('Bearer ') && this.validTokens.has(h.slice('Bearer '.length));
  }

  /** Meetings created under a user, live ones. */
  meetingsOf(user: string): FakeZoomMeeting[] {
    return [...this.meetings.values()].filter((m) => m.createdUnder === user.toLowerCase());
  }

  private knows(user: string): boolean {
    return !this.users || user === 'me' || [...this.users].some((u) => u.toLowerCase() === user);
  }

  private async create(r: RecordedRequest): Promise<FakeReply> {
    if (!this.authorized(r)) return error(401, 124, 'Invalid access token.');
    const user = userOf(r);
    if (!this.knows(user)) return error(404, 1001, `User does not exist: ${user}.`);
    const b = r.body ?? {};
    if (!b.topic || b.type !== 2 || !b.start_time || !b.duration) return error(400, 300, 'Invalid meeting parameters.');
    const id = ++this.meetingSeq;
    const password = 'p' + String(id).slice(-5);
    const m: FakeZoomMeeting = {
      id,
      uuid: `uuid-${id}`,
      host_id: 'host-1',
      topic: b.topic,
      type: 2,
      start_time: b.start_time,
      duration: b.duration,
      timezone: b.timezone,
      agenda: b.agenda ?? '',
      password,
      join_url: `https://zoom.example/j/${id}?pwd=${password}`,
      created_at: new Date().toISOString(),
      settings: b.settings ?? {},
      createdUnder: user,
    };
    this.meetings.set(id, m);
    if (this.createReplyDelayMs > 0) await sleep(this.createReplyDelayMs);
    return { status: 201, body: { ...m, start_url: `https://zoom.example/s/${id}?zak=secret-host-key` } };
  }

  private list(r: RecordedRequest): FakeReply {
    if (!this.authorized(r)) return error(401, 124, 'Invalid access token.');
    const user = userOf(r);
    if (!this.knows(user)) return error(404, 1001, `User does not exist: ${user}.`);
    // The list carries no passcode, like Zoom's; only the user's own meetings.
    const meetings = this.meetingsOf(user).map(({ password: _p, settings: _s, createdUnder: _u, ...m }) => m);
    return { status: 200, body: { page_size: 300, total_records: meetings.length, next_page_token: '', meetings } };
  }

  private withMeeting(r: RecordedRequest, then: (m: FakeZoomMeeting) => FakeReply): FakeReply {
    if (!this.authorized(r)) return error(401, 124, 'Invalid access token.');
    const m = this.meetings.get(Number(r.path.split('/').at(-1)));
    if (!m) return error(404, 3001, 'Meeting does not exist: ' + r.path.split('/').at(-1) + '.');
    return then(m);
  }

  private patch(m: FakeZoomMeeting, r: RecordedRequest): FakeReply {
    const b = r.body ?? {};
    for (const k of ['start_time', 'duration', 'timezone', 'topic'] as const) if (b[k] !== undefined) (m as any)[k] = b[k];
    return { status: 204 };
  }
}
