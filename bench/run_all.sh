#!/usr/bin/env bash
# Every benchmark of docs/performance.md, one after another, on an otherwise idle machine.
# Usage: bench/run_all.sh [name ...]   (names: btyd metrics import actions predict predict_synth serve)
# Each benchmark writes its machine-readable lines to bench/out/logs/NAME.out and its
# progress, tables and goal checks to bench/out/logs/NAME.err; the load average before
# and after each one goes to bench/out/logs/run_all.log.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
LOG=bench/out/logs
mkdir -p "$LOG"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(btyd metrics import actions predict predict_synth serve)

cmd_for() {
  case "$1" in
    btyd) echo "$PY bench/btyd.py --full" ;;
    metrics) echo "$PY bench/metrics.py --rows 10000000 100000000 --synth --cli" ;;
    import) echo "$PY bench/import.py --rows 10000000" ;;
    actions) echo "$PY bench/actions.py --customers 100000 1000000 --cli" ;;
    predict) echo "$PY bench/predict.py all --dir bench/out/predict" ;;
    predict_synth) echo "$PY bench/predict.py synth --customers 20000 --dir bench/out/predict" ;;
    serve) echo "$PY bench/serve.py --orders 10000000 --concurrency 200 --requests 40000 --workers 2" ;;
    *) echo "" ;;
  esac
}

for name in "${names[@]}"; do
  cmd=$(cmd_for "$name")
  if [ -z "$cmd" ]; then echo "unknown benchmark $name" >&2; exit 2; fi
  start=$(date -u +%FT%TZ)
  echo "$start $name start load=$(cut -d' ' -f1-3 /proc/loadavg): $cmd" | tee -a "$LOG/run_all.log" >&2
  t0=$(date +%s)
  $cmd > "$LOG/$name.out" 2> "$LOG/$name.err"
  rc=$?
  echo "$(date -u +%FT%TZ) $name end rc=$rc seconds=$(( $(date +%s) - t0 )) load=$(cut -d' ' -f1-3 /proc/loadavg)" \
    | tee -a "$LOG/run_all.log" >&2
done
