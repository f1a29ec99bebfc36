import { createDataCommand } from './cli';

// `pnpm --filter @ceb/datasets data …` runs in the package folder; resolve the user's
// relative paths against where they typed the command (pnpm sets INIT_CWD).
if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);

createDataCommand()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
