import { z } from 'zod';
import type { ApiRoute, NamedSchema } from './api.js';

type Json = Record<string, unknown>;

/** JSON Schema of a zod schema, as OpenAPI 3.1 embeds it (no per-schema $schema). */
function jsonSchema(s: NamedSchema, io: 'input' | 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s.schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Json;
  return rest;
}

const opPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');

/**
 * The OpenAPI document of the /v1 API, generated from the route table and the zod schemas
 * the producer and the workers validate with; nothing in it is written by hand, so it
 * cannot drift from what the server accepts.
 */
export function openApiDocument(routes: readonly ApiRoute[]): Json {
  const schemas: Record<string, Json> = {};
  const ref = (s: NamedSchema, io: 'input' | 'output') => {
    schemas[s.name] ??= jsonSchema(s, io);
    return { $ref: `#/components/schemas/${s.name}` };
  };
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const parameters: Json[] = Object.entries(r.params ?? {}).map(([name, description]) => ({
      name,
      in: 'path',
      required: true,
      description,
      schema: { type: 'string' },
    }));
    if (r.idempotent)
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'Any 1-255 printable ASCII characters; the job id is derived from it. A replay within 24 h answers 200 with the first job id and adds nothing; the same key with another body answers 409',
        schema: { type: 'string', pattern: '^[\\x20-\\x7e]{1,255}$' },
      });
    const responses = Object.fromEntries(
      Object.entries(r.responses).map(([status, resp]) => [
        status,
        {
          description: resp.description,
          ...(resp.schema && { content: { 'application/json': { schema: ref(resp.schema, 'output') } } }),
        },
      ]),
    );
    (paths[opPath(r.url)] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${opPath(r.url).replace(/[^A-Za-z]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(parameters.length && { parameters }),
      ...(r.body && {
        requestBody: { required: r.body.required, content: { 'application/json': { schema: ref(r.body, 'input') } } },
      }),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Notification service API',
      version: '1',
      description:
        'Enqueue emails, SMS, WhatsApp messages, meetings and appointment events. Bodies are the job payloads of the queues; the same schemas validate them here and in the workers.',
    },
    security: [{ bearer: [] }],
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas },
  };
}
