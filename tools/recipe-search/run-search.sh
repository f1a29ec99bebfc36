#!/bin/bash
# Runs one round of the recipe search side by side on one GPU and merges the curves into
# $OUT/round<N>.json every 15 s (so a run cut short still returns what it had).
# Usage: bash run-search.sh 1|2
S=$(cd "$(dirname "$0")" && pwd)/search.py
ROUND=${1:?usage: run-search.sh 1|2}
W=/tmp/search-$ROUND; mkdir -p $W; cd $W
export PYTHONUNBUFFERED=1
run() { n=$1; shift; python3 $S $n sched=const steps=100000 eval_every=$EVERY seconds=$SECS "$@" > $n.log 2>&1 & }
if [ "$ROUND" = 1 ]; then
  # Round 1: the first shipped model's init, N(0, 0.02) for every weight.
  SECS=450 EVERY=250
  run base; run lr1e-3 lr=0.001; run lr4e-3 lr=0.004; run single1 single=1.0; run single.75 single=0.75
  run s112p16 size=112 patch=16; run s112p8w64 size=112 patch=8 width=64; run s224p16w64 size=224 patch=16 width=64
  run w128l4 width=128 layers=4 lr=0.001; run b64 batch=64; run wd0 wd=0; run s96p12 size=96 patch=12
  run w64l6 width=64 layers=6; run s112p16single1 size=112 patch=16 single=1.0 lr=0.001
else
  # Round 2: Hugging Face's CLIP init, and plain backgrounds for half the scenes.
  SECS=240 EVERY=200
  run hf init=hf; run hf-lr1e-3 init=hf lr=0.001; run hf-w128l4 init=hf width=128 layers=4 lr=0.001
  run hf-s112p16 init=hf size=112 patch=16 lr=0.001; run hf-flat.5 init=hf lr=0.001 flat=0.5
  run hf-w128l4-s.75 init=hf width=128 layers=4 lr=0.001 single=0.75
  run hf-p16-w128l4 init=hf size=112 patch=16 width=128 layers=4 lr=0.001 single=0.75
fi
merge() {
  python3 -c "
import json, glob
out = {}
for f in sorted(glob.glob('*.json')):
    try: out[f[:-5]] = json.load(open(f))
    except Exception: pass
json.dump(out, open('$OUT/round$ROUND.json', 'w'))"
  cat *.log > $OUT/logs$ROUND.txt
}
while [ -n "$(jobs -r)" ]; do sleep 15; merge; done
merge
