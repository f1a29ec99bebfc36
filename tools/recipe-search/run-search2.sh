#!/bin/bash
# Second round: Hugging Face's CLIP init (larger than N(0, 0.02)), and plain backgrounds.
S=$(cd "$(dirname "$0")" && pwd)/search.py
W=/tmp/search; mkdir -p $W; cd $W
export PYTHONUNBUFFERED=1
T="sched=const steps=100000 seconds=${SECONDS_PER_RUN:-240} eval_every=200"
run() { n=$1; shift; python3 $S $n $T "$@" > $n.log 2>&1 & }
run hf init=hf
run hf-lr1e-3 init=hf lr=0.001
run hf-w128l4 init=hf width=128 layers=4 lr=0.001
run hf-s112p16 init=hf size=112 patch=16 lr=0.001
run hf-flat.5 init=hf lr=0.001 flat=0.5
run hf-w128l4-s.75 init=hf width=128 layers=4 lr=0.001 single=0.75
run hf-p16-w128l4 init=hf size=112 patch=16 width=128 layers=4 lr=0.001 single=0.75
merge() { python3 -c "
import json,glob
out={}
for f in sorted(glob.glob('*.json')):
    try: out[f[:-5]]=json.load(open(f))
    except Exception as e: pass
json.dump(out,open('$OUT/all2.json','w'))"; cat *.log > $OUT/logs2.txt; }
while [ -n "$(jobs -r)" ]; do sleep 15; merge; done
merge
