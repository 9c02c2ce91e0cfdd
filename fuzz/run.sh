#!/bin/sh
# fuzz/run.sh TARGET SECONDS - builds the libFuzzer targets in build-fuzz
# (clang-14, ASan + UBSan) and runs TARGET on fuzz/corpus/TARGET for SECONDS.
# New inputs go to build-fuzz/corpus/TARGET (the seed corpus is not touched);
# crashes to build-fuzz/crashes/TARGET/. Exit status: libFuzzer's. FUZZ_ARGS adds
# libFuzzer flags (CI passes -seed=1 so its short runs are repeatable).
set -eu
target=${1:?usage: fuzz/run.sh fuzz_reader|fuzz_numparse SECONDS}
seconds=${2:?usage: fuzz/run.sh TARGET SECONDS}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-fuzz
san="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSVREG_FUZZ=ON -DBUILD_TESTING=OFF \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" >/dev/null
cmake --build "$build" --target "$target" -j2 >/dev/null
mkdir -p "$build/corpus/$target" "$build/crashes/$target"
cd "$build/crashes/$target"
exec env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$build/fuzz/$target" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 ${FUZZ_ARGS:-} "$build/corpus/$target" "$root/fuzz/corpus/$target"
