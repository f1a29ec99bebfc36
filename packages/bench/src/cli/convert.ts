// `pnpm convert --in FILE --out DIR`: any checkpoint the loader reads → a Hugging Face folder.
import { Command } from 'commander';
import { convertCheckpoint } from '@ceb/core';

export function createConvertCommand(): Command {
  return new Command('convert')
    .description('Convert a CLIP checkpoint (.pt/.bin/.safetensors, OpenAI or HF keys) into a Hugging Face folder')
    .requiredOption('--in <path>', 'checkpoint file or folder')
    .requiredOption('--out <dir>', 'output folder (config.json + model.safetensors + tokenizer files)')
    .option('--vision-heads <n>', 'attention heads of the vision tower, when there is no config.json and they are not width/64')
    .option('--text-heads <n>', 'attention heads of the text tower, likewise')
    .action(async (o) => {
      const heads = { vision: o.visionHeads ? Number(o.visionHeads) : undefined, text: o.textHeads ? Number(o.textHeads) : undefined };
      const r = await convertCheckpoint(o.in, o.out, { heads });
      console.log(`wrote ${r.tensors} tensors (${r.layout} key layout, config ${r.configFrom}) and the tokenizer from ${r.tokenizer} to ${r.outDir}`);
    });
}
