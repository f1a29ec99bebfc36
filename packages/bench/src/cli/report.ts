// `pnpm report RUN_DIR...`: renders report.html from one run folder or several shard folders.
import { Command } from 'commander';
import { writeReport } from '@ceb/report';

export function createReportCommand(): Command {
  return new Command('report')
    .description('Render report.html from run folders (shards of one run are merged)')
    .argument('<dirs...>', 'run folder(s)')
    .option('--out <file>', 'output HTML file (default: report.html in the run folder)')
    .option('--gallery <n>', 'samples in the gallery', '4')
    .action(async (dirs: string[], o) => {
      const out = await writeReport(dirs, { out: o.out, galleryLimit: Number(o.gallery) });
      console.log(`report: ${out}`);
    });
}
