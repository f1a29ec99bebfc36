/**
 * The gallery: for a few samples, the model input with each method's heat map blended over it
 * (PNG inlined as a data URI), ground-truth boxes drawn into the pixels, and the caption with
 * each token shaded by the method's text score.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeNpy, type GalleryMap, type GallerySample } from '@ceb/results';
import type { RgbImage } from '@ceb/types';
import { esc, pointTitle } from './format';
import { heatmapOverlay } from './heatmap';

/** Reads a PNG the bench wrote (or any image sharp reads) as 8-bit RGB; alpha is dropped. */
async function readRgb(input: string | Buffer, name: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(input).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    throw new Error(`${name}: cannot read the image (${(e as Error).message})`, { cause: e });
  }
}

/** Box outlines drawn in place: a white line with a black line outside it, visible on any colour map. */
export function drawBoxes(img: RgbImage, boxes: GallerySample['boxes']): void {
  const { width: W, height: H, data } = img;
  const t = Math.max(1, Math.round(Math.min(W, H) / 112));
  const set = (x: number, y: number, v: number): void => {
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    const i = (y * W + x) * 3;
    data[i] = v;
    data[i + 1] = v;
    data[i + 2] = v;
  };
  for (const b of boxes) {
    if (![b.x, b.y, b.w, b.h].every(Number.isFinite)) continue;
    const x0 = Math.round(b.x);
    const y0 = Math.round(b.y);
    const x1 = Math.round(b.x + b.w) - 1;
    const y1 = Math.round(b.y + b.h) - 1;
    // d = how far a ring lies outside the box edge: white rings on the edge and inward
    // (d = 0 .. -(t-1)), one black ring just outside (d = 1)
    for (let d = 1; d > -t; d--) {
      const v = d > 0 ? 0 : 255;
      for (let x = x0 - d; x <= x1 + d; x++) {
        set(x, y0 - d, v);
        set(x, y1 + d, v);
      }
      for (let y = y0 - d; y <= y1 + d; y++) {
        set(x0 - d, y, v);
        set(x1 + d, y, v);
      }
    }
  }
}

async function encodePng(img: RgbImage): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .png()
    .toBuffer();
}

const dataUri = (png: Buffer): string => `data:image/png;base64,${png.toString('base64')}`;

/** CLIP BPE marks the end of a word with </w>; show the plain word. */
const showToken = (t: string): string => t.replace(/<\/w>$/, '');

/** A text map as the gallery keeps it: the scores the metrics read and, where the run kept them, the raw values. */
export interface TextMap {
  scores: number[];
  raw?: number[];
  rawWhat?: string;
  rawUnit?: string;
}

/** Min-max over the caption's tokens (display only); all 0 when they are equal. */
export function displayScale(values: number[]): number[] {
  const finite = values.filter(Number.isFinite);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return values.map((v) => (Number.isFinite(v) && hi > lo ? (v - lo) / (hi - lo) : 0));
}

const num = (v: number): string => (Number.isFinite(v) ? String(Number(v.toPrecision(4))) : 'n/a');

/**
 * Caption tokens shaded for display: background alpha = the method's raw values (else its
 * scores) scaled over the caption's tokens, so one large value outside the caption (M2IB's
 * EOS capacity) cannot blank them. The hover text gives the raw value and the score the
 * metrics read, which are unchanged.
 */
export function shadedTokens(tokens: string[], map: TextMap | undefined): string {
  if (!map) return tokens.map((t) => `<span class="tok">${esc(showToken(t))}</span>`).join(' ');
  const values = map.raw && map.raw.length === map.scores.length ? map.raw : map.scores;
  if (values.length !== tokens.length) {
    return `<span class="warn">${values.length} text scores for ${tokens.length} tokens; not shaded</span> ${tokens.map((t) => esc(showToken(t))).join(' ')}`;
  }
  const shown = displayScale(values);
  return tokens
    .map((t, i) => {
      const raw = values === map.raw ? `${map.rawWhat ?? 'raw'} ${num(values[i])}${map.rawUnit ? ` ${map.rawUnit}` : ''} · ` : '';
      const title = `${raw}score ${num(map.scores[i])} · shown ${shown[i].toFixed(2)}`;
      return `<span class="tok" style="background:rgba(230,85,13,${shown[i].toFixed(3)})" title="${esc(title)}">${esc(showToken(t))}</span>`;
    })
    .join(' ');
}

function readTextMap(file: string): TextMap {
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
  }
  const o = (j ?? {}) as Record<string, unknown>;
  const numbers = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'number');
  if (!numbers(o.scores)) throw new Error(`${file}: field "scores" must be an array of numbers`);
  if (o.raw !== undefined && !numbers(o.raw)) throw new Error(`${file}: field "raw" must be an array of numbers`);
  return {
    scores: o.scores as number[],
    ...(o.raw ? { raw: o.raw as number[] } : {}),
    ...(typeof o.rawWhat === 'string' ? { rawWhat: o.rawWhat } : {}),
    ...(typeof o.rawUnit === 'string' ? { rawUnit: o.rawUnit } : {}),
  };
}

export interface GalleryColumn {
  method: string;
  /** The sweep point to show for this method on the image side, and on the text side. */
  point: string;
  textPoint?: string;
}

/** Under a method's name: its point(s), saying which side each is when the sides differ. */
function columnPoints(c: GalleryColumn): string {
  const both = c.textPoint !== undefined && c.textPoint !== c.point;
  const line = (p: string, side: string) => (p === 'default' ? '' : `<div class="muted">${both ? `${side}: ` : ''}${esc(pointTitle(p))}</div>`);
  return line(c.point, 'image') + (both ? line(c.textPoint!, 'text') : '');
}

/**
 * One row per sample: the input (with boxes) then one cell per method. A method with no map
 * for this sample gets an empty cell saying so; a broken file gets a cell naming the problem.
 */
export async function renderGallery(samples: GallerySample[], columns: GalleryColumn[], limit: number): Promise<string> {
  const chosen = [...samples].sort((a, b) => (a.sampleId < b.sampleId ? -1 : a.sampleId > b.sampleId ? 1 : 0)).slice(0, limit);
  if (chosen.length === 0) return '<p class="muted">No gallery samples in this run.</p>';
  const rows: string[] = [];
  for (const s of chosen) {
    const imgPath = join(s.dir, s.image);
    let input: RgbImage | undefined;
    let inputErr = '';
    try {
      input = await readRgb(imgPath, imgPath);
    } catch (e) {
      inputErr = (e as Error).message;
    }
    const cells: string[] = [];
    if (input) {
      const withBoxes: RgbImage = { ...input, data: new Uint8Array(input.data) };
      drawBoxes(withBoxes, s.boxes);
      cells.push(
        `<td><figure><img class="gimg" src="${dataUri(await encodePng(withBoxes))}" width="${input.width}" height="${input.height}" alt="input ${esc(s.sampleId)}"><figcaption>${shadedTokens(s.tokens.length ? s.tokens : s.caption.split(/\s+/), undefined)}</figcaption></figure></td>`,
      );
    } else {
      cells.push(`<td class="warn">${esc(inputErr)}</td>`);
    }
    for (const c of columns) {
      const find = (side: string): GalleryMap | undefined =>
        s.maps.find((m) => m.method === c.method && m.point === (side === 'text' ? (c.textPoint ?? c.point) : c.point) && m.side === side) ??
        s.maps.find((m) => m.method === c.method && m.side === side);
      const im = find('image');
      const tm = find('text');
      let figure = '';
      try {
        if (im && input) {
          const file = join(s.dir, im.file);
          const { data, shape } = decodeNpy(readFileSync(file), file);
          if (shape.length !== 2) throw new Error(`${file}: expected a 2-D map [S, S], got shape (${shape.join(', ')})`);
          const over = heatmapOverlay(input, data, { alpha: 0.5, colormap: 'jet', mapHeight: shape[0], mapWidth: shape[1] });
          drawBoxes(over, s.boxes);
          figure += `<img class="gimg overlay" data-method="${esc(c.method)}" data-sample="${esc(s.sampleId)}" src="${dataUri(await encodePng(over))}" width="${over.width}" height="${over.height}" alt="${esc(c.method)} on ${esc(s.sampleId)}">`;
        } else {
          figure += `<div class="nomap">no image map</div>`;
        }
        let text: TextMap | undefined;
        if (tm) {
          const file = join(s.dir, tm.file);
          if (existsSync(file)) text = readTextMap(file);
        }
        figure += `<figcaption data-method="${esc(c.method)}">${tm ? shadedTokens(s.tokens, text) : '<span class="muted">no text scores</span>'}</figcaption>`;
      } catch (e) {
        figure = `<div class="warn">${esc((e as Error).message)}</div>`;
      }
      cells.push(`<td><figure>${figure}</figure></td>`);
    }
    rows.push(
      `<tr><th scope="row" class="gsample"><div>${esc(s.sampleId)}</div><div class="caption">“${esc(s.caption)}”</div><div class="muted">${s.boxes.length} box${s.boxes.length === 1 ? '' : 'es'}</div></th>${cells.join('')}</tr>`,
    );
  }
  const head = `<tr><th>sample</th><th>input${chosen.some((s) => s.boxes.length) ? ' (ground-truth boxes)' : ''}</th>${columns
    .map((c) => `<th>${esc(c.method)}${columnPoints(c)}</th>`)
    .join('')}</tr>`;
  return `<div class="scroll"><table class="gallery"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table></div>`;
}
