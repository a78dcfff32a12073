import type { Job } from 'bullmq';
import { parsePayload } from '../contract/registry.js';
import { meetingCreatePayload, meetingDeletePayload, meetingUpdatePayload, type MeetingDeletePayload } from '../contract/schemas.js';
import { createMeeting, deleteMeeting, updateMeeting, type MeetingDeps } from './processors.js';
import type { VisioKind } from '../providers/types.js';
import { expectName } from '../contract/registry.js';
import type { Feature, QueueHandler, ServiceContext } from '../runtime/types.js';
import { meetingCreateJobId } from '../contract/job-ids.js';
import { MeetingStore } from './store.js';

const PROVIDER_NAME: Record<VisioKind, string> = { ZOOM: 'zoom', GOOGLE_MEET: 'google-meet' };
const DEFAULT_TOPIC = { fr: 'Rendez-vous', en: 'Appointment' } as const;

/** The `meeting` queue: `create`, `update` (move) and `delete`. */
export const meetings: Feature = { name: 'meetings', handlers: meetingHandlers };

function meetingHandlers(ctx: ServiceContext): QueueHandler[] {
  const store = new MeetingStore(ctx.connection, ctx.config.redis);
  // update/delete learn their provider from the stored meeting, inside run(): remember it
  // per job object for the runtime's log line, which asks after run().
  const used = new WeakMap<Job, VisioKind>();
  const deps = (job: Job, logger: MeetingDeps['logger']): MeetingDeps => ({
    providers: ctx.providers.meetings ?? {},
    store,
    defaultTimezone: ctx.config.defaults.timezone,
    defaultTopic: DEFAULT_TOPIC[ctx.config.defaults.locale],
    onProvider: (kind) => used.set(job, kind),
    logger,
  });
  /**
   * The producer names create jobs `meeting-create-<appointmentId>`. Once that meeting is
   * deleted, the finished create job goes too: a later create for the same appointment
   * (re-booked) must make a new meeting, not find the old job and add nothing.
   */
  const deleteAndForget = async (p: MeetingDeletePayload, d: MeetingDeps) => {
    const result = await deleteMeeting(p, d);
    const createJob = await ctx.queue('meeting').getJob(meetingCreateJobId(p.appointmentId));
    if (createJob && ((await createJob.isCompleted()) || (await createJob.isFailed())))
      await createJob.remove().catch(() => {}); // locked by a worker: it is running, not finished
    return result;
  };
  return [
    {
      queue: 'meeting',
      provider: (job) => {
        const kind = used.get(job) ?? (job.data as { visioProvider?: VisioKind } | undefined)?.visioProvider;
        return (kind && PROVIDER_NAME[kind]) ?? 'none';
      },
      run: (job, jc) => {
        expectName(job, 'create', 'update', 'delete');
        if (job.name === 'create') return createMeeting(parsePayload(meetingCreatePayload, job.data), deps(job, jc.logger));
        if (job.name === 'update') return updateMeeting(parsePayload(meetingUpdatePayload, job.data), deps(job, jc.logger));
        return deleteAndForget(parsePayload(meetingDeletePayload, job.data), deps(job, jc.logger));
      },
    },
  ];
}
