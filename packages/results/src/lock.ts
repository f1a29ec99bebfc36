// One writer per run folder: an exclusive lock file (FILES.lock) holding the writer's pid, host,
// start time and last refresh. Taken before anything is written, refreshed every 30 s, removed
// at the end. A second writer is refused with the holder named; a lock whose pid is dead on this
// host, or that nobody refreshed for 5 minutes (a pre-empted task requeued onto another node),
// is stale: it is reported and taken over. `force` (--force-unlock) takes any lock.
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { FILES } from './layout';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  refreshedAt: string;
  /** Random, per acquisition: tells this holder's lock from a later one of the same pid. */
  token: string;
}

export interface LockOptions {
  /** Take the lock whoever holds it (--force-unlock). */
  force?: boolean;
  /** Where a take-over is reported. */
  log?: (line: string) => void;
  refreshMs?: number;
  staleMs?: number;
}

export const LOCK_REFRESH_MS = 30_000;
export const LOCK_STALE_MS = 5 * 60_000;

/** Another live process holds the folder. */
export class RunLockedError extends Error {
  override name = 'RunLockedError';
  constructor(
    message: string,
    readonly holder: LockHolder,
  ) {
    super(message);
  }
}

const age = (iso: string): number => Date.now() - Date.parse(iso);
const minutes = (ms: number): string => (ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`);

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on host ${h.host} (since ${h.startedAt}, last refreshed ${minutes(age(h.refreshedAt))} ago)`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

/** Why a lock is stale, or undefined when its holder may still be writing. */
function staleness(h: LockHolder, staleMs: number): string | undefined {
  if (h.host === hostname() && !pidAlive(h.pid)) return `pid ${h.pid} is no longer running on this host`;
  if (!(age(h.refreshedAt) <= staleMs)) return `not refreshed for ${minutes(age(h.refreshedAt))} (a live holder refreshes every ${LOCK_REFRESH_MS / 1000} s)`;
  return undefined;
}

type Read = { text: string; holder?: LockHolder; ageMs: number } | undefined;

function readLock(file: string): Read {
  try {
    const text = readFileSync(file, 'utf8');
    const ageMs = Date.now() - statSync(file).mtimeMs;
    try {
      const h = JSON.parse(text) as LockHolder;
      const ok = typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.refreshedAt === 'string';
      return { text, holder: ok ? h : undefined, ageMs };
    } catch {
      return { text, ageMs };
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Creates the lock file only if there is none (O_EXCL); false when one exists. */
function createExclusive(file: string, h: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify(h) + '\n');
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Moves the judged lock aside; if it changed in between (someone else took over), puts it back. */
function removeIfUnchanged(file: string, judged: string): boolean {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true; // released meanwhile
    throw e;
  }
  const moved = readFileSync(aside, 'utf8');
  if (moved !== judged) {
    try {
      linkSync(aside, file); // fails if yet another lock appeared: theirs stands
    } catch {
      /* theirs stands */
    }
  }
  unlinkSync(aside);
  return moved === judged;
}

const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Locks held by this process, by folder: a phase that opens the folder again shares the lock. */
const held = new Map<string, { lock: RunLock; count: number }>();

export class RunLock {
  private readonly holder: LockHolder;
  private timer?: ReturnType<typeof setInterval>;
  private lost?: string;

  private constructor(
    readonly dir: string,
    readonly file: string,
  ) {
    const now = new Date().toISOString();
    this.holder = { pid: process.pid, host: hostname(), startedAt: now, refreshedAt: now, token: randomBytes(8).toString('hex') };
  }

  /** Takes the folder's lock (the folder must exist); the same process taking it again shares it. */
  static acquire(dir: string, opts: LockOptions = {}): RunLock {
    const abs = resolve(dir);
    const mine = held.get(abs);
    if (mine) {
      mine.count++;
      return mine.lock;
    }
    const lock = new RunLock(abs, join(abs, FILES.lock));
    lock.take(opts);
    lock.timer = setInterval(() => lock.refresh(), opts.refreshMs ?? LOCK_REFRESH_MS);
    lock.timer.unref();
    held.set(abs, { lock, count: 1 });
    return lock;
  }

  private take(opts: LockOptions): void {
    const staleMs = opts.staleMs ?? LOCK_STALE_MS;
    for (let attempt = 0; attempt < 20; attempt++) {
      if (createExclusive(this.file, this.holder)) return;
      const cur = readLock(this.file);
      if (!cur) continue; // released between our two calls
      if (!cur.holder && cur.ageMs < 2000) {
        sleep(50); // being written by its creator right now
        continue;
      }
      const why = cur.holder ? staleness(cur.holder, staleMs) : 'the lock file is unreadable';
      const who = cur.holder ? describeHolder(cur.holder) : `an unreadable lock (${JSON.stringify(cur.text.slice(0, 80))})`;
      if (!why && !opts.force) {
        throw new RunLockedError(
          `${this.dir} is in use: another run is writing into it, ${who}. Wait for it to finish or --out another folder; if that process is gone, --force-unlock takes the lock (${this.file}).`,
          cur.holder!,
        );
      }
      if (removeIfUnchanged(this.file, cur.text)) opts.log?.(`took over the lock of ${this.dir}: ${who}; ${why ?? 'forced (--force-unlock)'}`);
    }
    throw new Error(`${this.file}: could not take the lock (other processes keep taking it)`);
  }

  private refresh(): void {
    const cur = readLock(this.file);
    if (cur?.holder?.token !== this.holder.token) {
      this.lost = cur?.holder ? `the lock was taken over by ${describeHolder(cur.holder)}` : 'the lock file was removed';
      clearInterval(this.timer);
      return;
    }
    this.holder.refreshedAt = new Date().toISOString();
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.holder) + '\n');
    renameSync(tmp, this.file); // atomic: a reader sees the old or the new content
  }

  /** Throws when another process has taken the lock over: this one must stop writing. */
  check(): void {
    if (this.lost) throw new Error(`${this.dir}: ${this.lost}; this process stopped writing into it`);
  }

  /** Gives the lock up (when the last user in this process does). */
  release(): void {
    const mine = held.get(this.dir);
    if (mine && --mine.count > 0) return;
    held.delete(this.dir);
    clearInterval(this.timer);
    if (this.lost) return;
    if (readLock(this.file)?.holder?.token === this.holder.token) unlinkSync(this.file);
  }
}
