// The run folder's lock (lock.ts) where no second process is needed: another host's lock is
// stale only once it has gone 5 minutes unrefreshed; the same process shares its lock; a holder
// whose lock was taken over stops writing.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunLock, RunLockedError } from '../src/lock';

const folder = () => mkdtempSync(join(tmpdir(), 'results-lock-'));
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const foreign = (dir: string, refreshedAt: string) =>
  writeFileSync(join(dir, 'run.lock'), JSON.stringify({ pid: 4242, host: 'other-node', startedAt: refreshedAt, refreshedAt, token: 'theirs' }));

describe('RunLock', () => {
  it("another host's lock refreshed a minute ago is refused, naming pid and host", () => {
    const dir = folder();
    foreign(dir, ago(60_000));
    expect(() => RunLock.acquire(dir)).toThrow(RunLockedError);
    expect(() => RunLock.acquire(dir)).toThrow(/in use: another run is writing into it, pid 4242 on host other-node .*last refreshed 60 s ago/);
  });

  it("another host's lock not refreshed for 6 minutes is stale: reported and taken over", () => {
    const dir = folder();
    foreign(dir, ago(6 * 60_000));
    const log: string[] = [];
    const lock = RunLock.acquire(dir, { log: (l) => log.push(l) });
    expect(log).toEqual([expect.stringMatching(/took over the lock .*pid 4242 on host other-node.*not refreshed for 6 min/)]);
    expect(JSON.parse(readFileSync(join(dir, 'run.lock'), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(join(dir, 'run.lock'))).toBe(false);
  });

  it('the same process shares its lock; the file goes with the last release', () => {
    const dir = folder();
    const a = RunLock.acquire(dir);
    const b = RunLock.acquire(dir);
    expect(b).toBe(a);
    b.release();
    expect(existsSync(join(dir, 'run.lock'))).toBe(true);
    a.release();
    expect(existsSync(join(dir, 'run.lock'))).toBe(false);
  });

  it('a holder whose lock was taken over notices at its next refresh and refuses to write', async () => {
    const dir = folder();
    const lock = RunLock.acquire(dir, { refreshMs: 20 });
    foreign(dir, ago(0)); // what --force-unlock elsewhere leaves
    await new Promise((r) => setTimeout(r, 80));
    expect(() => lock.check()).toThrow(/taken over by pid 4242 on host other-node.*stopped writing/);
    lock.release();
    expect(JSON.parse(readFileSync(join(dir, 'run.lock'), 'utf8')).token).toBe('theirs'); // theirs is left alone
  });
});
