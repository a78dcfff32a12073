import { isTestKind, sendTest, TEST_KINDS } from '../src/doctor/send-test.js';
import { InvalidPayloadError } from '../src/contract/errors.js';
import { runningRedis } from '../src/runtime/embedded-redis.js';
import { loadConfigOrExit } from './run.js';

// npm run send-test -- <email|sms|whatsapp|zoom|meet> <recipient>
const [kind, recipient] = process.argv.slice(2);
if (!kind || !isTestKind(kind) || (!recipient && kind !== 'zoom' && kind !== 'meet')) {
  console.error(`usage: npm run send-test -- <${TEST_KINDS.join('|')}> <recipient>
  email: an address; sms, whatsapp: an E.164 number (+33612345678); zoom, meet: an optional attendee address`);
  process.exit(2);
}

// Beside `npm start` on its private redis-server, the job goes there.
const config = await runningRedis(loadConfigOrExit());
try {
  const r = await sendTest(config, kind, recipient ?? '');
  const where = `${r.queue} job ${r.jobId}${r.localWorker ? ' (run by a worker in this process)' : ''}`;
  if (r.outcome === 'completed') console.log(`OK: ${where} completed: ${JSON.stringify(r.result)}`);
  else if (r.outcome === 'skipped') console.log(`NOT SENT: ${where} was skipped: ${(r.result as { reason?: string }).reason}`);
  else if (r.outcome === 'failed') console.log(`FAILED: ${where}: ${r.failedReason}`);
  else console.log(`NO OUTCOME: ${where}: ${r.failedReason}. Is a worker running for ${r.queue} (npm start or npm run worker -- ${r.queue})?`);
  process.exit(r.outcome === 'completed' ? 0 : 1);
} catch (err) {
  if (err instanceof InvalidPayloadError) console.error(`invalid recipient: ${err.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  else console.error((err as Error).message);
  process.exit(1);
}
