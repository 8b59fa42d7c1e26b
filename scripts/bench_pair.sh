#!/usr/bin/env bash
# Two built dsaudit binaries scanned on the same inputs, runs interleaved (old, new,
# old, new, ...): median wall time and median peak memory of each, the ratios, and
# whether the two JSON reports differ on any run. One warm-up run of NEW per input.
#
#     scripts/bench_pair.sh [--cold] OLD NEW RUNS INPUT...
#
# --cold: the page cache emptied before every run instead (the files, and the
# binaries, read from the disk), what a first scan of a dataset costs. Needs root
# (/proc/sys/vm/drop_caches); says so and stops otherwise.
set -euo pipefail
cold=""
if [ "${1:-}" = --cold ]; then
    cold="cold, "
    shift
    if ! { sync && echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then
        echo "bench_pair.sh: --cold cannot empty the page cache (needs root: /proc/sys/vm/drop_caches)" >&2
        exit 2
    fi
fi
old=$1 new=$2 runs=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for target in "$@"; do
    name=$(basename "$target")
    [ -z "$cold" ] && "$new" scan -q --fail-on never "$target" >/dev/null
    for i in $(seq "$runs"); do
        for b in old new; do
            bin=$old; [ $b = new ] && bin=$new
            [ -n "$cold" ] && sync && echo 3 > /proc/sys/vm/drop_caches
            /usr/bin/time -f "$b %e %M" -a -o "$tmp/times" "$bin" scan -q --fail-on never --format json "$target" > "$tmp/$b.json"
        done
        cmp -s "$tmp/old.json" "$tmp/new.json" || echo "$name: the two reports differ (run $i)"
    done
    python3 - "$tmp/times" "$name" "$cold" <<'PY'
import statistics, sys
runs = {"old": [], "new": []}
for line in open(sys.argv[1]):
    b, secs, kib = line.split()
    runs[b].append((float(secs), int(kib) / 1024))
med = {b: (statistics.median(s for s, _ in r), statistics.median(m for _, m in r)) for b, r in runs.items()}
walls = {b: " ".join(f"{s:.2f}" for s, _ in r) for b, r in runs.items()}
(so, mo), (sn, mn) = med["old"], med["new"]
print(f"{sys.argv[2]:<10} {sys.argv[3]}old: {walls['old']}  new: {walls['new']}")
print(f"{sys.argv[2]:<10} {sys.argv[3]}median {so:.2f} s -> {sn:.2f} s ({sn / so:.2f}x), peak {mo:.0f} -> {mn:.0f} MiB ({mn / mo:.2f}x)")
PY
    rm -f "$tmp/times"
done
