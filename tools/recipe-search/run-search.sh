#!/bin/bash
# Runs the recipe search's configurations side by side on one GPU; merges their curves
# into $OUT/all.json every 20 s (so a run cut short still returns what it had).
S=$(cd "$(dirname "$0")" && pwd)/search.py
W=/tmp/search; mkdir -p $W; cd $W
export PYTHONUNBUFFERED=1
nvidia-smi -L
T="sched=const steps=100000 seconds=${SECONDS_PER_RUN:-450}"
run() { n=$1; shift; python3 $S $n $T "$@" > $n.log 2>&1 & }
run base
run lr1e-3 lr=0.001
run lr4e-3 lr=0.004
run single1 single=1.0
run single.75 single=0.75
run s112p16 size=112 patch=16
run s112p8w64 size=112 patch=8 width=64
run s224p16w64 size=224 patch=16 width=64
run w128l4 width=128 layers=4 lr=0.001
run b64 batch=64
run wd0 wd=0
run s96p12 size=96 patch=12
run w64l6 width=64 layers=6
run s112p16single1 size=112 patch=16 single=1.0 lr=0.001
merge() { python3 -c "
import json,glob
out={}
for f in sorted(glob.glob('*.json')):
    try: out[f[:-5]]=json.load(open(f))
    except Exception as e: pass
json.dump(out,open('$OUT/all.json','w'))"; cat *.log > $OUT/logs.txt; }
while [ -n "$(jobs -r)" ]; do sleep 20; merge; done
merge; nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv
