import { once } from 'node:events';
import { connect } from 'node:net';

/** One MONITOR line's command, e.g. `"HGETALL" "p:sms:1"` -> ['HGETALL', 'p:sms:1']. */
function commandOf(line: string): string[] {
  const body = line.slice(line.indexOf('] ') + 2);
  return [...body.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(["\\])/g, '$1'));
}

/**
 * Every command Redis runs from now on (MONITOR), over a plain socket. Not ioredis's
 * `monitor()`: it enters monitoring mode one microtask after MONITOR's `+OK`, so commands
 * that arrive in the same packet (busy workers make that likely) are taken for replies and
 * throw "Command queue state error".
 */
export async function monitorCommands(url: string): Promise<{ seen: string[][]; stop(): Promise<void> }> {
  const { hostname, port, username, password } = new URL(url);
  const socket = connect(Number(port || 6379), hostname);
  socket.setEncoding('utf8');
  await once(socket, 'connect');
  const seen: string[][] = [];
  let oks = password ? 2 : 1;
  let monitoring!: () => void;
  const ready = new Promise<void>((resolve) => (monitoring = resolve));
  let rest = '';
  socket.on('data', (chunk: string) => {
    rest += chunk;
    for (let end = rest.indexOf('\r\n'); end >= 0; end = rest.indexOf('\r\n')) {
      const line = rest.slice(0, end);
      rest = rest.slice(end + 2);
      if (line === '+OK') {
        if (--oks === 0) monitoring();
      } else if (line.startsWith('+')) seen.push(commandOf(line));
      else if (line.startsWith('-')) socket.destroy(new Error(`MONITOR refused: ${line}`));
    }
  });
  const failed = once(socket, 'error').then(([err]) => Promise.reject(err as Error));
  if (password) socket.write(`AUTH ${username ? `${decodeURIComponent(username)} ` : ''}${decodeURIComponent(password)}\r\n`);
  socket.write('MONITOR\r\n');
  await Promise.race([ready, failed]);
  return {
    seen,
    async stop() {
      socket.end();
      await once(socket, 'close');
    },
  };
}
