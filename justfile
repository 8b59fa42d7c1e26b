# dsaudit developer recipes. The README's two commands need only cargo; these are shortcuts.

export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", justfile_directory() / "target")

default:
    @just --list

# Debug build of the binary.
build:
    cargo build

# The whole test suite (the README's test command).
test:
    cargo test

# Formatting and lints.
lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings

# Regenerate the committed sample data (deterministic: same bytes every time).
sample-data:
    rm -rf sample_data
    cargo run --example gen_data -- sample sample_data

# Regenerate docs/rules.md from the rule registry.
docs:
    cargo run -q -- rules --markdown > docs/rules.md

# Rewrite the golden reports after an intended change; review the diff.
golden:
    UPDATE_GOLDEN=1 cargo test --test cli golden

# Scan speed and peak memory: 100,000 32x32 PNGs and a 1,000,000 x 21 CSV (both split
# 80/20), with the duplicate search and the shift tests timed on their own, and the
# duplicate search at 10,000 images for scaling.
bench images="100000" rows="1000000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --bin dsaudit --example gen_data
    bin="$CARGO_TARGET_DIR/release/dsaudit"
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    echo "generating {{images}} images and {{rows}} rows in $dir"
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir" {{images}} {{rows}}
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    for target in images table.csv; do
        # Warm the page cache once so the figure is the scan, not the disk.
        "$bin" scan -q --fail-on never "$dir/$target" >/dev/null
        /usr/bin/time -f '%e %M' -o "$dir/time" "$bin" scan -q --timings --fail-on never --format json "$dir/$target" > "$dir/report.json" 2> "$dir/phases"
        read -r secs kib < "$dir/time"
        n=$(grep -o -m1 '"samples": [0-9]*' "$dir/report.json" | head -1 | grep -o '[0-9]*$')
        dups=$(awk '/^timing duplicates / { print $3 }' "$dir/phases")
        awk -v t="$target" -v n="$n" -v s="$secs" -v k="$kib" -v d="$dups" 'BEGIN { printf "%-10s %8d samples  %6.2f s  %9.0f samples/s  peak %6.0f MiB  duplicates %s s\n", t, n, s, n / s, k / 1024, d }'
        # The duplicate search's steps (tables: z-scores, tree, median distance, pairs).
        awk -v t="$target" '/^timing duplicates: / { sub(/^timing /, ""); printf "%-10s %s\n", t, $0 }' "$dir/phases"
        # The shift tests, test against train (80/20): per-feature tests, classifier, MMD.
        awk -v t="$target" '/^timing shift / { sub(/^timing shift /, ""); printf "%-10s shift %s\n", t, $0 }' "$dir/phases"
        # Label errors and outliers (issue 6): features, outlier search, cross-validated
        # probabilities, confident learning.
        awk -v t="$target" '/^timing labels/ { sub(/^timing /, ""); printf "%-10s %s\n", t, $0 }' "$dir/phases"
    done
    # Growth of the near-duplicate search: the same generator at a tenth of the size.
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir/small" $(( {{images}} / 10 )) 10
    "$bin" scan -q --timings --fail-on never --select D "$dir/small/images" 2>&1 >/dev/null | awk -v n=$(( {{images}} / 10 )) '/^timing duplicates / { printf "images     %8d samples  duplicates %s s\n", n, $3 }'
    # Worst case: every image one centred shape, so perceptual hashes crowd together.
    rm -rf "$dir/alike"
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir/alike" {{images}} 10 alike
    "$bin" scan -q --timings --fail-on never --select D "$dir/alike/images" 2>&1 >/dev/null | awk -v n={{images}} '/^timing duplicates / { printf "alike      %8d samples  duplicates %s s (crowded hashes)\n", n, $3 }'
    # The baseline's training speed (issue 8).
    just bench-baseline

# Baseline speed: training steps per second of the CNN (batch 64, 3x32x32) and the MLP
# (batch 256, 64 features) on every backend here (the CPU backend, and wgpu on the best
# adapter, lavapipe included), and the overfit-one-batch phase on sample_data/ (CPU).
bench-baseline seconds="10":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --bin dsaudit --example bench_baseline
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    "$CARGO_TARGET_DIR/release/examples/bench_baseline" {{seconds}}
    for data in sample_data/images sample_data/table.csv; do
        /usr/bin/time -f '%e' -o /tmp/dsaudit-baseline-time "$CARGO_TARGET_DIR/release/dsaudit" baseline "$data" --overfit --device cpu -q --timings 2> /tmp/dsaudit-baseline-phases | grep '^overfit one batch'
        awk -v d="$data" -v s="$(cat /tmp/dsaudit-baseline-time)" '/^timing overfit / && !/steps/ { o = $3 } END { printf "%-22s overfit phase %.2f s, whole command %.2f s (CPU backend)\n", d, o, s }' /tmp/dsaudit-baseline-phases
    done

# The build commands on the benchmark data: split and rebalance the 1,000,000-row table,
# and split 100,000 images materialised as symlinks. Prints the whole command's wall time
# and the build's own part (plan, then writing), apart from the scan it starts with.
bench-datasets images="100000" rows="1000000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --bin dsaudit --example gen_data
    bin="$CARGO_TARGET_DIR/release/dsaudit"
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    echo "generating {{images}} images and {{rows}} rows in $dir"
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir" {{images}} {{rows}}
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    "$bin" scan -q --fail-on never "$dir/table.csv" >/dev/null
    "$bin" scan -q --fail-on never "$dir/images" >/dev/null
    # Three runs each (the machine is noisy); the line printed is the median by whole time.
    # OUT is removed between runs so that no run pays for deleting the previous build, and
    # `sync` first, so that no run pays for writing back the generated data (the first
    # command, split, did: 3.76 s in the recipe against 2.2–2.3 s run by hand just before).
    run() {
        local name="$1"; shift
        for i in 1 2 3; do
            rm -rf "$dir/out"
            sync
            /usr/bin/time -f '%e %M' -o "$dir/time" "$bin" "$@" -o "$dir/out" -q --timings > /dev/null 2> "$dir/phases"
            read -r secs kib < "$dir/time"
            echo "$secs $kib $(tr '\n' '|' < "$dir/phases")"
        done | sort -n | sed -n 2p | {
            read -r secs kib phases
            echo "$phases" | tr '|' '\n' > "$dir/phases"
            awk -v n="$name" -v s="$secs" -v k="$kib" '
            /^timing (discover|load|duplicates|shift|labels|rules) / { scan += $3 }
            /^timing [a-z]+: / { next }
            /^timing / && !/^timing (discover|load|duplicates|shift|labels|rules) / { own += $3; parts = parts sprintf(" %s %.2f", $2, $3) }
            END { printf "%-34s whole %6.2f s (peak %5.0f MiB)  scan %5.2f s  build %5.2f s:%s\n", n, s, k / 1024, scan, own, parts }' "$dir/phases"
        }
    }
    run "split table (1M rows)" split "$dir/table.csv"
    run "rebalance undersample table" rebalance "$dir/table.csv" --strategy undersample
    run "rebalance oversample table" rebalance "$dir/table.csv" --strategy oversample
    run "split images, symlinks" split "$dir/images" --materialize symlink
    run "subset images, copies" subset "$dir/images" --per-class 100 --materialize copy

# Overhead against another commit (e.g. the foundation scan): both binaries, interleaved runs, medians.
bench-vs rev runs="5" images="100000" rows="1000000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --bin dsaudit --example gen_data
    dir=$(mktemp -d)
    trap 'git worktree remove --force "$dir/wt" 2>/dev/null || true; rm -rf "$dir"' EXIT
    cp "$CARGO_TARGET_DIR/release/dsaudit" "$dir/new"
    git worktree add -q "$dir/wt" {{rev}}
    (cd "$dir/wt" && cargo build -q --release --bin dsaudit && cp "$CARGO_TARGET_DIR/release/dsaudit" "$dir/old")
    cargo build -q --release --bin dsaudit # restore this tree's binary in the shared target dir
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir/data" {{images}} {{rows}}
    for target in images table.csv; do
        for i in $(seq {{runs}}); do
            for b in old new; do
                /usr/bin/time -f "$b %e" -a -o "$dir/$target.times" "$dir/$b" scan -q --fail-on never --format json "$dir/data/$target" >/dev/null
            done
        done
        sort -k1,1 -k2,2n "$dir/$target.times" | awk -v t="$target" '{v[$1]=v[$1]" "$2; n[$1]++; a[$1, n[$1]]=$2}
            END { mo=a["old", int((n["old"]+1)/2)]; mn=a["new", int((n["new"]+1)/2)];
                  printf "%-10s {{rev}}:%s  new:%s  median %.2f s -> %.2f s (%+.0f%%)\n", t, v["old"], v["new"], mo, mn, 100*(mn/mo-1) }'
    done

# Two binaries already built (OLD, NEW: paths) on the benchmark data, runs
# interleaved: median wall time and median peak memory of each, and the ratios. What
# `bench-vs` does without its two 20-minute builds; images="0" skips the images.
bench-pair old new runs="5" images="0" rows="1000000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build -q --release --example gen_data
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir/data" {{images}} {{rows}} >/dev/null
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
    targets="$dir/data/table.csv"
    [ {{images}} -gt 0 ] && targets="$dir/data/images $targets"
    scripts/bench_pair.sh "{{old}}" "{{new}}" {{runs}} $targets

# As bench-pair, with the page cache emptied before every run (needs root): a first
# scan of 100,000 PNGs and of the 70,000 real digits, files read from the disk.
bench-pair-cold old new runs="3" images="100000" digits="70000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build -q --release --example gen_data
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir/data" {{images}} 10 >/dev/null
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install -q numpy pillow scikit-learn
    "$dir/venv/bin/python" tests/reference/digits28.py "$dir/digits" {{digits}}
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
    scripts/bench_pair.sh --cold "{{old}}" "{{new}}" {{runs}} "$dir/data/images" "$dir/digits"

# A table larger than the memory budget (issue 30): writes ROWS rows of the benchmark
# table (10^8 rows: about 20 GB; gen_data writes as it generates) and the 1,000,000-row
# one, scans the small one whole (after a warm-up) and the large one under
# --memory-limit LIMIT, and prints each one's rows/s, their ratio and the large scan's
# peak memory against the limit. Needs the large table's size free under TMPDIR.
bench-stream rows="100000000" limit="2GiB":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build -q --release --no-default-features --bin dsaudit --example gen_data
    bin="$CARGO_TARGET_DIR/release/dsaudit"
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
    "$CARGO_TARGET_DIR/release/examples/gen_data" table "$dir/small/table.csv" 1000000
    start=$(date +%s)
    "$CARGO_TARGET_DIR/release/examples/gen_data" table "$dir/large/table.csv" {{rows}}
    echo "wrote {{rows}} rows, $(du -h "$dir/large/table.csv" | cut -f1), in $(( $(date +%s) - start )) s"
    # The writes reach the disk before anything is timed (writeback slowed the first
    # run's whole scan by half).
    sync
    "$bin" scan -q --fail-on never "$dir/small/table.csv" >/dev/null
    for which in small large; do
        /usr/bin/time -f '%e %M' -o "$dir/time" "$bin" scan -q --timings --fail-on never --format json --memory-limit {{limit}} "$dir/$which/table.csv" > "$dir/$which.json" 2> "$dir/$which.phases"
        read -r secs kib < "$dir/time"
        n=$(grep -o -m1 '"samples": [0-9]*' "$dir/$which.json" | grep -o '[0-9]*$')
        kept=$(grep -o -m1 '"sampled_rows": [0-9]*' "$dir/$which.json" | grep -o '[0-9]*$' || echo "$n")
        echo "$which $n $kept $secs $kib" >> "$dir/figures"
        awk -v t="$which" -v n="$n" -v k="$kept" -v s="$secs" -v m="$kib" 'BEGIN { printf "%-6s %10d rows (%d checked)  %7.2f s  %9.0f rows/s  peak %6.0f MiB\n", t, n, k, s, n / s, m / 1024 }'
        awk -v t="$which" '/^timing / { sub(/^timing /, ""); printf "%-6s %s\n", t, $0 }' "$dir/$which.phases"
    done
    awk -v limit="{{limit}}" '{ rate[$1] = $2 / $4; peak[$1] = $5 } END { printf "large / small rows/s: %.2f (target >= 0.80); large peak %.0f MiB under --memory-limit %s\n", rate["large"] / rate["small"], peak["large"] / 1024, limit }' "$dir/figures"

# `bench-pair` on real pictures: 70,000 28×28 digits (tests/reference/digits28.py,
# scikit-learn's real digits at random offsets, the issue's MNIST-sized set) and
# `photos` 640×480 JPEGs (scripts/photos.py, crops of scikit-learn's two sample
# photographs), written by a throwaway venv with numpy, Pillow and scikit-learn from
# PyPI; then the plain decode limit of the photos (examples/decode_limit.rs).
bench-pair-real old new runs="3" digits="70000" photos="3000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build -q --release --example decode_limit
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install -q numpy pillow scikit-learn
    "$dir/venv/bin/python" tests/reference/digits28.py "$dir/digits" {{digits}}
    "$dir/venv/bin/python" scripts/photos.py {{photos}} "$dir/photos"
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
    scripts/bench_pair.sh "{{old}}" "{{new}}" {{runs}} "$dir/digits" "$dir/photos"
    "$CARGO_TARGET_DIR/release/examples/decode_limit" "$dir/photos"

# Duplicates, leaks and conflicting labels on real images (scikit-learn's digits and
# sample photos, scikit-image's images and faces) with injected copies: precision and
# recall per kind, and the share of samples named on the same images untouched
# (issue 25). In a throwaway virtual environment; a few minutes; not part of CI.
eval-duplicates seed="0":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --bin dsaudit
    venv=$(mktemp -d)
    trap 'rm -rf "$venv"' EXIT
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q numpy scikit-learn scikit-image pillow
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
    "$venv/bin/python" tests/reference/duplicates_eval.py "$CARGO_TARGET_DIR/release/dsaudit" --seed {{seed}}

# Shift findings (S001, S002) on real tables and images: false alarms on random halves
# of untouched data and recall on shifts injected into one half, within a dataset's
# splits and against a saved profile (`--against`), in a throwaway virtual
# environment. A few minutes; not part of CI.
eval-shift seeds="10":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build -q --release --no-default-features --bin dsaudit
    venv=$(mktemp -d)
    trap 'rm -rf "$venv"' EXIT
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q numpy scikit-learn pillow
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F); $(git describe --always --dirty)"
    "$venv/bin/python" tests/reference/shift_eval.py "$CARGO_TARGET_DIR/release/dsaudit" --seeds {{seeds}}

# Label errors on real data with injected flips (scikit-learn's digits upscaled to
# 32x32, scikit-image's LFW faces and crops of its photographs, the wine and
# breast-cancer tables; 10% of train flipped, 5 seeds), this
# tree's binary against another revision's and cleanlab's pixel/column baseline, in a
# throwaway virtual environment; then the labels phase on 100,000 images, both
# binaries (issue 26). A few minutes; not part of CI.
eval-labels rev:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --bin dsaudit --example gen_data
    dir=$(mktemp -d)
    trap 'git worktree remove --force "$dir/wt" 2>/dev/null || true; rm -rf "$dir"' EXIT
    cp "$CARGO_TARGET_DIR/release/dsaudit" "$dir/new"
    git worktree add -q "$dir/wt" {{rev}}
    (cd "$dir/wt" && cargo build -q --release --bin dsaudit && cp "$CARGO_TARGET_DIR/release/dsaudit" "$dir/old")
    cargo build -q --release --bin dsaudit
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install -q numpy pandas scikit-learn scikit-image pillow cleanlab
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
    "$dir/venv/bin/python" tests/reference/labels_eval.py "$dir/old" "$dir/new" --seeds 5
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir/busy" 100000 10 > /dev/null
    for b in old new old new; do
        "$dir/$b" scan -q --timings --fail-on never --format json "$dir/busy/images" 2>&1 > /dev/null \
            | awk -v b=$b '/^timing labels / { print "labels phase, 100,000 images, " b ": " $3 " s" }'
    done

# The label CNN (`--label-model cnn`): 5-fold out-of-fold probabilities on N 28x28
# digit images (scikit-learn's real digits at random offsets, see
# tests/reference/digits28.py), on whatever adapter wgpu picks (the CPU here).
bench-label-cnn images="10000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --bin dsaudit
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install -q numpy scikit-learn pillow
    "$dir/venv/bin/python" tests/reference/digits28.py "$dir/data" {{images}}
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
    /usr/bin/time -f "whole scan: %e s, peak %M KB" "$CARGO_TARGET_DIR/release/dsaudit" scan -q --timings \
        --fail-on never --label-model cnn --format json "$dir/data" 2>"$dir/err" > "$dir/report.json"
    grep -E "probabilities|whole scan" "$dir/err"
    python3 -c 'import json, sys; l = json.load(open(sys.argv[1]))["datasets"][0]["labels"]; print(l["probabilities"]); print("out-of-fold accuracy", l["accuracy"], "flagged", l["issues"])' "$dir/report.json"

# The duplicate phase of this tree against another revision's, on the same data in one
# run (3 interleaved runs each, median of `--timings`' duplicate phase): IMAGES busy
# scenes as `just bench` draws them, and ALIKE pictures of one centred shape each (the
# worst case: their hashes crowd together); the peak memory of a whole scan of the
# busy scenes, where GNU time is installed; then both binaries through the real-image
# evaluation (`eval-duplicates`), given a python3 with numpy, scikit-learn,
# scikit-image and pillow.
bench-duplicates rev images="100000" alike="70000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --bin dsaudit --example gen_data
    dir=$(mktemp -d)
    trap 'git worktree remove --force "$dir/wt" 2>/dev/null || true; rm -rf "$dir"' EXIT
    cp "$CARGO_TARGET_DIR/release/dsaudit" "$dir/new"
    git worktree add -q "$dir/wt" {{rev}}
    (cd "$dir/wt" && cargo build -q --release --bin dsaudit && cp "$CARGO_TARGET_DIR/release/dsaudit" "$dir/old")
    cargo build -q --release --bin dsaudit # restore this tree's binary in the shared target dir
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir/busy" {{images}} 10 > /dev/null
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir/alike" {{alike}} 10 alike > /dev/null
    for set in busy alike; do
        for i in 1 2 3; do
            for b in old new; do
                "$dir/$b" scan -q --timings --fail-on never --select D --format json "$dir/$set/images" 2> "$dir/err" > "$dir/$set.$b.json"
                awk -v b=$b '/^timing duplicates / { print b, $3 }' "$dir/err" >> "$dir/$set.times"
            done
        done
        count=$(find "$dir/$set/images" -name "*.png" | wc -l)
        sort -k1,1 -k2,2n "$dir/$set.times" | awk -v t="$set" -v n="$count" '{v[$1]=v[$1]" "$2; k[$1]++; a[$1, k[$1]]=$2}
            END { printf "%-6s %d images, duplicate phase  {{rev}}:%s  new:%s  median %.2f s -> %.2f s\n", t, n, v["old"], v["new"], a["old", 2], a["new", 2] }'
        for b in old new; do
            python3 tests/reference/duplicates_eval.py --clusters "$dir/$set.$b.json" "$set $b"
        done
    done
    if [ -x /usr/bin/time ]; then
        for b in old new; do
            /usr/bin/time -f "peak memory, whole scan of the busy scenes, $b: %M KiB" \
                "$dir/$b" scan -q --fail-on never --format json "$dir/busy/images" > /dev/null
        done
    fi
    for b in old new; do
        echo "== eval-duplicates with $b"
        python3 tests/reference/duplicates_eval.py "$dir/$b" | grep -v '^   timing'
    done

# dsaudit's label-error detection against cleanlab + scikit-learn on the same files
# (identical flags from identical probabilities; precision, recall, F1; then the speed
# on a rows x 64 table, 5 interleaved runs), in a throwaway virtual environment; about
# 6 minutes; not part of CI.
compare-cleanlab rows="100000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --bin dsaudit
    venv=$(mktemp -d)
    trap 'rm -rf "$venv"' EXIT
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q cleanlab scikit-learn pandas pillow
    "$venv/bin/python" tests/reference/cleanlab_compare.py "$CARGO_TARGET_DIR/release/dsaudit" --bench-rows {{rows}}

# Instructions executed by a scan and by a cold check of the same images, counted by
# callgrind: a measure of the work a cold check adds that this noisy machine's speed
# does not move. Needs valgrind (Debian: valgrind); about 25 minutes at 10,000 images.
bench-check-instructions images="10000":
    #!/usr/bin/env bash
    set -euo pipefail
    command -v valgrind > /dev/null || { echo "bench-check-instructions needs valgrind" >&2; exit 1; }
    cargo build --release --bin dsaudit --example gen_data
    bin="$CARGO_TARGET_DIR/release/dsaudit"
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir" {{images}} 10
    count() { valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" "$@" 2>&1 > /dev/null | awk '/Collected :/ { print $NF }'; }
    scan=$(count "$bin" scan -q --fail-on never "$dir/images")
    cold=$(count "$bin" check -q --fail-on never "$dir/images" --cache-dir "$dir/cache")
    awk -v s="$scan" -v c="$cold" -v n={{images}} 'BEGIN { printf "%d images: scan %.3f G instructions, cold check %.3f G (%+.2f%%)\n", n, s / 1e9, c / 1e9, 100 * (c / s - 1) }'

# dsaudit check on the 100,000-image set: cold (no cache), an unchanged re-check (the
# stored output), the same files under another command line (every image from the
# per-file cache, the dataset-level checks run), and re-checks after touching 100 files
# (same bytes, new time) and after rewriting 100 files (new content).
bench-check images="100000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --bin dsaudit --example gen_data
    bin="$CARGO_TARGET_DIR/release/dsaudit"
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    echo "generating {{images}} images in $dir"
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir" {{images}} 10
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    data="$dir/images"
    "$bin" scan -q --fail-on never "$data" >/dev/null # warm the page cache
    timed() {
        local name="$1"; shift
        /usr/bin/time -f '%e %M' -o "$dir/time" "$bin" check -q --timings --fail-on never "$@" > /dev/null 2> "$dir/err"
        read -r secs kib < "$dir/time"
        local cache=$(grep -h '^cache:' "$dir/err" | sed 's/^cache: //' | tr '\n' ' ')
        printf '%-40s %6.2f s  peak %5.0f MiB  %s\n' "$name" "$secs" "$((kib / 1024))" "$cache"
    }
    # A cold check against the scan: 9 interleaved pairs (the machine is noisy), each
    # pair in the other order than the last, and `sync` before every run, so that no
    # run pays for writing back the last one's cache files. Medians of the wall times,
    # and the medians of the pairs' ratios, wall and CPU (user + system), which a slow
    # minute shifts less than either median.
    scan() { /usr/bin/time -f '%e %U %S' -a -o "$dir/scan.times" "$bin" scan -q --fail-on never "$data" > /dev/null; }
    cold() { rm -rf "$dir/cold"; /usr/bin/time -f '%e %U %S' -a -o "$dir/cold.times" "$bin" check -q --fail-on never "$data" --cache-dir "$dir/cold" > /dev/null; }
    for i in 1 2 3 4 5 6 7 8 9; do
        if (( i % 2 )); then sync; scan; sync; cold; else sync; cold; sync; scan; fi
    done
    median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
    walls() { awk '{ printf "%s ", $1 }' "$1"; }
    ratios() { # wall and CPU ratios of each pair of lines of $1 and $2
        paste "$1" "$2" | awk '{ printf "%.4f\n", $1 / $4 }' > "$dir/wall.ratios"
        paste "$1" "$2" | awk '{ printf "%.4f\n", ($2 + $3) / ($5 + $6) }' > "$dir/cpu.ratios"
    }
    printf '%-48s %6.2f s  (runs: %s)\n' "scan (median of 9)" "$(median "$dir/scan.times")" "$(walls "$dir/scan.times")"
    printf '%-48s %6.2f s  (runs: %s)\n' "cold check (median of 9, interleaved)" "$(median "$dir/cold.times")" "$(walls "$dir/cold.times")"
    ratios "$dir/cold.times" "$dir/scan.times"
    printf '%-48s %6.3f    (pairs: %s)\n' "cold check / scan, wall (median of 9 pairs)" "$(median "$dir/wall.ratios")" "$(walls "$dir/wall.ratios")"
    printf '%-48s %6.3f    (pairs: %s)\n' "cold check / scan, CPU (median of 9 pairs)" "$(median "$dir/cpu.ratios")" "$(walls "$dir/cpu.ratios")"
    # The same comparison with the machine's drift taken out: the scan and a cold
    # check started together, five times. Both share the machine second by second,
    # so the ratio of their CPU seconds is the ratio of their work, whatever the
    # machine's speed that minute.
    for i in 1 2 3 4 5; do
        rm -rf "$dir/both"; sync
        /usr/bin/time -f '%e %U %S' -a -o "$dir/both.scan" "$bin" scan -q --fail-on never "$data" > /dev/null &
        /usr/bin/time -f '%e %U %S' -a -o "$dir/both.cold" "$bin" check -q --fail-on never "$data" --cache-dir "$dir/both" > /dev/null &
        wait
    done
    ratios "$dir/both.cold" "$dir/both.scan"
    printf '%-48s %6.3f    (pairs: %s)\n' "cold check / scan run together, CPU (median of 5)" "$(median "$dir/cpu.ratios")" "$(walls "$dir/cpu.ratios")"
    printf '%-48s %6.3f    (pairs: %s)\n' "cold check / scan run together, wall (median of 5)" "$(median "$dir/wall.ratios")" "$(walls "$dir/wall.ratios")"
    timed "cold check (empty cache)" "$data" --cache-dir "$dir/cache"
    timed "re-check, nothing changed" "$data" --cache-dir "$dir/cache"
    timed "re-check, nothing changed (again)" "$data" --cache-dir "$dir/cache"
    timed "another command line, files cached" "$data" --cache-dir "$dir/cache" --format json
    # 100 files with the same bytes and a new time, then 100 with new content.
    find "$data/train" -name '*.png' | sort | awk 'NR <= 100' > "$dir/changed"
    sleep 1
    xargs touch < "$dir/changed"
    timed "re-check, 100 files touched" "$data" --cache-dir "$dir/cache"
    paste -d' ' "$dir/changed" <(tail -n +2 "$dir/changed"; head -1 "$dir/changed") | while read -r a b; do cp "$b" "$a.new"; done
    while read -r a; do mv "$a.new" "$a"; done < "$dir/changed"
    timed "re-check, 100 files rewritten" "$data" --cache-dir "$dir/cache"

# The Python package against the CLI on the same machine, in one run (issue 28): the
# time of `dsaudit.scan` over `dsaudit scan` on IMAGES generated images (target within
# 5%), and `Report.manifest()` of a ROWS-row table (target < 0.5 s). Release builds of
# both, the wheel installed into a temporary virtual environment.
bench-python images="100000" rows="1000000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --no-default-features --bin dsaudit --example gen_data
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install -q --upgrade pip
    "$dir/venv/bin/pip" install -q . pyarrow
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir/data" {{images}} {{rows}}
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
    "$dir/venv/bin/python" crates/dsaudit-py/bench/bench_python.py "$CARGO_TARGET_DIR/release/dsaudit" "$dir/data/images" "$dir/data/table.csv"

# `pip install .` from a clean clone into a fresh virtual environment and an empty
# target directory, timed (issue 28's target: < 10 min on the 2-core machine).
bench-pip-install:
    #!/usr/bin/env bash
    set -euo pipefail
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    git clone -q . "$dir/clone"
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install -q --upgrade pip
    cargo fetch -q --manifest-path "$dir/clone/Cargo.toml"
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(rustc --version); $(date -u +%F)"
    start=$(date +%s)
    CARGO_TARGET_DIR="$dir/target" "$dir/venv/bin/pip" install -q "$dir/clone"
    secs=$(( $(date +%s) - start ))
    wheel=$(du -k "$dir/venv/lib"/python3*/site-packages/dsaudit/_native*.so | cut -f1)
    awk -v s="$secs" -v k="$wheel" 'BEGIN { printf "pip install . (clean): %d min %02d s, extension %.1f MB\n", s / 60, s % 60, k / 1000 }'

# One generated image dataset (IMAGES 32x32 PNGs, 80/20 train/test) stored as an image
# folder, as Hugging Face Parquet shards and as WebDataset tar shards by the fixture
# scripts, scanned by the scan-only release binary in one run, interleaved, medians of
# 3 (issue 31's target: the shard formats at >= 90% of the folder's throughput).
bench-formats images="100000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --no-default-features --bin dsaudit --example gen_data
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install -q pyarrow
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir/data" {{images}} 10
    "$dir/venv/bin/python" tests/reference/hf_parquet_fixture.py "$dir/data/images" "$dir/hf"
    python3 tests/reference/webdataset_fixture.py "$dir/data/images" "$dir/wds"
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
    du -sh "$dir/data/images" "$dir/hf" "$dir/wds"
    python3 scripts/bench_formats.py "$CARGO_TARGET_DIR/release/dsaudit" "$dir/data/images" "$dir/hf" "$dir/wds"

# Photos beside the peers (issue 30), in one run: N photo-like 640x480 JPEGs
# (scripts/photos.py, crops of scikit-learn's two sample photographs), then on that
# folder the plain decode limit (examples/decode_limit.rs), dsaudit's full scan, and
# cleanvision and fastdup from PyPI in a throwaway venv. Never in CI.
bench-peers images="10000" runs="3":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --no-default-features --bin dsaudit --example decode_limit
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install -q scikit-learn pillow cleanvision fastdup
    "$dir/venv/bin/python" scripts/photos.py {{images}} "$dir/photos"
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F); $("$dir/venv/bin/pip" list 2>/dev/null | grep -Ei '^(cleanvision|fastdup) ' | tr -s ' ' | paste -sd ' ')"
    du -sh "$dir/photos"
    python3 scripts/bench_peers.py "$CARGO_TARGET_DIR/release/dsaudit" "$CARGO_TARGET_DIR/release/examples/decode_limit" "$dir/photos" "$dir/venv/bin/python" {{runs}}

# The plain decode limit of FOLDER (read + BLAKE3 + full decode on every core) beside
# dsaudit's full scan of it, medians of RUNS in one run; without FOLDER, N photos as
# bench-peers makes them.
bench-limit folder="" images="10000" runs="3":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --no-default-features --bin dsaudit --example decode_limit
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    data="{{folder}}"
    if [ -z "$data" ]; then
        python3 -m venv "$dir/venv"
        "$dir/venv/bin/pip" install -q scikit-learn pillow
        "$dir/venv/bin/python" scripts/photos.py {{images}} "$dir/photos"
        data="$dir/photos"
    fi
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
    "$CARGO_TARGET_DIR/release/examples/decode_limit" "$data" {{runs}}
    for i in $(seq {{runs}}); do /usr/bin/time -f "dsaudit scan: %e s, peak %M KiB" "$CARGO_TARGET_DIR/release/dsaudit" scan -q --fail-on never --format json "$data" >/dev/null; done

# What decoding JPEGs at 1/2, 1/4, 1/8 scale in the DCT domain would save and change
# (issue 30, examples/jpeg_scaling.rs): decode time beside today's full decode, and the
# quality rules' verdicts that move, on N of bench-peers' photos and on the real
# photographs scikit-image bundles.
bench-jpeg-scaling images="1000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --no-default-features --example jpeg_scaling
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install -q scikit-learn scikit-image pillow
    "$dir/venv/bin/python" scripts/photos.py {{images}} "$dir/photos"
    "$dir/venv/bin/python" scripts/skimage_photos.py "$dir/skimage"
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
    "$CARGO_TARGET_DIR/release/examples/jpeg_scaling" "$dir/photos" {{images}}
    "$CARGO_TARGET_DIR/release/examples/jpeg_scaling" "$dir/skimage" 100

# Issue 29: dsaudit.spark.scan on Spark local[2] (pyspark from PyPI, the machine's Java
# 17) against `dsaudit scan` on the same 100,000-image folder read with binaryFile, in a
# throwaway venv (never in CI): wall times, the ratio, Spark's own reading time, and
# whether the findings are identical.
bench-spark images="100000" partitions="8":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --no-default-features --bin dsaudit --example gen_data
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install -q --upgrade pip
    "$dir/venv/bin/pip" install -q . "pyspark[sql]"
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir/data" {{images}} 10 >/dev/null
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(java -version 2>&1 | head -1); $(date -u +%F)"
    "$dir/venv/bin/python" crates/dsaudit-py/bench/bench_spark.py "$CARGO_TARGET_DIR/release/dsaudit" "$dir/data/images" {{partitions}}

# Issue 29: the 1,000,000-row table of `just bench` scanned whole, then as PARTS partial
# scans of the file (blocks dealt to the parts) and their merge: CPU of each, the
# parts' bytes per row, and whether the findings (with their rows) are the scan's.
bench-partial-table rows="1000000" parts="4":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --no-default-features --bin dsaudit --example gen_data
    bin="$CARGO_TARGET_DIR/release/dsaudit"
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    mkdir "$dir/data" "$dir/parts"
    "$CARGO_TARGET_DIR/release/examples/gen_data" table "$dir/data/table.csv" {{rows}}
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
    "$bin" scan -q --fail-on never "$dir/data/table.csv" >/dev/null
    cpu() { awk '{ printf "%.2f", $2 + $3 }' "$1"; }
    /usr/bin/time -f '%e %U %S %M' -o "$dir/t" "$bin" scan -q --fail-on never --format json --max-samples 100000 "$dir/data/table.csv" > "$dir/scan.json"
    whole=$(cpu "$dir/t"); read -r wall _ _ kib < "$dir/t"
    echo "scan             wall $wall s  cpu $whole s  peak $(( kib / 1024 )) MiB"
    total=0
    for k in $(seq 1 {{parts}}); do
        /usr/bin/time -f '%e %U %S %M' -o "$dir/t" "$bin" partial -q "$dir/data/table.csv" --shard "$k/{{parts}}" -o "$dir/parts/part$k.dsp"
        c=$(cpu "$dir/t"); read -r wall _ _ kib < "$dir/t"
        total=$(awk -v a="$total" -v b="$c" 'BEGIN { print a + b }')
        echo "partial $k/{{parts}}      wall $wall s  cpu $c s  peak $(( kib / 1024 )) MiB  $(stat -c %s "$dir/parts/part$k.dsp") bytes"
    done
    /usr/bin/time -f '%e %U %S %M' -o "$dir/t" "$bin" merge "$dir"/parts/*.dsp -q --timings --fail-on never --format json --max-samples 100000 > "$dir/merge.json" 2> "$dir/phases"
    c=$(cpu "$dir/t"); read -r wall _ _ kib < "$dir/t"
    total=$(awk -v a="$total" -v b="$c" 'BEGIN { print a + b }')
    read_parts=$(awk '/^timing merge / { print $3 }' "$dir/phases")
    echo "merge            wall $wall s  cpu $c s  peak $(( kib / 1024 )) MiB  (reading and merging the parts $read_parts s, the stages and rules after)"
    bytes=$(cat "$dir"/parts/*.dsp | wc -c)
    awk -v a="$total" -v w="$whole" -v b="$bytes" -v n={{rows}} 'BEGIN { printf "parts + merge cpu %.2f s = %.3f x the scan'"'"'s; partial state %.1f bytes per row\n", a, a / w, b / n }'
    python3 -c 'import json,sys; f=lambda p: [(x["code"], x["message"], x["samples"]) for x in json.load(open(p))["datasets"][0]["findings"]]; print("findings identical:", f(sys.argv[1]) == f(sys.argv[2]))' "$dir/scan.json" "$dir/merge.json"

# Issue 29: the same on the 1,000,000-row table of `just bench` (a CSV of ROWS rows read
# by Spark in PARTITIONS splits of the file): the CLI's scan against dsaudit.spark.scan,
# Spark alone reading the CSV, the parts' bytes per row, the findings compared.
bench-spark-table rows="1000000" partitions="8":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --no-default-features --bin dsaudit --example gen_data
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install -q --upgrade pip
    "$dir/venv/bin/pip" install -q . "pyspark[sql]"
    "$CARGO_TARGET_DIR/release/examples/gen_data" table "$dir/table.csv" {{rows}}
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(java -version 2>&1 | head -1); $(date -u +%F)"
    "$dir/venv/bin/python" crates/dsaudit-py/bench/bench_spark.py "$CARGO_TARGET_DIR/release/dsaudit" "$dir/table.csv" {{partitions}}

# Issue 29: the 100,000-image benchmark scanned whole, then as PARTS partial scans (one
# after another, as separate machines would) and their merge, twice: each part walking
# the dataset (--shard K/N), then the parts made from a plan written once (--plan-for
# N, then --plan PLAN --shard K/N; the plan's CPU counted with the parts'). CPU time
# (user + sys) of each, the merge's own wall time split into reading the parts and the
# stages after, the partial state's bytes per image, and whether the JSON reports are
# identical to the scan's.
bench-partial images="100000" parts="4":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --no-default-features --bin dsaudit --example gen_data --example dsp_bytes
    bin="$CARGO_TARGET_DIR/release/dsaudit"
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    "$CARGO_TARGET_DIR/release/examples/gen_data" bench "$dir" {{images}} 10 >/dev/null
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
    "$bin" scan -q --fail-on never "$dir/images" >/dev/null
    cpu() { awk '{ printf "%.2f", $2 + $3 }' "$1"; }
    /usr/bin/time -f '%e %U %S %M' -o "$dir/t" "$bin" scan -q --fail-on never --format json "$dir/images" > "$dir/scan.json"
    whole=$(cpu "$dir/t"); read -r wall _ _ kib < "$dir/t"
    echo "scan             wall $wall s  cpu $whole s  peak $(( kib / 1024 )) MiB"
    # in_parts NAME ARGS...: the parts (each run with ARGS --shard K/N) and their merge.
    in_parts() {
        local name=$1 total=$2; shift 2
        rm -rf "$dir/parts"; mkdir "$dir/parts"
        for k in $(seq 1 {{parts}}); do
            /usr/bin/time -f '%e %U %S %M' -o "$dir/t" "$bin" partial -q "$dir/images" "$@" --shard "$k/{{parts}}" -o "$dir/parts/part$k.dsp"
            c=$(cpu "$dir/t"); read -r wall _ _ kib < "$dir/t"
            total=$(awk -v a="$total" -v b="$c" 'BEGIN { print a + b }')
            echo "partial $k/{{parts}}      wall $wall s  cpu $c s  peak $(( kib / 1024 )) MiB  $(stat -c %s "$dir/parts/part$k.dsp") bytes"
        done
        /usr/bin/time -f '%e %U %S %M' -o "$dir/t" "$bin" merge "$dir"/parts/*.dsp -q --timings --fail-on never --format json > "$dir/merge.json" 2> "$dir/phases"
        c=$(cpu "$dir/t"); read -r wall _ _ kib < "$dir/t"
        total=$(awk -v a="$total" -v b="$c" 'BEGIN { print a + b }')
        read_parts=$(awk '/^timing merge / { print $3 }' "$dir/phases")
        echo "merge            wall $wall s  cpu $c s  peak $(( kib / 1024 )) MiB  (reading and merging the parts $read_parts s, the stages and rules after)"
        bytes=$(cat "$dir"/parts/*.dsp | wc -c)
        awk -v a="$total" -v w="$whole" -v b="$bytes" -v n={{images}} -v name="$name" 'BEGIN { printf "%s: parts + merge cpu %.2f s = %.3f x the scan'"'"'s; partial state %.0f bytes per image\n", name, a, a / w, b / n }'
        cmp -s "$dir/scan.json" "$dir/merge.json" && echo "reports: identical" || echo "reports: DIFFER"
    }
    in_parts "each part walking" 0
    /usr/bin/time -f '%e %U %S %M' -o "$dir/t" "$bin" partial "$dir/images" --plan-for {{parts}} -o "$dir/plan.dsp"
    plan=$(cpu "$dir/t"); read -r wall _ _ kib < "$dir/t"
    echo "plan             wall $wall s  cpu $plan s  peak $(( kib / 1024 )) MiB  $(stat -c %s "$dir/plan.dsp") bytes"
    in_parts "from a plan (its cpu counted)" "$plan" --plan "$dir/plan.dsp"
    # What the parts' bytes are spent on, field by field.
    "$CARGO_TARGET_DIR/release/examples/dsp_bytes" "$dir"/parts/*.dsp

# Clean-build cost (issue 27): a clean release build of the scan-only binary
# (--no-default-features: no burn, no wgpu) and of the full one, and `cargo test` of
# the core crate alone, each in a fresh target directory, with the binaries' sizes.
# Dependencies are fetched first, so the figures are compile time only.
bench-build which="scan-only full core-test":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo fetch -q
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(rustc --version); $(date -u +%F)"
    for what in {{which}}; do
        dir=$(mktemp -d)
        case "$what" in
            scan-only) cmd=(cargo build -q --release --no-default-features --bin dsaudit) ;;
            full) cmd=(cargo build -q --release --bin dsaudit) ;;
            core-test) cmd=(cargo test -q -p dsaudit-core) ;;
            *) echo "unknown: $what (scan-only, full, core-test)"; exit 2 ;;
        esac
        start=$(date +%s)
        CARGO_TARGET_DIR="$dir" "${cmd[@]}" >"$dir.log" 2>&1 || { tail -20 "$dir.log"; exit 1; }
        secs=$(( $(date +%s) - start ))
        size=""
        [ -f "$dir/release/dsaudit" ] && size=$(stat -c %s "$dir/release/dsaudit" | awk '{ printf "  binary %.1f MB", $1 / 1e6 }')
        printf "%-10s clean %2d min %02d s%s\n" "$what" $(( secs / 60 )) $(( secs % 60 )) "$size"
        rm -rf "$dir" "$dir.log"
    done

# Fuzz every loader for SECONDS each (cargo fuzz, on the nightly toolchain; two
# targets at a time), seeded from sample_data/ and a `dsaudit check` cache. Crashers
# land in fuzz/artifacts/<target>/; minimise one with `cargo +nightly fuzz tmin`, then
# commit it under fuzz/regressions/<target>/ (crates/dsaudit-core/tests/fuzz_regressions.rs
# replays them in every test run). Needs `cargo install cargo-fuzz`.
fuzz seconds="600" targets="image csv parquet ipc ndjson npy labels config cache_record hf_parquet webdataset coco yolo dsp":
    #!/usr/bin/env bash
    set -euo pipefail
    corpus=$(mktemp -d)
    trap 'rm -rf "$corpus"' EXIT
    cargo run -q --example fuzz_seeds -- . "$corpus"
    # The cache's seeds: the files of a real check of the sample data.
    cargo run -q -- check sample_data/images --cache-dir "$corpus/.cache" -q --fail-on never >/dev/null
    # The partial scan's seeds: the bodies of two real parts, after their header (16
    # magic bytes, the format, the version's length at offset 20, the version).
    mkdir -p "$corpus/dsp"
    for k in 1 2; do
        cargo run -q -- partial sample_data/images --shard "$k/2" -qo "$corpus/part$k.dsp"
        skip=$(( 24 + $(od -An -tu4 -j20 -N4 "$corpus/part$k.dsp") ))
        tail -c +$(( skip + 1 )) "$corpus/part$k.dsp" > "$corpus/dsp/part$k"
    done
    export CARGO_TARGET_DIR="${CARGO_FUZZ_TARGET_DIR:-$HOME/.cache/dsaudit-fuzz-target}"
    cd fuzz
    cargo +nightly fuzz build -s none
    mkdir -p "$corpus/cache_record"
    find "$corpus/.cache" -name '*.bin' -exec cp {} "$corpus/cache_record/" \;

    for t in {{targets}}; do mkdir -p "$corpus/$t" "artifacts/$t"; done
    echo "machine: $(nproc) cores; {{seconds}} s per target"
    # Each target's libFuzzer log (kept where FUZZ_LOGS says, else dropped with the corpus).
    logs="${FUZZ_LOGS:-$corpus}"
    mkdir -p "$logs"
    printf '%s\n' {{targets}} | xargs -P 2 -I{} sh -c \
        'cargo +nightly fuzz run -s none {} "$0/{}" -- -max_total_time={{seconds}} -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 > "$1/{}.log" 2>&1; echo "{}: exit $?, $(grep -o "stat::number_of_executed_units: *[0-9]*" "$1/{}.log" | grep -o "[0-9]*$") runs, corpus $(ls "$0/{}" | wc -l), $(ls "artifacts/{}" | wc -l) crashers"' "$corpus" "$logs"

# Every bad input of issue 32 over every command, with a deadline, peak memory and a
# check that nothing is written inside the dataset (docs/reliability.md).
bad-inputs:
    cargo build --release --bin dsaudit
    python3 scripts/bad_inputs.py "$CARGO_TARGET_DIR/release/dsaudit"

# kill -9 during split, clean and check's cache write, N times each (docs/reliability.md).
faults n="50":
    cargo build --release --bin dsaudit --example gen_data
    scripts/faults.sh "$CARGO_TARGET_DIR/release/dsaudit" {{n}}
