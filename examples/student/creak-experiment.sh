#!/usr/bin/env bash
# The paper's question in miniature: held-out CREAK accuracy of the tiny student before
# training, after training on Q+A sequences only, and after training on Q+A+CoT sequences
# (chain of thought by the default teacher, SmolLM2-135M-Instruct), on the same samples,
# steps and seed. Reads data/creak-train.jsonl, evaluates on data/creak-heldout.jsonl.
#   SAMPLES=128 STEPS=16 BATCH=8 LR=3e-3 bash examples/student/creak-experiment.sh
# STUDENT=NAME trains a from_pretrained student instead of the tiny one; EVAL_SAMPLES=N
# evaluates on the first N held-out samples only.
# Needs KAFKA_BROKERS (or `teacherlm kafka start`) and the imported teacher.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
samples="${SAMPLES:-128}" steps="${STEPS:-16}" batch="${BATCH:-8}" seed="${SEED:-0}" lr="${LR:-3e-3}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
python="$(bash examples/student/install.sh)"
work=".cache/student/creak-experiment"
mkdir -p "$work"
tag="$(date +%s)"
topology="$work/topology-$tag.yaml"
# Fresh topics per run, so each experiment reads exactly its own samples.
sed -e "s/student\.creak\./student.creak.$tag./" -e "s/group: student-creak-cot/group: student-creak-cot-$tag/" \
  examples/student/topologies/creak-cot.yaml > "$topology"
head -n "$samples" data/creak-train.jsonl > "$work/train-$tag.jsonl"
node bin/teacherlm.js produce "$work/train-$tag.jsonl" --map id=ex_id,task=task_name --topology "$topology"
node bin/teacherlm.js run --topology "$topology" --until-idle 15000 2> "$work/teacher-$tag.log"
for kinds in qa cot; do
  (cd examples/student && "$python" -m student.train --topic "student.creak.$tag.augmented" --group "student-$kinds-$tag" \
    --run-dir "$root/$work/run-$kinds-$tag" --kinds "$kinds" --lr "$lr" --batch-size "$batch" --max-steps "$steps" --seed "$seed" \
    --eval-every "$steps" --until-idle 10000 ${STUDENT:+--student "$STUDENT"} ${EVAL_SAMPLES:+--eval-samples "$EVAL_SAMPLES"} 2> "$root/$work/train-$kinds-$tag.log")
done
echo "held-out CREAK accuracy (${EVAL_SAMPLES:-$(wc -l < data/creak-heldout.jsonl)} samples, zero-shot option-letter log-likelihood):"
for kinds in qa cot; do
  "$python" - "$work/run-$kinds-$tag/evals.jsonl" "$kinds" <<'PY'
import json, sys
evals = [json.loads(l) for l in open(sys.argv[1])]
label = {"qa": "Q+A only", "cot": "Q+A+CoT"}[sys.argv[2]]
if sys.argv[2] == "qa":
    print(f"  before training:         {evals[0]['accuracy']:.3f}")
print(f"  after {evals[-1]['step']} steps, {label + ':':<9} {evals[-1]['accuracy']:.3f}")
PY
done
