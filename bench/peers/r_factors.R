# Peer for bench/factors.sh: R data.table::fread + lm on every column (y ~ .), the text
# columns as factors (lm's default); run with LC_ALL=C so that levels sort in byte order,
# as csvreg's. usage: Rscript r_factors.R FILE
suppressPackageStartupMessages(library(data.table))
f <- commandArgs(trailingOnly = TRUE)[1]
d <- fread(f, stringsAsFactors = TRUE)
cf <- coef(lm(y ~ ., d))
cat(sprintf("%s %.17g\n", names(cf), cf), sep = "")
