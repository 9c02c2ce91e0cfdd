import json
import os
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# The sharded second pass (issue 13): fit --emit-state --vcov TYPE -m MODEL
# per shard, merge, solve -m MODEL equal the single process's fit --vcov to
# 1e-11 (HC1, HC3, one- and two-way clusters, weighted), whatever the
# shards of either pass; the provenance checks exit 3. (cmd: unused.)
import random

tmp = tempfile.mkdtemp()
data = os.path.join(tmp, "d.csv")
r = random.Random(13)
with open(data, "w") as f:
    f.write("x1,x2,g,h,w,y\n")
    for i in range(2500):
        a, b = r.gauss(0, 1), r.uniform(-3, 3)
        g, h = r.randrange(57), r.choice(["a", "b", "c", "d\"q", "e", "f", "g", "h"])
        w = r.choice([0.5, 1, 2, 3])
        y = 1 + 2 * a - b + r.gauss(0, 1 + abs(a)) + 0.3 * (g % 5)
        f.write('%r,%r,%d,"%s",%r,%r\n' % (a, b, g, h.replace('"', '""'), w, y))
size = os.path.getsize(data)


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                          env=dict(os.environ, C=CSVREG, D=data), cwd=tmp, **kw)


def compare(want, got, what):
    a, b = json.loads(want), json.loads(got)
    if a["n"] != b["n"] or a.get("vcov_type") != b.get("vcov_type"):
        fail(f"{what}: n or vcov_type differs")
        return
    worst = worst_p = 0.0
    for x, y in zip(a["terms"], b["terms"]):
        for k in ("estimate", "std_error"):
            if x[k] != y[k]:
                worst = max(worst, abs(x[k] - y[k]) / max(abs(x[k]), abs(y[k])))
        # a p value far in the tail moves more than its t (1e-28 by 1e-14)
        if x["p_value"] != y["p_value"]:
            worst_p = max(worst_p, abs(x["p_value"] - y["p_value"]) / abs(x["p_value"]))
    if not worst_p <= 1e-9:
        fail(f"{what}: p values differ by {worst_p:.3g} > 1e-9")
    fs = [a.get("f_statistic"), b.get("f_statistic")]
    if fs[0] != fs[1]:
        worst = max(worst, abs(fs[0] - fs[1]) / abs(fs[0]))
    print(f"{what}: worst relative difference {worst:.3g}")
    if not worst <= 1e-11:
        fail(f"{what}: {worst:.3g} > 1e-11")


cases = [("HC1", "", ""), ("HC3", "", "-w w"), ("cluster", "--cluster g", ""),
         ("cluster", "--cluster g,h", "-w w"), ("HC0", "", ""), ("HC2", "", "")]
for vcov, cl, wt in cases:
    model_args = f"-y y -x x1,x2 {wt}"
    one = sh(f'"$C" fit {model_args} --vcov {vcov} {cl} --format json "$D"')
    if one.returncode:
        fail(f"single {vcov} {cl}: {one.stderr}")
        continue
    sh("rm -f model*.json part*.meat")
    full = vcov in ("HC1", "cluster")
    for n1 in ((1, 3) if full else (3,)):
        # pass 1 in n1 ranges, solved to a model
        p1 = sh(f'for i in $(seq {n1}); do "$C" fit --emit-state {model_args} --range $i/{n1} '
                f'"$D"; done | "$C" merge --expect-bytes {size} | "$C" solve -o model{n1}.json '
                f'--format json')
        if p1.returncode:
            fail(f"pass 1 in {n1}: {p1.stderr}")
            continue
        for n2 in ((2, 3) if full else (3,)):
            p2 = sh(f'for i in $(seq {n2}); do "$C" fit --emit-state --vcov {vcov} {cl} '
                    f'-m model{n1}.json --range $i/{n2} "$D"; done | "$C" merge --expect-bytes '
                    f'{size} --expect-records 2500 | "$C" solve -m model{n1}.json --format json')
            if p2.returncode:
                fail(f"{vcov} {cl} {n1}x{n2}: exit {p2.returncode}: {p2.stderr}")
                continue
            compare(one.stdout, p2.stdout, f"{vcov} {cl} {wt}: pass 1 in {n1}, pass 2 in {n2}")
    # unmerged meat states go straight to solve too, in any order
    p2 = sh(f'for i in 3 1 2; do "$C" fit --emit-state --vcov {vcov} {cl} -m model3.json '
            f'--range $i/3 "$D" -o part$i.meat || exit 1; done; '
            f'"$C" solve -m model3.json part2.meat part3.meat part1.meat --format json')
    if p2.returncode:
        fail(f"{vcov} unmerged: {p2.stderr}")
    else:
        compare(one.stdout, p2.stdout, f"{vcov} {cl} {wt}: unmerged states")
    if shutil.which("parallel") and (vcov == "HC1" or "," in cl):
        p2 = sh(f'parallel --will-cite --halt now,fail=1 --pipepart -a "$D" --header : '
                f'--block -5 "$C" fit --emit-state --vcov {vcov} {cl} -m model3.json - '
                f'| "$C" merge --expect-bytes {size} | "$C" solve -m model3.json --format json')
        if p2.returncode:
            fail(f"{vcov} pipepart: {p2.stderr}")
        else:
            compare(one.stdout, p2.stdout, f"{vcov} {cl} {wt}: parallel --pipepart blocks")


# a formula's model (fit -o: transforms, a factor) drives the second pass too
F = "'y ~ x1 + log(abs(x2)) + h'"
one = sh(f'"$C" fit {F} --vcov cluster --cluster g,h --format json "$D"')
p2 = sh(f'"$C" fit {F} -o fmodel.json "$D" > /dev/null && for i in 1 2 3; do "$C" fit '
        f'--emit-state --vcov cluster --cluster g,h -m fmodel.json --range $i/3 "$D"; done '
        f'| "$C" solve -m fmodel.json --format json')
if one.returncode or p2.returncode:
    fail(f"formula: {one.stderr} {p2.stderr}")
else:
    compare(one.stdout, p2.stdout, "formula model, two-way clusters, 3 ranges")


def expect(cmd, code, pattern, what):
    p = sh(cmd)
    if p.returncode != code or pattern not in p.stderr:
        fail(f"{what}: exit {p.returncode} (want {code}), stderr {p.stderr!r}")


# provenance: states of another model, a shard twice, a shard missing
expect('"$C" fit -y y -x x1 "$D" -o other.json >/dev/null && '
       '"$C" fit --emit-state --vcov HC1 -m other.json --range 1/3 "$D" -o other1.meat && '
       '"$C" merge part2.meat part3.meat other1.meat', 3, "of the model", "merge: another model")
expect('"$C" solve -m other.json part1.meat part2.meat part3.meat', 3,
       "not of this model", "solve: another model")
expect('"$C" merge part1.meat part2.meat part2.meat part3.meat', 3, "a shard is duplicated",
       "merge: a range twice")
expect('"$C" solve -m model3.json part1.meat part3.meat', 3, "a shard of the second pass is missing",
       "solve: a range missing")
expect('"$C" merge --expect-bytes %d part1.meat part3.meat' % size, 3, "a shard is missing",
       "merge --expect-bytes: a range missing")
expect('"$C" merge --expect-records 2499 part1.meat part2.meat part3.meat', 3,
       "--expect-records 2499", "merge --expect-records")
# a streamed block delivered twice
expect('head -n 30 "$D" | "$C" fit --emit-state --vcov HC1 -m model3.json - > s.meat && '
       'cat s.meat s.meat | "$C" merge', 3, "the same streamed block", "merge: a block twice")
# kinds that do not belong together
expect('"$C" fit --emit-state -y y -x x1,x2 "$D" > acc.state && "$C" merge acc.state '
       'part1.meat', 6, "mixes accumulator states", "merge: a mix")
expect('"$C" solve part1.meat', 2, "need -m MODEL", "solve: meat without -m")
expect('"$C" solve -m model3.json acc.state', 2, "no meat state given", "solve -m: no meat")
expect('"$C" fit --emit-state --vcov HC1 -m model3.json --range 1/3 "$D" -o hc1.meat && '
       '"$C" merge hc1.meat part2.meat', 6, "covariance type", "merge: HC1 with HC2")
expect('sed "s/0x1/0x2/" part1.meat > bad.meat && "$C" merge bad.meat part2.meat', 6,
       "checksum mismatch", "merge: a damaged line")
expect('"$C" fit --vcov HC1 -m model3.json "$D"', 2, "needs --emit-state", "-m without state")
expect('"$C" fit --emit-state --vcov HC1 -m model3.json -y y "$D"', 2, "do not give them",
       "-m with -y")
expect('"$C" fit --emit-state -m model3.json "$D"', 2, "needs --emit-state and --vcov",
       "-m without --vcov")
expect('"$C" fit --emit-state --vcov cluster --cluster nope -m model3.json "$D"', 3,
       "nope", "-m: a cluster column missing")
expect('"$C" fit --emit-state --vcov cluster --cluster g --max-clusters 10 -m model3.json "$D"',
       3, "more than 10 clusters", "-m: --max-clusters")
expect('"$C" fit --emit-state --vcov cluster --cluster g,h --max-clusters 60 -m model3.json "$D"',
       3, "more than 60 clusters in the intersection", "-m: --max-clusters on the intersection")
shutil.rmtree(tmp)
finish()
