"""Summarize the runs of bench/run.sh: medians, MB/s, peak RSS, ratios against csvreg,
agreement of the coefficients, the issue targets; print it and write it as markdown.

usage: report.py RUNS_DIR RESULTS_MD   (RUNS_DIR holds runs.tsv, meta.tsv, truth-*.txt)"""
import json
import os
import statistics
import sys

TOL_PEER = 1e-6  # relative, against csvreg (or R when csvreg is not available)
TOL_TRUE = 1e-2  # |est - true| / max(1, |true|): loose, catches swapped or missing columns
MAIN_TOOLS = ["cat", "wc", "csvreg", "csvreg-blas1", "csvreg-normal", "pandas", "R", "duckdb-1t", "duckdb"]
LABEL = {
    "cat": "cat > /dev/null",
    "wc": "wc -l",
    "csvreg": "csvreg fit (qr, default)",
    "csvreg-blas1": "csvreg fit, OPENBLAS_NUM_THREADS=1",
    "csvreg-normal": "csvreg fit --solver normal",
    "pandas": "pandas read_csv(chunksize) + numpy",
    "R": "R data.table::fread + lm",
    "duckdb-1t": "DuckDB read_csv + SQL sums, threads=1",
    "duckdb": "DuckDB read_csv + SQL sums, default threads",
}
SWEEP = [256, 512, 1024, 4096, 16384, 65536]
# Issue 5: "predict and eval in the same class as fit", as the largest wall time / csvreg fit's.
PE_TARGET = {"pe-csvreg-eval": 1.5, "pe-csvreg-predict-only": 1.5, "pe-csvreg-predict": 2.5}
PE_LABEL = {
    "pe-csvreg-fit": "csvreg fit -y y FILE --format json",
    "pe-csvreg-predict": "csvreg predict -m model.json FILE > /dev/null",
    "pe-csvreg-predict-only": "csvreg predict --only -m model.json FILE > /dev/null",
    "pe-csvreg-eval": "csvreg eval -m model.json FILE --format json",
    "pe-sklearn-predict": "pandas read_csv(chunksize) + sklearn predict, every column + prediction to_csv",
    "pe-sklearn-predict-only": "pandas read_csv(chunksize) + sklearn predict, prediction to_csv",
    "pe-sklearn-eval": "pandas read_csv(chunksize) + sklearn.metrics (MSE, MAE)",
}


def read_meta(d):
    meta = {}
    with open(os.path.join(d, "meta.tsv")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    return meta


def read_runs(d):
    runs = {}
    with open(os.path.join(d, "runs.tsv")) as f:
        for line in f:
            shape, tool, run, rc, wall_us, rss_kb, user, sys_, out = line.rstrip("\n").split("\t")
            runs.setdefault((shape, tool), []).append(
                dict(rc=int(rc), wall=int(wall_us) / 1e6, rss=int(rss_kb) / 1024,
                     cpu=float(user) + float(sys_), user=float(user), sys=float(sys_), out=out))
    return runs


def parse_coefs(tool, path):
    """Coefficients as {name: value}, or None when the output holds none."""
    if tool in ("cat", "wc") or not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            text = f.read()
        if tool.startswith("csvreg"):
            return {t["name"]: t["estimate"] for t in json.loads(text)["terms"]}
        coefs = {}
        for line in text.splitlines():
            name, value = line.split()
            coefs[name] = float(value)
        return coefs or None
    except (ValueError, KeyError, TypeError):
        return None


def max_rel(a, ref, floor):
    if a is None or ref is None or set(a) != set(ref):
        return None
    return max(abs(a[k] - ref[k]) / max(abs(ref[k]), floor) for k in ref)


def summarize(runs_dir):
    meta, runs = read_meta(runs_dir), read_runs(runs_dir)
    rows = {}
    for (shape, tool), rs in runs.items():
        ok = [r for r in rs if r["rc"] == 0]
        if not ok:
            rows[(shape, tool)] = dict(failed=True, n=len(rs))
            continue
        wall = statistics.median(r["wall"] for r in ok)
        nbytes = int(meta.get("bytes:" + shape, 0))
        rows[(shape, tool)] = dict(
            failed=False, n=len(ok), wall=wall, cpu=statistics.median(r["cpu"] for r in ok),
            user=statistics.median(r["user"] for r in ok),
            sys=statistics.median(r["sys"] for r in ok), out=ok[-1]["out"],
            mbs=nbytes / wall / 1e6 if wall > 0 else float("nan"),
            rss=max(r["rss"] for r in ok), coefs=parse_coefs(tool, ok[-1]["out"]))
    return meta, rows


def fmt(x, spec):
    return "—" if x is None else format(x, spec)


class Doc:
    """Lines for both outputs: markdown tables, printed as they are."""

    def __init__(self):
        self.lines = []

    def add(self, *lines):
        self.lines.extend(lines)

    def table(self, header, body):
        self.add("| " + " | ".join(header) + " |", "|" + "---|" * len(header))
        for r in body:
            self.add("| " + " | ".join(r) + " |")
        self.add("")


def shape_section(doc, meta, rows, shape):
    nbytes = int(meta.get("bytes:" + shape, 0))
    doc.add(f"### {shape}: `{os.path.basename(meta.get('file:' + shape, '?'))}` "
            f"({nbytes / 1e6:.1f} MB)", "")
    base = rows.get((shape, "csvreg"))
    base = None if base is None or base["failed"] else base
    truth = parse_coefs("truth", os.path.join(os.path.dirname(meta["_tsv"]),
                                              f"truth-{shape}.txt"))
    ref_tool = "csvreg" if base and base["coefs"] else "R"
    ref = rows.get((shape, ref_tool), {}).get("coefs")
    body = []
    for tool in MAIN_TOOLS:
        avail = meta.get("avail:" + tool)
        r = rows.get((shape, tool))
        if r is None:
            if avail is not None and avail != "ok":
                body.append([LABEL[tool], avail.split(":")[0], "", "", "", "", "", ""])
            continue
        if r["failed"]:
            body.append([LABEL[tool], f"failed ({r['n']} runs)", "", "", "", "", "", ""])
            continue
        ratio = r["wall"] / base["wall"] if base else None
        agree = truth_ok = "—"
        if r["coefs"] is not None:
            if tool != ref_tool and ref is not None:
                d = max_rel(r["coefs"], ref, 1e-12)
                agree = "mismatch" if d is None else (
                    f"{d:.1e} {'ok' if d <= TOL_PEER else 'FAIL'}")
            elif tool == ref_tool:
                agree = "reference"
            t = max_rel(r["coefs"], truth, 1.0)
            truth_ok = "mismatch" if t is None else f"{t:.1e} {'ok' if t <= TOL_TRUE else 'FAIL'}"
        body.append([LABEL[tool], f"{r['wall']:.3f}", f"{r['cpu']:.2f}", f"{r['mbs']:.0f}",
                     f"{r['rss']:.1f}", fmt(ratio, ".2f"), agree, truth_ok])
    doc.table(["tool", "wall s (median)", "cpu s", "MB/s", "peak RSS MiB",
               "wall / csvreg wall", f"coef. vs {ref_tool} (max rel.)",
               "vs true (max abs. err. / max(1, abs b))"], body)


def sweep_section(doc, rows, meta):
    body = []
    for shape in ("clean", "wide"):
        for c in SWEEP:
            r = rows.get((shape, f"csvreg-chunk{c}"))
            if r is None:
                continue
            body.append([shape, str(c)] + (["failed", "", "", ""] if r["failed"] else [
                f"{r['wall']:.3f}", f"{r['cpu']:.2f}", f"{r['mbs']:.0f}", f"{r['rss']:.1f}"]))
    if body:
        doc.add("### csvreg `--chunk-rows` sweep (qr solver, OPENBLAS_NUM_THREADS=1)", "")
        doc.table(["shape", "--chunk-rows", "wall s (median)", "cpu s", "MB/s", "peak RSS MiB"], body)


def memory_section(doc, rows, meta):
    body = []
    for shape, what in (("mem-floor", "`csvreg --help` (loading the libraries)"),
                        ("mem-1e5", "10^5 rows, file"),
                        ("mem-1e7", "10^7 rows, `gen \\| csvreg fit -y y -`")):
        r = rows.get((shape, "csvreg"))
        if r is None:
            continue
        body.append([what] + (["failed", "", ""] if r["failed"] else [
            f"{r['rss']:.1f}", f"{r['wall']:.2f}", f"{r['cpu']:.2f}"]))
    if body:
        doc.add("### csvreg peak RSS against row count", "")
        doc.table(["input", "peak RSS MiB", "wall s (10^7: includes waiting on the generator)", "cpu s"], body)


def threads_section(doc, rows, meta):
    if "threads-list" not in meta:
        return
    title = "### csvreg fit `--threads N`: wall and CPU time against one thread"
    avail = meta.get("avail:csvreg-threads", "ok")
    if avail != "ok":
        doc.add(title, "", avail, "")
        return
    if not any(t.startswith("csvreg-threads") for _, t in rows):
        return
    doc.add(title, "", "From the file: `csvreg fit -y y --threads N FILE`; from standard input: "
            "`cat FILE | csvreg fit -y y --threads N -` (the wall time includes cat; user and "
            "sys are csvreg's alone). Speed-up = wall_1 / wall_N and CPU cost = cpu_N / cpu_1 "
            "(cpu = user + sys), both against `--threads 1` on the same input; the coefficients "
            "are checked against `--threads 1` from the file.", "")
    counts = [int(n) for n in meta["threads-list"].split(",")]
    body = []
    for shape in ("clean", "wide"):
        ref = rows.get((shape, "csvreg-threads1-file"))
        ref_coefs = None if ref is None or ref["failed"] else ref["coefs"]
        for src in ("file", "stdin"):
            one = rows.get((shape, f"csvreg-threads1-{src}"))
            one = None if one is None or one["failed"] else one
            for n in counts:
                tool = f"csvreg-threads{n}-{src}"
                r = rows.get((shape, tool))
                if r is None:
                    continue
                head = [shape, src, str(n)]
                if r["failed"]:
                    body.append(head + [f"failed ({r['n']} runs)"] + [""] * 8)
                    continue
                if tool == "csvreg-threads1-file":
                    agree = "reference"
                else:
                    d = max_rel(r["coefs"], ref_coefs, 1e-12)
                    agree = "mismatch" if d is None else (
                        f"{d:.1e} {'ok' if d <= TOL_PEER else 'FAIL'}")
                speed = one["wall"] / r["wall"] if one and r["wall"] > 0 else None
                cost = r["cpu"] / one["cpu"] if one and one["cpu"] > 0 else None
                body.append(head + [f"{r['wall']:.3f}", f"{r['user']:.2f}", f"{r['sys']:.2f}",
                                    f"{r['rss']:.1f}", f"{r['mbs']:.0f}", fmt(speed, ".2f"),
                                    fmt(cost, ".2f"), agree])
    doc.table(["shape", "input", "--threads", "wall s (median)", "user s", "sys s",
               "peak RSS MiB", "MB/s", "speed-up wall_1 / wall_N", "CPU cost cpu_N / cpu_1",
               "coef. vs --threads 1, file (max rel.)"], body)


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def pe_ratios(rows):
    """{tool: wall / csvreg fit wall} for the predict and eval runs, or None without a fit."""
    fit = rows.get(("clean", "pe-csvreg-fit"))
    if fit is None or fit["failed"] or fit["wall"] <= 0:
        return None
    return {t: r["wall"] / fit["wall"] for (s, t), r in rows.items()
            if s == "clean" and t.startswith("pe-") and not r["failed"]}


def predict_section(doc, rows, meta):
    if "avail:pe-csvreg" not in meta:
        return
    doc.add("### csvreg predict and eval against csvreg fit (clean shape)", "")
    if meta["avail:pe-csvreg"] != "ok":
        doc.add(meta["avail:pe-csvreg"], "")
        return
    doc.add("The model is fitted once with `csvreg fit -y y FILE -o model.json`; the fit timed "
            "here runs interleaved with predict and eval. Issue 5's target, \"predict and eval "
            "in the same class as fit\": eval ≤ 1.5× fit, predict --only ≤ 1.5× fit, predict "
            "(every column + prediction) ≤ 2.5× fit, in wall time. The pandas + sklearn peers "
            "(`peers/sklearn_predict_eval.py`) predict with the model's coefficients; "
            f"pandas + sklearn: {meta.get('avail:pe-sklearn', '?')}.", "")
    ratios = pe_ratios(rows) or {}
    evals = {}
    for tool in ("pe-csvreg-eval", "pe-sklearn-eval"):
        r = rows.get(("clean", tool))
        if r is not None and not r["failed"]:
            evals[tool] = read_json(r["out"])
    body = []
    for tool, label in PE_LABEL.items():
        r = rows.get(("clean", tool))
        if r is None:
            continue
        if r["failed"]:
            body.append([label, f"failed ({r['n']} runs)"] + [""] * 6)
            continue
        peer = None
        if tool.startswith("pe-csvreg-") and tool != "pe-csvreg-fit":
            p = rows.get(("clean", tool.replace("csvreg", "sklearn")))
            if p is not None and not p["failed"] and r["wall"] > 0:
                peer = p["wall"] / r["wall"]
        check = "—"
        if tool == "pe-csvreg-fit":
            check = "reference"
        elif tool in PE_TARGET and tool in ratios:
            check = f"≤ {PE_TARGET[tool]:g}× fit: {'met' if ratios[tool] <= PE_TARGET[tool] else 'NOT met'}"
        if tool == "pe-sklearn-eval":
            a, b = evals.get("pe-csvreg-eval"), evals.get(tool)
            try:
                d = abs(a["rmse"] - b["rmse"]) / abs(a["rmse"])
                check = (f"RMSE vs csvreg eval {d:.1e} {'ok' if d <= TOL_PEER and a['n'] == b['n'] else 'FAIL'}"
                         f" (n {b['n']} / {a['n']})")
            except (TypeError, KeyError, ZeroDivisionError):
                check = "RMSE mismatch"
        body.append([label, f"{r['wall']:.3f}", f"{r['cpu']:.2f}", f"{r['mbs']:.0f}",
                     f"{r['rss']:.1f}", fmt(ratios.get(tool), ".2f"), fmt(peer, ".2f"), check])
    doc.table(["command", "wall s (median)", "cpu s", "MB/s", "peak RSS MiB",
               "wall / csvreg fit wall", "pandas+sklearn wall / csvreg wall", ""], body)


def targets_section(doc, rows, meta):
    def wall(shape, tool):
        r = rows.get((shape, tool))
        return None if r is None or r["failed"] else r["wall"]

    def rss(shape):
        r = rows.get((shape, "csvreg"))
        return None if r is None or r["failed"] else r["rss"]

    body = []
    for shape, peer, need, src in (("clean", "pandas", 2, "#2"), ("clean", "duckdb-1t", 4, "#5"),
                                   ("clean", "pandas", 8, "#5"), ("messy", "duckdb-1t", 2, "#5"),
                                   ("wide", "duckdb-1t", 2, "#5")):
        c, p = wall(shape, "csvreg"), wall(shape, peer)
        if c is None or p is None:
            continue
        body.append([src, f"{shape}: {LABEL[peer]} / csvreg ≥ {need}", f"{p / c:.2f}",
                     "met" if p / c >= need else "NOT met"])
    for shape in ("clean", "messy", "mem-1e5", "mem-1e7"):
        m = rss(shape)
        if m is not None:
            body.append(["#2 #5", f"{shape}: csvreg peak RSS ≤ 8 MiB", f"{m:.1f} MiB",
                         "met" if m <= 8 else "NOT met"])
    ratios = pe_ratios(rows)
    if ratios and all(t in ratios for t in PE_TARGET):
        body.append(["#5", "clean: predict and eval in the same class as fit: wall / csvreg fit "
                     "wall: eval ≤ 1.5, predict --only ≤ 1.5, predict ≤ 2.5",
                     f"eval {ratios['pe-csvreg-eval']:.2f}, --only "
                     f"{ratios['pe-csvreg-predict-only']:.2f}, predict {ratios['pe-csvreg-predict']:.2f}",
                     "met" if all(ratios[t] <= PE_TARGET[t] for t in PE_TARGET) else "NOT met"])
    if body:
        doc.add("### Targets (issues 2 and 5)", "")
        if int(meta.get("bytes:clean", 0)) < 100_000_000:
            doc.add("(A smoke run: the targets are stated for 2,000,000 rows, where start-up "
                    "costs vanish.)", "")
        doc.table(["issue", "target", "measured", ""], body)


def main():
    runs_dir, md_path = sys.argv[1], sys.argv[2]
    meta, rows = summarize(runs_dir)
    meta["_tsv"] = os.path.join(runs_dir, "runs.tsv")
    doc = Doc()
    doc.add("## csvreg benchmark results", "",
            f"- date: {meta.get('date')}; command: `{meta.get('command')}`; "
            f"median of {meta.get('runs')} run(s), warm page cache",
            f"- machine: {meta.get('cpu')}; load average (1, 5, 15 min) at start "
            f"{meta.get('load-start')}, at end {meta.get('load-end')}",
            "- env: " + ", ".join(f"{k[4:]}={v}" for k, v in meta.items() if k.startswith("env:")),
            "- versions: " + "; ".join(v for k, v in meta.items() if k.startswith("version:")),
            f"- MB = 10^6 bytes; peak RSS = max over the runs; coefficients agree when the max "
            f"relative difference ≤ {TOL_PEER:g}; against the true model ≤ {TOL_TRUE:g}", "")
    for shape in ("clean", "messy", "wide"):
        if "bytes:" + shape in meta and meta.get("main", "1") == "1":
            shape_section(doc, meta, rows, shape)
    memory_section(doc, rows, meta)
    sweep_section(doc, rows, meta)
    threads_section(doc, rows, meta)
    predict_section(doc, rows, meta)
    targets_section(doc, rows, meta)
    text = "\n".join(doc.lines) + "\n"
    sys.stdout.write(text)
    with open(md_path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
