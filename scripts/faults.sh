#!/usr/bin/env bash
# kill -9 at random moments during `split`, `clean` and `check`'s cache write, N times
# each: afterwards OUT is absent or a complete build (its inventory matches), no
# staging debris is left once the next run has started, the next run succeeds, and
# `check` after a killed check reports what a plain scan does.
# usage: faults.sh DSAUDIT_BINARY N [IMAGES]
set -euo pipefail
bin="$1"; n="$2"; images="${3:-3000}"
gen="$(dirname "$bin")/examples/gen_data"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$gen" bench "$work/gen" "$images" 10 >/dev/null
data="$work/gen/images"
fail=0
complete() {
    # A finished build holds its inventory; `--overwrite` accepts only a match.
    [ -f "$1/.dsaudit-build.json" ] && [ -f "$1/build.json" ]
}
for cmd in split clean check; do
    killed=0; absent=0; whole=0
    for i in $(seq 1 "$n"); do
        out="$work/out-$cmd"
        case "$cmd" in
            split) args=(split "$data" -o "$out" --overwrite --materialize hardlink -q) ;;
            clean) args=(clean "$data" -o "$out" --overwrite -q) ;;
            check) args=(check "$data" --cache-dir "$work/cache" -q --fail-on never) ;;
        esac
        "$bin" "${args[@]}" >/dev/null 2>&1 &
        pid=$!
        # A random moment within the run (runs take about 1-3 s here).
        sleep "0.$(( RANDOM % 10 ))$(( RANDOM % 10 ))"
        if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
        wait "$pid" 2>/dev/null || true
        if [ "$cmd" != check ]; then
            if [ ! -e "$out" ]; then absent=$((absent + 1))
            elif complete "$out"; then whole=$((whole + 1))
            else echo "FAIL $cmd run $i: $out is neither absent nor complete"; ls -la "$out"; fail=1; fi
        fi
        # The next run succeeds (and clears the killed run's staging folder).
        if ! "$bin" "${args[@]}" >/dev/null 2>"$work/err"; then
            echo "FAIL $cmd run $i: the next run failed: $(cat "$work/err")"; fail=1
        fi
        debris=$(find "$work" -maxdepth 1 -name ".out-$cmd.dsaudit-*" | wc -l)
        if [ "$debris" != 0 ]; then echo "FAIL $cmd run $i: $debris staging folders left"; fail=1; fi
        if [ "$cmd" = check ]; then
            "$bin" scan "$data" --format json -q --fail-on never | grep -v '"elapsed\|seconds' > "$work/scan.json"
            "$bin" check "$data" --cache-dir "$work/cache" --format json -q --fail-on never | grep -v '"elapsed\|seconds' > "$work/check.json"
            if ! cmp -s "$work/scan.json" "$work/check.json"; then
                echo "FAIL check run $i: the check after a killed check differs from a scan"; fail=1
            fi
        fi
    done
    echo "$cmd: $n runs, $killed killed mid-run; OUT afterwards absent $absent, complete $whole"
done
exit $fail
