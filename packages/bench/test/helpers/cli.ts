// The bench CLI as a real child process (what a user or a Slurm task starts).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const BENCH_DIR = fileURLToPath(new URL('../..', import.meta.url));

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/** Starts `bench <args>`; `exited` resolves with its exit code and everything it printed. */
export function startBench(args: string[]): { child: ChildProcess; exited: Promise<Exited> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'bench', ...args], { cwd: BENCH_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<Exited>((res, rej) => {
    child.on('error', rej);
    child.on('exit', (code, signal) => res({ code, signal, out }));
  });
  return { child, exited };
}

export const runBenchCli = (args: string[]): Promise<Exited> => startBench(args).exited;

/** Resolves once `ready()` holds (polled every 20 ms); rejects if the child exits first. */
export function waitFor(child: ChildProcess, ready: () => boolean, what: string): Promise<void> {
  return new Promise((res, rej) => {
    const t = setInterval(() => {
      if (ready()) {
        clearInterval(t);
        res();
      }
    }, 20);
    child.on('exit', () => {
      clearInterval(t);
      if (!ready()) rej(new Error(`the child exited before ${what}`));
    });
  });
}
