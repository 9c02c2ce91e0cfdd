#!/bin/sh
# cron.sh CSVREG DOCS - the scheduled refit (issue 15): the recipe `cron` of
# docs/engines.md run as written on two days of new rows equals one pass on
# all rows (1e-11); run again on the same day it is refused (exit 3) and the
# model is unchanged; a renamed copy of a day is refused too.
. "$(dirname "$0")/common.sh"
gen all.csv 9000 33
head -3001 all.csv > old.csv
{ head -1 all.csv; sed -n 3002,6001p all.csv; } > day1.csv
{ head -1 all.csv; sed -n 6002,9001p all.csv; } > day2.csv
csvreg fit -y y --format json all.csv > one.json
csvreg fit -y y old.csv -o model.json > /dev/null
recipe cron > refit.sh
for d in day1 day2; do
  cp $d.csv today.csv
  sh -eu refit.sh || fail "recipe cron failed on $d"
done
same one.json report.json "recipe cron, two days"
cp model.json before.json
set +e
sh -eu refit.sh 2> again.err
rc=$?
set -e
[ $rc = 3 ] || fail "the same day again: exit $rc"
grep -q "folded into model.json already" again.err || fail "message: $(cat again.err)"
cmp -s model.json before.json || fail "a refused refit changed the model"
echo "same day again: exit 3: $(cat again.err)"
cp day1.csv today.csv
set +e
sh -eu refit.sh 2> /dev/null
rc=$?
set -e
[ $rc = 3 ] || fail "day 1 again under another name: exit $rc"
cmp -s model.json before.json || fail "a refused refit changed the model"
echo PASS
