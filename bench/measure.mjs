/**
 * Runs one command as a child process and measures it: wall time (from the parent, spawn to
 * exit), CPU time (user + sys) and peak RSS of that process alone. GNU time (`/usr/bin/time`)
 * reads them from wait4()'s rusage of exactly that child; where it is missing, a small wrapper
 * runs the CLI in its own process and reports `process.resourceUsage()` from inside at exit,
 * which is the same process's own figures.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const GNU_TIME = '/usr/bin/time';
const WRAPPER = fileURLToPath(new URL('./usage-wrapper.mjs', import.meta.url));

/** Children still running, so an interrupted benchmark leaves none behind. */
const running = new Set();
export function killRunning() {
  for (const child of running) killGroup(child);
}

/** GNU time runs node as its own child: the whole process group goes, not only `time`. */
function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

let gnuTime;
/** GNU time understands `-f` and `-o`; BusyBox and BSD versions may not, so it is tried once. */
async function hasGnuTime() {
  if (gnuTime !== undefined) return gnuTime;
  if (!existsSync(GNU_TIME)) return (gnuTime = false);
  const out = join(tmpdir(), `scimform-bench-probe-${process.pid}`);
  const code = await new Promise((resolve) => {
    const child = spawn(GNU_TIME, ['-f', '%e %U %S %M', '-o', out, process.execPath, '-e', ''], { stdio: 'ignore' });
    child.on('error', () => resolve(1));
    child.on('exit', (c) => resolve(c));
  });
  gnuTime = code === 0 && existsSync(out) && /^[\d.]+ [\d.]+ [\d.]+ \d+\s*$/.test(readFileSync(out, 'utf8'));
  rmSync(out, { force: true });
  return gnuTime;
}

export async function measurementMethod() {
  return (await hasGnuTime()) ? 'GNU time (wait4 rusage of the child)' : 'process.resourceUsage() inside the child';
}

/**
 * Runs `node [nodeArgs] script ...args`; resolves with { code, wallMs, startedAtMs, cpuMs, maxRssBytes, stdout, stderr }.
 * Output is kept up to `keep` characters (the end), so a long plan does not pile up in memory.
 */
export async function measure(script, args, { cwd, env, timeoutMs = 300_000, nodeArgs = [], keep = 64 * 1024 } = {}) {
  const usageFile = join(tmpdir(), `scimform-bench-usage-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const gnu = await hasGnuTime();
  const command = gnu ? GNU_TIME : process.execPath;
  const argv = gnu
    ? ['-f', '%e %U %S %M', '-o', usageFile, process.execPath, ...nodeArgs, script, ...args]
    : [...nodeArgs, WRAPPER, usageFile, script, ...args];
  const started = process.hrtime.bigint();
  // The wall clock at the start too, to place the child against the emulator's request log.
  const startedAtMs = Date.now();
  const child = spawn(command, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.add(child);
  child.on('close', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  let stdoutBytes = 0;
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    stdoutBytes += Buffer.byteLength(chunk);
    stdout = (stdout + chunk).slice(-keep);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr = (stderr + chunk).slice(-keep)));
  const timer = setTimeout(() => killGroup(child), timeoutMs);
  const code = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  }).finally(() => clearTimeout(timer));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  let cpuMs = NaN;
  let maxRssBytes = NaN;
  if (existsSync(usageFile)) {
    const text = readFileSync(usageFile, 'utf8').trim();
    rmSync(usageFile, { force: true });
    if (gnu) {
      // A non-zero exit makes GNU time write "Command exited with non-zero status N" first.
      const [, user, sys, rssKb] = text.split('\n').at(-1).split(' ').map(Number);
      cpuMs = (user + sys) * 1000;
      maxRssBytes = rssKb * 1024;
    } else {
      const usage = JSON.parse(text);
      cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000;
      maxRssBytes = usage.maxRSS * 1024;
    }
  }
  return { code, wallMs, startedAtMs, cpuMs, maxRssBytes, stdout, stdoutBytes, stderr, timedOut: wallMs >= timeoutMs };
}
