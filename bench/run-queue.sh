#!/usr/bin/env bash
# run-queue.sh - pane's job queue next to graphile-worker 0.18 (npm), in one
# run, on one throwaway local PostgreSQL 15 (scripts/pg.sh: fsync on, default
# shared_buffers / synchronous_commit), no-op handlers.
#
#   bench/run-queue.sh            20k and 100k jobs, 3 rounds each, 1M history rows
#   bench/run-queue.sh --quick    20k jobs, 1 round, 200k history rows
#   CONCS="8 32" bench/run-queue.sh   only these drain concurrencies
#   SIZES=100000 ROUNDS=1 bench/run-queue.sh   other job counts / rounds
#
# Figures (medians of the rounds):
#   enqueue   bulk enqueue, batches of 1000: pane.enqueue_many vs addJobs
#   drain     one worker process drains the queue at concurrency 8, 32 and 1000:
#             `pane worker -c C --prefetch 500 --builtin noop --drain` vs graphile
#             run() with concurrentJobs C, localQueue 500 + batched completion
#             (the same concurrency and the same local queue on both sides)
#   pickup    idle queue, enqueue commit -> handler start, p50/p99 (200 jobs)
#   cpu       CPU time per drained job: the PostgreSQL cluster's (postmaster,
#             reaped backends and live children, from /proc) plus the worker
#             process's (pane worker / node), in microseconds - the figure
#             that stays put on a shared machine when wall time swings 2x
#   claim     pane.claim of one job, p50/p99, empty table vs 1M finished jobs in
#             history + 10k stuck running jobs (pane only; graphile-worker
#             deletes finished jobs, so it has no such table to compare)
# Every database is fresh; each tool gets its own database on the same server,
# dropped right after its drain (autovacuum of a leftover would bill the next run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
quick=0
[ "${1:-}" = "--quick" ] && quick=1
case "${1:-}" in -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
if [ $quick = 1 ]; then sizes=(20000); rounds=1; history=200000; else sizes=(20000 100000); rounds=3; history=1000000; fi
[ -n "${SIZES:-}" ] && sizes=($SIZES)
rounds=${ROUNDS:-$rounds}

scripts/install-deps.sh --bench >/dev/null
builddir=${PANE_BUILD_DIR:-build}
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" -Dwerror=true >/dev/null
ninja -C "$builddir" >/dev/null
pane="$root/$builddir/pane"
qb="$root/$builddir/bench/queue_bench"
gw="$root/bench/peers/graphile/gw-bench.mjs"

pgdir=$(mktemp -d /tmp/pane-bench-pg.XXXXXX); rmdir "$pgdir"
cleanup() { scripts/pg.sh stop "$pgdir" >/dev/null 2>&1; rm -rf "$pgdir"; }
trap cleanup EXIT
eval "$(scripts/pg.sh start "$pgdir")"
base=${DATABASE_URL%/*}
fresh() { psql -qAtX "$base/postgres" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null; echo "$base/$1"; }
# a drained database is dropped at once: left behind, autovacuum would clean
# its dead rows during the next tool's drain and bill that tool's CPU figure
gone() { psql -qAtX "$base/postgres" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ms() { date +%s%N; }
# CPU ticks used so far by the whole cluster: the postmaster, the backends it
# reaped (cutime/cstime) and the children still running
pgcpu() {
  local pm t c
  pm=$(head -1 "$pgdir/postmaster.pid")
  t=$(awk '{print $14+$15+$16+$17}' "/proc/$pm/stat")
  for c in $(pgrep -P "$pm"); do t=$((t + $(awk '{print $14+$15}' "/proc/$c/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}
hz=$(getconf CLK_TCK)
tf=$(mktemp); trap 'cleanup; rm -f "$tf"' EXIT
# microseconds of CPU per job: cluster ticks between $1 and $2, process time in $tf
cpu_per_job() { awk -v a="$1" -v b="$2" -v hz="$hz" -v n="$3" '{printf "%.1f", ((b - a) / hz + $1 + $2) * 1e6 / n}' "$tf"; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(psql -qAtX "$base/postgres" -c "SELECT version()" | cut -d' ' -f1-2)," \
  "fsync=$(psql -qAtX "$base/postgres" -c 'SHOW fsync')," \
  "synchronous_commit=$(psql -qAtX "$base/postgres" -c 'SHOW synchronous_commit')," \
  "shared_buffers=$(psql -qAtX "$base/postgres" -c 'SHOW shared_buffers')," \
  "node $(node --version), graphile-worker $(node -p "require('$root/bench/peers/graphile/node_modules/graphile-worker/package.json').version")"

concs=(${CONCS:-8 32 1000})
declare -A res
for n in "${sizes[@]}"; do
  for r in $(seq 1 $rounds); do
    for c in "${concs[@]}"; do
      u=$(fresh bench_pane)
      "$pane" migrate -d "$u" >/dev/null
      set -- $("$qb" enqueue "$u" "$n" 1000); res[pane_enq_$n]+="$4 "
      psql -qAtX "$u" -c "VACUUM ANALYZE" >/dev/null
      sleep 0.2; k0=$(pgcpu)
      t0=$(ms); /usr/bin/time -f "%U %S" -o "$tf" "$pane" worker -d "$u" -q bench -c "$c" --prefetch 500 --builtin noop --drain 2>/dev/null; t1=$(ms)
      sleep 0.2; k1=$(pgcpu); res[pane_cpu_${n}_$c]+="$(cpu_per_job "$k0" "$k1" "$n") "
      left=$(psql -qAtX "$u" -c "SELECT count(*) FROM pane.jobs")
      [ "$left" = 0 ] || { echo "pane left $left jobs" >&2; exit 1; }
      gone bench_pane
      res[pane_drain_${n}_$c]+="$(( n * 1000000000 / (t1 - t0) )) "
      u=$(fresh bench_gw)
      set -- $(cd "$(dirname "$gw")" && DATABASE_URL=$u MODE=enqueue N=$n BATCH=1000 node "$gw" 2>/dev/null); res[gw_enq_$n]+="$4 "
      psql -qAtX "$u" -c "VACUUM ANALYZE" >/dev/null
      sleep 0.2; k0=$(pgcpu)
      set -- $(cd "$(dirname "$gw")" && DATABASE_URL=$u MODE=drain N=$n CONCURRENCY=$c /usr/bin/time -f "%U %S" -o "$tf" node "$gw" 2>/dev/null); res[gw_drain_${n}_$c]+="$4 "
      sleep 0.2; k1=$(pgcpu); res[gw_cpu_${n}_$c]+="$(cpu_per_job "$k0" "$k1" "$n") "
      gone bench_gw
      echo "  $n jobs, concurrency $c, after round $r: pane drain ${res[pane_drain_${n}_$c]}(cpu us/job ${res[pane_cpu_${n}_$c]}) | graphile drain ${res[gw_drain_${n}_$c]}(cpu us/job ${res[gw_cpu_${n}_$c]})" | tr -s ' ' >&2
    done
    echo "  $n jobs after round $r: pane enqueue ${res[pane_enq_$n]}| graphile enqueue ${res[gw_enq_$n]}" | tr -s ' ' >&2
  done
done

# pickup latency on an idle queue
u=$(fresh bench_pane)
"$pane" migrate -d "$u" >/dev/null
"$pane" worker -d "$u" -q lat -c 4 --builtin noop 2>/dev/null & wpid=$!
sleep 0.5
set -- $("$qb" pickup "$u" 200); pane_pick="$4 $5"
kill $wpid; wait $wpid 2>/dev/null || true
u=$(fresh bench_gw)
set -- $(cd "$(dirname "$gw")" && DATABASE_URL=$u MODE=pickup N=200 node "$gw" 2>/dev/null); gw_pick="$4 $5"

# claim latency: empty vs 1M finished + 10k stuck
u=$(fresh bench_pane)
"$pane" migrate -d "$u" >/dev/null
set -- $("$qb" claim "$u" 2000 empty); claim_empty="$4 $5"
"$qb" fill "$u" "$history" 10000 >/dev/null
set -- $("$qb" claim "$u" 2000 loaded); claim_loaded="$4 $5"

printf '\n%-44s %14s %14s %8s\n' "figure" "pane" "graphile" "ratio"
for n in "${sizes[@]}"; do
  pe=$(echo ${res[pane_enq_$n]} | tr ' ' '\n' | median); ge=$(echo ${res[gw_enq_$n]} | tr ' ' '\n' | median)
  printf '%-44s %14.0f %14.0f %7.2fx\n' "enqueue $n jobs (jobs/s, batches of 1000)" "$pe" "$ge" "$(awk -v a="$pe" -v b="$ge" 'BEGIN{print a/b}')"
  for c in "${concs[@]}"; do
    pd=$(echo ${res[pane_drain_${n}_$c]} | tr ' ' '\n' | median); gd=$(echo ${res[gw_drain_${n}_$c]} | tr ' ' '\n' | median)
    printf '%-44s %14.0f %14.0f %7.2fx\n' "drain $n jobs, concurrency $c (jobs/s)" "$pd" "$gd" "$(awk -v a="$pd" -v b="$gd" 'BEGIN{print a/b}')"
    pc=$(echo ${res[pane_cpu_${n}_$c]} | tr ' ' '\n' | median); gc=$(echo ${res[gw_cpu_${n}_$c]} | tr ' ' '\n' | median)
    printf '%-44s %14.1f %14.1f %7.2fx\n' "  CPU per job (us, PostgreSQL + worker)" "$pc" "$gc" "$(awk -v a="$pc" -v b="$gc" 'BEGIN{print b/a}')"
  done
done
printf '%-44s %14s %14s\n' "pickup latency p50 / p99 (ms, idle queue)" "${pane_pick/ / / }" "${gw_pick/ / / }"
printf '%-44s %14s %14s\n' "claim latency p50 / p99 (ms), empty table" "${claim_empty/ / / }" "-"
printf '%-44s %14s %14s\n' "claim p50 / p99 (ms), +${history} finished +10k stuck" "${claim_loaded/ / / }" "-"
echo "rounds: $rounds (medians); command: bench/run-queue.sh$([ $quick = 1 ] && echo ' --quick')"
