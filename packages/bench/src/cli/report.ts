// `pnpm report RUN_DIR... [--format html,markdown,latex,csv]`: renders the report of one run
// folder or several shard folders (merged): report.html, and its tables as Markdown, LaTeX, CSV.
import { Command } from 'commander';
import { parseFormats, REPORT_FORMATS, writeReports } from '@ceb/report';

export function createReportCommand(): Command {
  return new Command('report')
    .description('Render report.html (and the paper tables as Markdown, LaTeX, CSV) from run folders (shards of one run are merged)')
    .argument('<dirs...>', 'run folder(s)')
    .option('--out <file>', 'output HTML file (default: report.html in the run folder); the other formats go beside it (report.md, report.tex, report.csv)')
    .option('--format <list>', `comma-separated: ${REPORT_FORMATS.join(', ')}`, 'html')
    .option('--gallery <n>', 'samples in the gallery', '4')
    .action(async (dirs: string[], o) => {
      const formats = parseFormats(o.format);
      for (const file of await writeReports(dirs, { out: o.out, galleryLimit: Number(o.gallery), formats })) console.log(`report: ${file}`);
    });
}
