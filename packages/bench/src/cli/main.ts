// Entry point: `pnpm explain|bench|report|convert …` run this with the subcommand (`pnpm data` is the datasets package's own CLI).
import { createProgram } from './program';

// pnpm runs scripts in the package folder; resolve user paths against where pnpm was called.
if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
createProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
