import type { Job } from 'bullmq';
import { InvalidPayloadError } from '../../contract/errors.js';
import { BULLMQ_KEY_NAMES, isSafeJobId } from '../../contract/job-ids.js';
import { isQueueName } from '../../contract/queues.js';
import { errorResponse, jobResponse, commonErrors, validationErrorResponse, type ApiRoute } from '../api.js';

/** The ids BullMQ numbers itself (jobs added without an id): 1, 2, 3... */
const NUMBERED = /^[1-9]\d{0,15}$/;
const RESERVED = new Set<string>(BULLMQ_KEY_NAMES);

/**
 * What a `:id` can be, decided before Redis is read: a job id names the key `<queue>:<id>`,
 * so `meta` or `a:events` would read one of the queue's own keys (README "HTTP API").
 */
function classifyJobId(id: string): 'ok' | 'reserved' | 'malformed' {
  if (RESERVED.has(id)) return 'reserved';
  return NUMBERED.test(id) || isSafeJobId(id) ? 'ok' : 'malformed';
}

/** The job as the API shows it: state and outcome, never the payload (it holds personal data). */
async function view(job: Job, queue: string) {
  return {
    id: job.id!,
    queue,
    name: job.name,
    state: await job.getState(),
    attemptsMade: job.attemptsMade,
    returnvalue: job.returnvalue ?? null,
    failedReason: job.failedReason || null,
    timestamp: job.timestamp,
    finishedOn: job.finishedOn ?? null,
  };
}

export const jobRoutes: ApiRoute[] = [
  {
    method: 'GET',
    url: '/v1/jobs/:queue/:id',
    summary: "A job's state and result",
    tag: 'jobs',
    params: { queue: 'queue name (email, sms, whatsapp, meeting, appointment, reminder, webhook)', id: 'job id' },
    responses: {
      200: { description: 'the job', schema: jobResponse },
      401: commonErrors[401],
      400: { description: 'the id cannot be a job id (":", control characters, a signed number, over 255 characters)', schema: validationErrorResponse },
      404: { description: 'no such queue or job (finished jobs are removed after KEEP_COMPLETED_SECONDS / KEEP_FAILED_SECONDS)', schema: errorResponse },
      503: commonErrors[503],
    },
    handler: async (req, reply, { client }) => {
      const { queue, id } = req.params as { queue: string; id: string };
      const notFound = () => reply.code(404).send({ error: 'not_found', message: `no job ${id} in queue ${queue}` });
      if (!isQueueName(queue)) return notFound();
      const kind = classifyJobId(id);
      if (kind === 'reserved') return notFound();
      if (kind === 'malformed')
        throw new InvalidPayloadError([
          { path: 'id', message: 'path parameter: 1-255 printable ASCII characters without ":", or a positive number' },
        ]);
      const found = await client.withRedis(async () => {
        const job = await client.queue(queue).getJob(id);
        return job ? view(job, queue) : undefined;
      });
      return found ? reply.send(found) : notFound();
    },
  },
];
