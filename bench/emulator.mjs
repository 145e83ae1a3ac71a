/**
 * The emulator as a separate process on loopback (`scimform emulate`), and the counting of the
 * requests it served from its request log (one JSON line per request).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/**
 * Starts `node bin emulate --port 0 ...`; resolves once its URL (the first stdout line) is out.
 * The emulator holds the whole live state in memory, so it gets a larger heap than Node's default.
 */
export async function startEmulatorProcess(bin, { dataFile, requestLog, token, flags = [], heapMb = 8192, startTimeoutMs = 180_000 }) {
  const args = [`--max-old-space-size=${heapMb}`, bin, 'emulate', '--port', '0', '--host', '127.0.0.1', '--request-log', requestLog, ...flags];
  if (dataFile) args.push('--data', dataFile);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, SCIMFORM_EMULATOR_TOKEN: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr = (stderr + chunk).slice(-4096)));
  const url = await new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the emulator did not start within ${startTimeoutMs / 1000} s: ${stderr}`));
    }, startTimeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline >= 0) {
        clearTimeout(timer);
        resolve(buffered.slice(0, newline).trim());
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the emulator exited (${code}) before printing its URL: ${stderr}`));
    });
  });
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) {
    child.kill('SIGKILL');
    throw new Error(`the emulator printed "${url}" instead of a loopback URL`);
  }
  child.stdout.resume();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let offset = 0;
  return {
    url,
    /**
     * Requests logged since the previous call: `requests` by method, and `fault:KIND:METHOD` for
     * injected faults; `arrivals` by method, the first and last arrival (ms since the epoch).
     */
    takeLog() {
      const read = readLogFrom(requestLog, offset);
      offset = read.end;
      return { requests: read.byMethod, arrivals: read.arrivals };
    },
    /** `takeLog()`'s requests alone. */
    takeRequests() {
      return this.takeLog().requests;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Counts log lines from a byte offset on, without holding the file in memory. */
function readLogFrom(file, start) {
  const byMethod = {};
  const arrivals = {};
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  const buffer = Buffer.alloc(1 << 20);
  let position = start;
  let rest = '';
  try {
    while (position < size) {
      const read = readSync(fd, buffer, 0, Math.min(buffer.length, size - position), position);
      if (read === 0) break;
      position += read;
      const lines = (rest + buffer.toString('utf8', 0, read)).split('\n');
      rest = lines.pop();
      for (const line of lines) {
        if (line === '') continue;
        const entry = JSON.parse(line);
        byMethod[entry.method] = (byMethod[entry.method] ?? 0) + 1;
        // Lines are written as answers leave, so arrivals are not in order.
        const at = Date.parse(entry.time);
        const span = (arrivals[entry.method] ??= { first: at, last: at });
        span.first = Math.min(span.first, at);
        span.last = Math.max(span.last, at);
        if (entry.fault) byMethod[`fault:${entry.fault}:${entry.method}`] = (byMethod[`fault:${entry.fault}:${entry.method}`] ?? 0) + 1;
      }
    }
  } finally {
    closeSync(fd);
  }
  // A partial last line (still being written) is counted next time.
  return { byMethod, arrivals, end: position - Buffer.byteLength(rest) };
}
