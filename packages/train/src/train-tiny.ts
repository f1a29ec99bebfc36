// `pnpm train:tiny`: trains and writes the shipped small CLIP. The loader hook must be in
// place before anything imports @ceb/core (see esm-dir-imports.mjs), hence the dynamic import.
import { register } from 'node:module';

register('./esm-dir-imports.mjs', import.meta.url);
const { main } = await import('./train-main');
await main(process.argv.slice(2));
