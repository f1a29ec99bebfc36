// `pnpm train:tiny`: trains and writes the shipped small CLIP.
import { main } from './train-main';

await main(process.argv.slice(2));
