import { Agent } from 'undici';

/** Why a `fetch` got no answer: undici hides the system error (ECONNREFUSED...) in `cause`. */
export function networkReason(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}

/**
 * The connection pool of one provider client: connections kept open between messages
 * (a TLS handshake costs more than the request), for plain-http base URLs too.
 */
export function providerAgent(): Agent {
  return new Agent({ keepAliveTimeout: 30_000, connections: 100 });
}
