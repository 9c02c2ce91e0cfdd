"""eval --fail-if: the metrics are printed and the status is 8 when the
condition holds, 0 when not; 'and' binds tighter than 'or'; NA metrics
compare false; with --every the condition applies to each window with
rows; syntax errors exit 2 with a caret before any data is read."""
import json
import sys

sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

M = ["eval", "-m", "model_gen.json", "model_new.csv"]
plain = run(*M).stdout
if open(sys.argv[1]).read() != plain:
    fail("the report with --fail-if differs from eval's")

# the model's metrics here: rmse 2.2336, mae 1.3741, r_squared 0.8804, n 60
cases = [
    ("rmse > 2.2", 8), ("rmse > 2.3", 0), ("rmse >= 2.233648", 0), ("rmse <= 3", 8),
    ("rmse < 2", 0), ("n == 60", 8), ("n != 60", 0), ("n==60", 8), ("n >= 60.0", 8),
    ("r_squared < 0.9", 8), ("mape > 0.5", 8), ("max_error > 11.9", 8), ("mean_error < 0", 0),
    ("explained_variance < 0.88", 0), ("sum_w == 60", 8), ("n_zero_y == 5", 8),
    ("mse > 1e0", 8), ("mse > +4.99", 0), ("mean_error > -.5", 8),
    # 'and' binds tighter: (F and T) or T = T; with 'or' tighter F and (T or T) = F
    ("rmse > 100 and n > 0 or n > 0", 8),
    ("rmse > 100 and (n > 0 or n > 0)", 0),
    ("(rmse > 100 or n > 0) and n > 0", 8),
    ("((rmse > 1))", 8),
    ("rmse > 100 or mae > 100 or n < 0", 0),
    ("rmse > 100 or mae > 100 or n > 0", 8),
]
for expr, want in cases:
    r = run(*M, "--fail-if", expr, "--format", "json")
    if r.returncode != want:
        fail(f"'{expr}': exit {r.returncode}, want {want} ({r.stderr.strip()})")
    if json.loads(r.stdout)["n"] != 60:
        fail(f"'{expr}': no report")
    if want == 8 and r.stderr != f"csvreg: --fail-if '{expr}' holds\n":
        fail(f"'{expr}': stderr {r.stderr!r}")
    if want == 0 and r.stderr:
        fail(f"'{expr}': stderr {r.stderr!r}")

# NA compares false, even with !=: a constant target has no R^2
r = run("eval", "-m", "model_gen.json", "--fail-if", "r_squared != 0", "--format", "csv",
        input="x1,x2,x3,y\n1,2,3,4\n2,1,0,4\n")
if r.returncode != 0 or ",NA," not in r.stdout:
    fail(f"NA r_squared: exit {r.returncode} {r.stdout}")

# --every: any window with rows (window 2 of 20 has rmse 2.91; the total 2.23)
r = run(*M, "--every", "20", "--fail-if", "rmse > 2.5", "--format", "csv")
if r.returncode != 8 or r.stderr != ("csvreg: --fail-if 'rmse > 2.5' holds for 1 of 3 windows, "
                                     "first window 2 (records 22-41)\n"):
    fail(f"--every: exit {r.returncode} {r.stderr!r}")
if len(r.stdout.splitlines()) != 4:
    fail("--every: the windows were not printed")
r = run(*M, "--every", "20", "--fail-if", "rmse > 2.95")
if r.returncode != 0:
    fail(f"--every, no window: exit {r.returncode}")
# the total's 2.23 is not tested with --every: every window below 2.2 is not a hit
r = run(*M, "--every", "20", "--fail-if", "rmse > 2.0 and rmse < 2.5")
if r.returncode != 0:
    fail(f"--every applies to windows, not the total: exit {r.returncode}")

# syntax errors: exit 2, message, the expression with a caret, nothing read
errors = [
    ("rmse ~ 1", "expected a comparison (<, <=, >, >=, ==, !=) at character 6", 5),
    ("rmse >", "expected a number at character 7", 6),
    ("rsme > 1", "unknown metric (one of n, mse, rmse, mae, mape, max_error, mean_error, "
                 "r_squared, explained_variance, sum_w, n_zero_y) at character 1", 0),
    ("rmse > 1 and", "expected a metric name (n, mse, rmse, mae, mape, max_error, mean_error, "
                     "r_squared, explained_variance, sum_w, n_zero_y) at character 13", 12),
    ("(rmse > 1", "unclosed '(' at character 1", 0),
    ("rmse > 1)", "unmatched ')' at character 9", 8),
    ("rmse > 1 rmse < 2", "expected 'and', 'or' or the end at character 10", 9),
    ("rmse > 1x", "expected a number at character 9", 8),
    ("rmse > inf", "expected a number at character 8", 7),
    ("rmse = 1", "expected a comparison (<, <=, >, >=, ==, !=) at character 6", 5),
    ("", "expected a metric name (n, mse, rmse, mae, mape, max_error, mean_error, "
         "r_squared, explained_variance, sum_w, n_zero_y) at character 1", 0),
    ("rmse > 1 AND n > 1", "expected 'and', 'or' or the end at character 10", 9),
]
for expr, msg, col in errors:
    r = run("eval", "-m", "model_gen.json", "no_such_file.csv", "--fail-if", expr)
    want = (f"csvreg: --fail-if: {msg}:\n  {expr}\n  {' ' * col}^\n"
            "Try 'csvreg eval --help'.\n")
    if r.returncode != 2 or r.stderr != want or r.stdout:
        fail(f"'{expr}': exit {r.returncode}, stderr {r.stderr!r}, want {want!r}")
finish()
