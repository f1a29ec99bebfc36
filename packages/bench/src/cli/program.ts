// The harness CLI: `explain`, `bench`, `report`, `data`, `convert`.
import { Command } from 'commander';
import { createExplainCommand } from './explain';

export function createProgram(): Command {
  const program = new Command('ceb').description('Explain CLIP image–text models and benchmark the explanations');
  program.addCommand(createExplainCommand());
  return program;
}
