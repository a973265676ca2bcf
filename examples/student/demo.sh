#!/usr/bin/env bash
# npm run demo:student [-- --teacher echo|smollm2]: the whole loop on the bundled samples.
# A broker (KAFKA_BROKERS, else the local broker, started here and stopped at the end), a
# teacher (`teacherlm run`) and the student trainer run together: data/creak-demo.jsonl is
# produced in chunks while the teacher annotates and the trainer trains. Ends with the
# loss curve as a table and a PNG.
#   --teacher echo     (default) the model-free echo teacher: seconds, so the trainer
#                      runs alongside it; its texts teach the format, not reasoning.
#   --teacher smollm2  the default teacher (SmolLM2-135M-Instruct), all three annotations:
#                      minutes on a CPU.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
teacher=echo
while [ $# -gt 0 ]; do
  case "$1" in
    --teacher) teacher="${2:-}"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "demo:student: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$teacher" in
  echo) base=topologies/echo.yaml ;;
  smollm2) base=topologies/default.yaml; node bin/teacherlm.js model import smollm2 >&2 ;;
  *) echo "demo:student: --teacher must be echo or smollm2, got '$teacher'" >&2; exit 2 ;;
esac
python="$(bash examples/student/install.sh)"

pids=()
started_broker=
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$started_broker" ]; then node bin/teacherlm.js kafka stop >&2 || true; fi
}
trap cleanup EXIT
if [ -z "${KAFKA_BROKERS:-}" ]; then
  KAFKA_BROKERS="$(node bin/teacherlm.js kafka start)"
  started_broker=1
fi
export KAFKA_BROKERS

tag="$(date +%s)"
work="$root/.cache/student/demo/$tag"
mkdir -p "$work"
# Fresh topics and groups per run: the demo reads exactly its own samples.
sed -e "s/topic: samples\./topic: student-demo-$tag./" -e "s/group: teacherlm-\(.*\)/group: student-demo-$tag-\1/" "$base" > "$work/topology.yaml"
augmented="student-demo-$tag.augmented"

echo "demo:student: teacher '$teacher', topics student-demo-$tag.*, run folder $work" >&2
node bin/teacherlm.js run --topology "$work/topology.yaml" --until-idle 60000 2> "$work/teacher.log" &
pids+=($!)
(cd examples/student && exec "$python" -m student.train --topic "$augmented" --group "student-demo-$tag-trainer" --run-dir "$work/run" \
  --kinds cot,fundamentals,mistakes --batch-size 2 --lr 3e-3 --until-idle 30000 2> "$work/trainer.log") &
trainer=$!
pids+=($trainer)
# The samples arrive over time, as in production: 4 chunks of 6, a few seconds apart.
split -l 6 --additional-suffix=.jsonl data/creak-demo.jsonl "$work/chunk-"
for chunk in "$work"/chunk-*; do
  sleep 4
  node bin/teacherlm.js produce "$chunk" --map id=ex_id,task=task_name --topology "$work/topology.yaml" 2>&1 | tail -1 >&2
done
produced_at="$(date +%s.%N)"
wait "$trainer"
"$python" - "$work/run/steps.jsonl" "$produced_at" <<'PY'
import json, sys
steps = [json.loads(l) for l in open(sys.argv[1])]
early = sum(1 for s in steps if s["ts"] < float(sys.argv[2]))
ids = [i for s in steps for i in s["ids"]]
print(f"{len(steps)} steps on {len(set(ids))} samples ({len(ids) - len(set(ids))} trained twice); {early} steps before the last sample was produced")
PY
(cd examples/student && "$python" -m student.report "$work/run") 2>&1 | sed "s#$root/##"
