import type { Job } from 'bullmq';
import { InvalidPayloadError } from '../../contract/errors.js';
import { MESSAGE_QUEUES, isQueueName } from '../../contract/queues.js';
import { getDelivery, type DeliveryDb } from '../../delivery/view.js';
import { errorResponse, jobResponse, commonErrors, validationErrorResponse, type ApiRoute } from '../api.js';
import { JOB_ID_RULE, classifyJobId } from '../params.js';

/** The job as the API shows it: state and outcome, never the payload (it holds personal data). */
async function view(job: Job, queue: string, db: DeliveryDb) {
  const isMessage = (MESSAGE_QUEUES as readonly string[]).includes(queue);
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
    ...(isMessage && { delivery: await getDelivery(db, queue, job.id!) }),
  };
}

export const jobRoutes: ApiRoute[] = [
  {
    method: 'GET',
    url: '/v1/jobs/:queue/:id',
    summary: "A job's state and result",
    tag: 'jobs',
    params: { queue: 'queue name (email, sms, whatsapp, meeting, appointment, reminder, webhook, delivery)', id: 'job id' },
    responses: {
      200: { description: 'the job', schema: jobResponse },
      401: commonErrors[401],
      400: { description: 'the id cannot be a job id (":", control characters, a signed number, over 255 characters)', schema: validationErrorResponse },
      404: { description: 'no such queue or job (finished jobs are removed after KEEP_COMPLETED_SECONDS / KEEP_FAILED_SECONDS)', schema: errorResponse },
      503: commonErrors[503],
    },
    handler: async (req, reply, { client, config }) => {
      const { queue, id } = req.params as { queue: string; id: string };
      const notFound = () => reply.code(404).send({ error: 'not_found', message: `no job ${id} in queue ${queue}` });
      if (!isQueueName(queue)) return notFound();
      const kind = classifyJobId(id);
      if (kind === 'reserved') return notFound();
      if (kind === 'malformed')
        throw new InvalidPayloadError([
          { path: 'id', message: `path parameter: ${JOB_ID_RULE}` },
        ]);
      const found = await client.withRedis(async () => {
        const job = await client.queue(queue).getJob(id);
        return job ? view(job, queue, { connection: client.connection, redis: config.redis }) : undefined;
      });
      return found ? reply.send(found) : notFound();
    },
  },
];
