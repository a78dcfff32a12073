import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, flatLineLogger } from '../src/logger.js';

describe('flatLineLogger', () => {
  it('writes a flat line exactly as the service logger does, secrets redacted', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
    const log = createLogger('info', sink).child({ queue: 'sms' });
    const line = { jobId: '1', outcome: 'completed', to: '+336******78', body: 'Bonjour', authToken: 'tok', subject: 's', data: 'd' };
    log.info(line, 'job completed');
    flatLineLogger(log).info(line, 'job completed');
    await new Promise((r) => setImmediate(r));
    const [service, flat] = lines.map((l) => ({ ...JSON.parse(l), time: 0 }));
    expect(flat).toEqual(service);
    expect(flat).toMatchObject({ queue: 'sms', body: '[redacted]', authToken: '[redacted]', subject: '[redacted]', data: '[redacted]' });
  });
});
