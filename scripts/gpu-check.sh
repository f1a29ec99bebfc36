#!/usr/bin/env bash
# The prepared GPU check. On the machine to measure, from a copy of the working tree with
# node_modules installed (the optional webgpu package included) and no network:
#   scripts/gpu-check.sh [--short] [--out FILE]
# 1. the parity checks (fixture CLIP embeddings against PyTorch, M2IB against the official
#    algorithm) on each GPU backend that loads here: tfjs-node-gpu, webgpu;
# 2. pnpm bench:perf --json on each of them, and on wasm with a worker per core;
# 3. one JSON (default gpu-check.json): the machine, every backend with its parity or the reason
#    it is not here, and the numbers.
# Without a GPU it says "no GPU backend found", still measures wasm and exits 0. It exits 1 only
# when a backend that loads fails its parity check. --short: a small geometry, one repeat, M2IB
# only (CI runs it so, to keep the script working); the full run takes several minutes per backend.
set -euo pipefail
cd "$(dirname "$0")/.."

short=0
out=gpu-check.json
while [ $# -gt 0 ]; do
  case "$1" in
    --short) short=1 ;;
    --out) out="$2"; shift ;;
    *) echo "gpu-check.sh: unknown argument $1 (expected --short, --out FILE)" >&2; exit 2 ;;
  esac
  shift
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tsx=(node --import tsx)
cores="$(nproc)"
perf_args=(--repeat 3)
[ "$short" = 1 ] && perf_args=(--geometry small --repeat 1 --only m2ib --steps 2)

found=()
status=0
for backend in tfjs-node-gpu webgpu; do
  # The last line is the script's JSON (tfjs may print a banner before it).
  "${tsx[@]}" packages/bench/src/perf/backend-parity.ts --backend "$backend" >"$tmp/parity-$backend.log" 2>"$tmp/parity-$backend.err" || status=1
  tail -n 1 "$tmp/parity-$backend.log" >"$tmp/parity-$backend.json"
  if grep -q '"available":true' "$tmp/parity-$backend.json"; then
    found+=("$backend")
    echo "$backend: available; parity $(grep -q '"pass":true}$' "$tmp/parity-$backend.json" && echo passed || echo FAILED)"
  else
    echo "$backend: not available: $(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).reason ?? "no output")' "$tmp/parity-$backend.json" 2>/dev/null || cat "$tmp/parity-$backend.err")"
  fi
done
[ ${#found[@]} -eq 0 ] && echo "no GPU backend found"

for backend in "${found[@]}"; do
  echo "bench:perf on $backend …"
  "${tsx[@]}" packages/bench/src/perf/bench-perf.ts --backend "$backend" --threads 1 --json --out - "${perf_args[@]}" | tail -n 1 >"$tmp/perf-$backend.json" || status=1
done
echo "bench:perf on wasm, $cores threads …"
"${tsx[@]}" packages/bench/src/perf/bench-perf.ts --backend wasm --threads "$cores" --json --out - "${perf_args[@]}" | tail -n 1 >"$tmp/perf-wasm.json"

node - "$tmp" "$out" "$short" <<'JS'
const fs = require('fs');
const os = require('os');
const { execSync } = require('child_process');
const [dir, out, short] = process.argv.slice(2);
const read = (f) => (fs.existsSync(`${dir}/${f}`) && fs.statSync(`${dir}/${f}`).size ? JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8')) : undefined);
let gpus = [];
try {
  gpus = execSync('nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').filter(Boolean);
} catch {}
const backends = ['tfjs-node-gpu', 'webgpu'].map((name) => ({ name, ...(read(`parity-${name}.json`) ?? { available: false, reason: 'the parity script printed nothing' }) }));
const perf = {};
for (const f of fs.readdirSync(dir).filter((f) => f.startsWith('perf-'))) perf[f.slice(5, -5)] = read(f);
const result = {
  date: new Date().toISOString(),
  short: short === '1',
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, gpus },
  gpuBackendFound: backends.some((b) => b.available),
  backends,
  perf,
};
fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
console.log(`wrote ${out}`);
JS
exit "$status"
