# formula_ref.R FORMULAS OUTDIR - R's side of the formula comparison: writes
# OUTDIR/data.csv and, for each formula, R's term labels, intercept, and
# model.matrix column names and values (C99 hex floats) to OUTDIR/ref.txt.
# Run under LC_COLLATE=C so factor levels sort by bytes, as csvreg's do.
args <- commandArgs(trailingOnly = TRUE)
formulas <- readLines(args[1])
out <- args[2]
set.seed(20261204)
n <- 40
# Values that are exact binary fractions (k/16), so that any correct decimal
# parser reads the CSV to the same doubles as R.
d <- data.frame(
  y = round(runif(n, 1, 50) * 16) / 16,
  a = round(runif(n, 0.5, 20) * 16) / 16,
  b = round(runif(n, 1, 30) * 16) / 16,
  c = round(runif(n, 0.25, 9) * 16) / 16,
  g = sample(c("a", "b", "c", "B"), n, replace = TRUE),
  h = sample(c("lo", "hi"), n, replace = TRUE),
  cyl = sample(c(4L, 6L, 8L, 10L), n, replace = TRUE),
  `sale price` = round(runif(n, 100, 900) * 4) / 4,
  check.names = FALSE)
csv <- file.path(out, "data.csv")
write.csv(d, csv, row.names = FALSE, quote = FALSE)
d <- read.csv(csv, check.names = FALSE, stringsAsFactors = TRUE)
con <- file(file.path(out, "ref.txt"), "w")
for (s in formulas) {
  if (!nzchar(s)) next
  fo <- as.formula(s)
  tt <- terms(fo, data = d)
  mm <- model.matrix(fo, data = d)
  writeLines(paste0("F\t", s), con)
  for (l in attr(tt, "term.labels")) writeLines(paste0("L\t", l), con)
  writeLines(paste0("I\t", attr(tt, "intercept")), con)
  for (j in seq_len(ncol(mm)))
    writeLines(paste0("C\t", colnames(mm)[j], "\t",
                      paste(sprintf("%a", mm[, j]), collapse = ",")), con)
  if (attr(tt, "response") == 1)
    writeLines(paste0("Y\t", paste(sprintf("%a", model.response(model.frame(fo, d))),
                                   collapse = ",")), con)
  if (attr(tt, "response") == 1) {
    fit <- lm(fo, data = d)
    co <- coef(fit)
    se <- sqrt(diag(vcov(fit)))
    for (j in seq_along(co))
      writeLines(paste0("B\t", names(co)[j], "\t",
                        if (is.na(co[j])) "NA" else sprintf("%a", co[j]), "\t",
                        if (is.na(se[j])) "NA" else sprintf("%a", se[j])), con)
  }
  writeLines("E", con)
}
close(con)
