// The harness CLI: `explain`, `bench`, `report`, `convert` (`pnpm data` lives in the datasets package).
import { Command } from 'commander';
import { createBenchCommand } from './bench';
import { createConvertCommand } from './convert';
import { createReportCommand } from './report';
import { createExplainCommand } from './explain';

export function createProgram(): Command {
  const program = new Command('ceb').description('Explain CLIP image–text models and benchmark the explanations');
  program.addCommand(createExplainCommand());
  program.addCommand(createConvertCommand());
  program.addCommand(createBenchCommand());
  program.addCommand(createReportCommand());
  return program;
}
