import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Secrets are compared as SHA-256 digests: equal-length buffers, so timingSafeEqual never
 * throws and neither the content nor the length of a secret leaks through response time.
 */
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** True when `candidate` is one of `tokens`; every token is compared, match or not. */
export function tokenMatcher(tokens: readonly string[]): (candidate: string) => boolean {
  const digests = tokens.map(digest);
  return (candidate) => {
    const d = digest(candidate);
    let ok = false;
    for (const t of digests) ok = timingSafeEqual(d, t) || ok;
    return ok;
  };
}

/** onRequest hook for /v1: 503 api_disabled without tokens, 401 unless a valid bearer token. */
export function bearerAuth(tokens: readonly string[]) {
  const matches = tokenMatcher(tokens);
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (tokens.length === 0)
      return reply.code(503).send({ error: 'api_disabled', message: 'set API_TOKENS to enable the HTTP API' });
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m || !matches(m[1]!))
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' });
  };
}
