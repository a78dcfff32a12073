/** One provider answer, body parsed when it is JSON. */
export interface Answer {
  status: number;
  body: any;
}

/** A plain fetch with a deadline; network failures and timeouts throw with a readable message. */
export async function call(url: string, init: RequestInit, timeoutMs: number): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') throw new Error(`no answer from ${new URL(url).host} within ${timeoutMs} ms`);
    throw new Error(`cannot reach ${new URL(url).host}: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body };
}

/** The provider's own words for a refusal, whichever of the usual shapes it uses. */
export function reasonOf(a: Answer): string {
  const b = a.body;
  const parts: string[] = [];
  if (b && typeof b === 'object') {
    const first = Array.isArray(b.errors) ? b.errors[0] : undefined; // SendGrid
    const msg =
      b.message ?? b.error_description ?? b.reason ?? first?.message ?? (typeof b.error === 'object' ? b.error?.message : undefined);
    const code = b.code ?? b.name ?? (typeof b.error === 'string' ? b.error : undefined);
    if (code !== undefined && code !== msg) parts.push(String(code));
    if (msg) parts.push(String(msg));
  } else if (typeof b === 'string' && b.trim()) parts.push(b.trim().slice(0, 200));
  return `HTTP ${a.status}${parts.length ? `: ${parts.join(' ')}` : ''}`;
}

export const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

export const trimSlash = (u: string) => u.replace(/\/+$/, '');
