# Peer: R data.table::fread + lm, as in issue 2:
#   Rscript -e 'library(data.table); d <- fread(f); coef(lm(y ~ ., d))'
# usage: Rscript r_fit.R FILE Y X1,X2,...
# select= keeps only the model's columns (the messy shape has text columns);
# lm's default na.action drops rows with NA, as csvreg does.
suppressPackageStartupMessages(library(data.table))
a <- commandArgs(trailingOnly = TRUE)
xs <- strsplit(a[3], ",", fixed = TRUE)[[1]]
d <- fread(a[1], select = c(xs, a[2]), na.strings = c("NA", ""))
cf <- coef(lm(as.formula(paste0("`", a[2], "` ~ .")), d))
names(cf) <- gsub("`", "", names(cf), fixed = TRUE)
cat(sprintf("%s %.17g\n", names(cf), cf), sep = "")
