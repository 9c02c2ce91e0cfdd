#!/bin/sh
# big_pipe.sh CSVREG - more than 4 GiB of CSV through a pipe into `csvreg fit -`,
# with the rows counted exactly (no 32-bit byte or row counter anywhere on the
# path). A generator repeats one block of rows; the expected count is known.
# Run by CI outside ctest: 57 s with a Debug build on 2 vCPUs (4.30 GiB), see
# docs/limits.md. Exit 0 when the count and coefficients are right.
set -eu
csvreg=${1:?usage: big_pipe.sh CSVREG}
python=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

# 4400 MiB: 4400 blocks of 1 MiB, each holding the same complete rows.
"$python" - "$tmp/expect" >"$tmp/gen.py" <<'PY'
import sys
rows = []
i = 0
size = 0
while True:
    x1, x2 = i % 97, (i * 7) % 101
    line = f"{3 + 2 * x1 - 0.5 * x2 + (i % 3) * 0.25},{x1},{x2},{'abcdefghij' * 2}\n"
    if size + len(line) > 1 << 20:
        break
    rows.append(line)
    size += len(line)
    i += 1
block = "".join(rows).encode()
blocks = 4400
print(f"""import sys
block = {block!r}
out = sys.stdout.buffer
out.write(b"y,x1,x2,pad\\n")
for _ in range({blocks}):
    out.write(block)
""")
open(sys.argv[1], "w").write(f"{len(rows) * blocks} {len(block) * blocks + 12}\n")
PY
read -r rows bytes <"$tmp/expect"
start=$(date +%s)
"$python" "$tmp/gen.py" | OPENBLAS_NUM_THREADS=1 "$csvreg" fit -y y -x x1,x2 --format json --stats - \
  >"$tmp/out.json" 2>"$tmp/err"
end=$(date +%s)
"$python" - "$tmp/out.json" "$rows" "$bytes" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rows, nbytes = int(sys.argv[2]), int(sys.argv[3])
assert nbytes > 4 << 30, nbytes
assert r["n_read"] == rows and r["n"] == rows, (r["n_read"], r["n"], rows)
assert r["df_residual"] == rows - 3, r["df_residual"]
# The generator's rows cycle through y = 3 + 2 x1 - 0.5 x2 + {0, .25, .5}.
est = {t["name"]: t["estimate"] for t in r["terms"]}
assert abs(est["x1"] - 2) < 1e-3 and abs(est["x2"] + 0.5) < 1e-3, est
print(f"big_pipe: {rows} rows, {nbytes} bytes ({nbytes / 2**30:.2f} GiB) counted exactly")
PY
grep -E "bytes|rows" "$tmp/err" || true
echo "big_pipe: $((end - start)) s"
