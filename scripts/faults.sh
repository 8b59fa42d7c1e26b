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
    killed=0; absent=0; whole=0; same=0
    for i in $(seq 1 "$n"); do
        out="$work/out-$cmd"
        case "$cmd" in
            split) args=(split "$data" -o "$out" --overwrite --materialize hardlink -q) ;;
            clean) args=(clean "$data" -o "$out" --overwrite -q) ;;
            check) args=(check "$data" --cache-dir "$work/cache" -q --fail-on never) ;;
        esac
        if [ "$i" = 1 ]; then
            # How long one whole run takes: the kills land at random moments within it.
            start=$(date +%s%N)
            "$bin" "${args[@]}" >/dev/null 2>&1 || true
            span_ms=$(( ($(date +%s%N) - start) / 1000000 + 1 ))
            rm -rf "$out" "$work/cache"
        fi
        # A check killed while it writes its cache: every killed run starts cold, so
        # that it is busy reading and writing the whole time.
        if [ "$cmd" = check ]; then rm -rf "$work/cache"; fi
        "$bin" "${args[@]}" >/dev/null 2>&1 &
        pid=$!
        delay_ms=$(( (RANDOM * 32768 + RANDOM) % span_ms ))
        sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
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
            if cmp -s "$work/scan.json" "$work/check.json"; then same=$((same + 1))
            else echo "FAIL check run $i: the check after a killed check differs from a scan"; fail=1; fi
        fi
    done
    if [ "$cmd" = check ]; then
        echo "check: $n runs of ~${span_ms} ms (cold), $killed killed mid-run; the next check succeeded and reported what a scan does $same times"
    else
        echo "$cmd: $n runs of ~${span_ms} ms, $killed killed mid-run; OUT afterwards absent $absent, complete $whole; the next run succeeded, no staging left"
    fi
done
exit $fail
