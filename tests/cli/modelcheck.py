"""Helpers for the model_/predict_/eval_/holdout_/cv_ CLI cases (check.py files).
Run from tests/cli/data; CSVREG is the program."""
import csv
import io
import json
import os
import subprocess
import sys

CSVREG = os.environ.get("CSVREG", "csvreg")
REF = json.load(open("model_ref.json"))
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def rel_close(got, want, tol, what):
    if want is None or got is None:
        if got != want:
            fail(f"{what}: got {got}, want {want}")
        return
    err = abs(got - want) / max(abs(want), 1e-300)
    if err > tol:
        fail(f"{what}: got {got!r}, want {want!r} (relative error {err:.3g} > {tol})")


def run(*args, **kw):
    return subprocess.run([CSVREG, *args], capture_output=True, text=True, **kw)


def read_csv(path_or_text, text=False):
    f = io.StringIO(path_or_text) if text else open(path_or_text, newline="")
    return list(csv.reader(f))


def check_eval(got, want, weighted):
    """csvreg eval's JSON against a reference from gen_model_ref.py, 1e-12 relative."""
    for k in ("n", "n_zero_y"):
        if got[k] != want[k]:
            fail(f"{k}: {got[k]} != {want[k]}")
    for k in ("mse", "rmse", "mae", "mape", "max_error", "mean_error", "r_squared",
              "explained_variance"):
        rel_close(got[k], want[k], 1e-12, k)
    if got["weighted"] is not weighted or got["target"] != "y":
        fail("weighted/target")


def finish():
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    sys.exit(0)


# R runs in the C collation: factor levels sort by bytes, as csvreg sorts them.
R_ENV = dict(os.environ, LC_ALL="C", LC_COLLATE="C")


def require_r(what="R's lm"):
    """Rscript's path. A missing R fails the case (CI installs r-base-core)."""
    import shutil
    rscript = shutil.which("Rscript")
    if not rscript:
        fail(f"Rscript not found: this case compares with {what} (Debian r-base-core)")
        finish()
    return rscript


def R(code):
    """Runs R code (Rscript -e) in R_ENV and returns its stdout; R's failure fails the case."""
    r = subprocess.run([require_r(), "-e", code], capture_output=True, text=True, env=R_ENV)
    if r.returncode:
        fail(f"R: {r.stderr}")
    return r.stdout


def r_lm_coefs(csv, formula, prep="", lm_args="", read_args=""):
    """R's lm on `csv` (read.csv with stringsAsFactors = TRUE, then `prep`, R
    code that may change d; `lm_args` and `read_args` are added to the calls,
    e.g. ", weights = w"): ([(name, estimate, std_error)], (sigma, R^2)) with
    None for an aliased (NA) term's numbers, in R's term order."""
    out = R(f"""
d <- read.csv("{csv}", stringsAsFactors = TRUE{read_args})
{prep}
m <- lm({formula}, d{lm_args}); s <- summary(m); b <- coef(m); cf <- coef(s)
for (n in names(b)) {{
  if (is.na(b[[n]])) cat(sprintf("%s\\tNA\\tNA\\n", n))
  else cat(sprintf("%s\\t%.17g\\t%.17g\\n", n, cf[n, 1], cf[n, 2]))
}}
cat(sprintf("sigma\\t%.17g\\t%.17g\\n", s$sigma, s$r.squared))
""")
    rows = [line.split("\t") for line in out.strip().splitlines()]
    want = [(n, None if e == "NA" else float(e), None if se == "NA" else float(se))
            for n, e, se in rows if n != "sigma"]
    sigma = [(float(a), float(b)) for n, a, b in rows if n == "sigma"]
    return want, sigma[0] if sigma else (None, None)


def check_lm_terms(got, want, sigma, r2, tol, what):
    """A fit's JSON report against r_lm_coefs' answer: names in order, R's
    NA terms aliased, the others not, estimates, SEs, sigma and R^2 to tol."""
    names = [t["name"] for t in got["terms"]]
    if names != [n for n, _, _ in want]:
        fail(f"{what}: terms {names} != R's {[n for n, _, _ in want]}")
        return
    for t, (n, e, se) in zip(got["terms"], want):
        if e is None or t.get("aliased"):
            if e is not None or not t.get("aliased"):
                fail(f"{what}: {n} aliased here {t.get('aliased')}, R {e}")
            continue
        rel_close(t["estimate"], e, tol, f"{what}: {n} estimate")
        rel_close(t["std_error"], se, tol, f"{what}: {n} std_error")
    rel_close(got["residual_sd"], sigma, tol, f"{what}: sigma")
    rel_close(got["r_squared"], r2, tol, f"{what}: r_squared")


def same_fit(got, want, tol, what):
    """Two fit --format json reports of one formula: term names in order,
    estimates, SEs, sigma, R^2 and n to tol, the same factors' levels."""
    if got is None or want is None:
        return
    gn, wn = [t["name"] for t in got["terms"]], [t["name"] for t in want["terms"]]
    if gn != wn:
        fail(f"{what}: terms {gn} != {wn}")
        return
    for t, u in zip(got["terms"], want["terms"]):
        rel_close(t["estimate"], u["estimate"], tol, f"{what}: {t['name']} estimate")
        rel_close(t["std_error"], u["std_error"], tol, f"{what}: {t['name']} std_error")
    for k in ("residual_sd", "r_squared", "n"):
        rel_close(got[k], want[k], tol, f"{what}: {k}")
    if got.get("factors") != want.get("factors"):
        fail(f"{what}: factors {got.get('factors')} != {want.get('factors')}")


def splitmix64(z):
    m = (1 << 64) - 1
    z = (z + 0x9E3779B97F4A7C15) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return z ^ (z >> 31)


def split_uniform(record, seed):
    """csvreg_split_uniform: the record number counts the header as record 1."""
    return (splitmix64(splitmix64(seed) ^ record) >> 11) * 2.0**-53


def check_split(report, fit_args, parts, seed, fraction=None, k=None, tol=1e-9,
                data="model_gen.csv"):
    """Splits `data` by the same hash as fit --holdout/--cv, refits and evaluates
    each part with csvreg fit -o + eval, and compares with the one-pass report."""
    import tempfile
    rows = read_csv(data)
    header, body = rows[0], rows[1:]

    def part_of(i):
        u = split_uniform(i + 2, seed)
        if fraction is not None:
            return 1 if u < fraction else 0
        return min(int(u * k), k - 1)

    def write(path, sel):
        with open(path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            for i, r in enumerate(body):
                if sel(part_of(i)):
                    w.writerow(r)

    with tempfile.TemporaryDirectory() as tmp:
        tests = [(1, parts)] if fraction is not None else [(f, parts[f]) for f in range(k)]
        for f, want in tests:
            train, test, model = (os.path.join(tmp, n) for n in ("train.csv", "test.csv", "m.json"))
            if fraction is not None:
                write(train, lambda p: p == 0)
                write(test, lambda p: p == 1)
            else:
                write(train, lambda p, f=f: p != f)
                write(test, lambda p, f=f: p == f)
            r = run("fit", *fit_args, train, "-o", model, "--format", "json")
            if r.returncode != 0:
                fail(f"part {f}: fit failed: {r.stderr}")
                continue
            e = run("eval", "-m", model, test, "--format", "json")
            if e.returncode != 0:
                fail(f"part {f}: eval failed: {e.stderr}")
                continue
            ev = json.loads(e.stdout)
            if ev["n"] != want["n"]:
                fail(f"part {f}: n {want['n']} in one pass, {ev['n']} split")
            for key in ("mse", "rmse", "r_squared"):
                rel_close(want[key], ev[key], tol, f"part {f} {key}")
            if fraction is not None:
                full = json.loads(r.stdout)
                for t, u in zip(full["terms"], report["terms"]):
                    rel_close(u["estimate"], t["estimate"], 1e-12, f"training fit {t['name']}")


class Raw(str):
    """A number token of a model file, kept as written."""


def canon(v):
    """The checksum's canonical text (compact, sorted keys), as csvreg's."""
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canon(v[k])
                              for k in sorted(v)) + "}"
    if isinstance(v, list):
        return "[" + ",".join(canon(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def resealed(src, change, out):
    """The model file `src` changed by `change` (given the document, numbers
    as Raw tokens), its checksum recomputed, written to `out`: a member's own
    checks, not the checksum, must then refuse it."""
    import zlib
    doc = json.load(open(src, encoding="utf-8"), parse_float=Raw, parse_int=Raw)
    change(doc)
    doc.pop("checksum")
    doc["checksum"] = "crc32:%08x" % zlib.crc32(canon(doc).encode("utf-8"))
    open(out, "w", encoding="utf-8").write(canon(doc) + "\n")
    return out
