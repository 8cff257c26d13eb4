# What the command-line test scripts share: counted checks, polling with a deadline, and
# `run` for vigilctl (it needs $ctl and $work). Source it, run checks, then end with
# `finish` (prints the tally, fails if any check did).
failures=0
passes=0
check() {  # check NAME CONDITION...
  local name=$1
  shift
  if "$@"; then passes=$((passes + 1)); else echo "FAIL: $name"; failures=$((failures + 1)); fi
}
contains() { grep -qF -- "$2" <<<"$1"; }
lacks() { ! grep -qF -- "$2" <<<"$1"; }
wait_for() {  # wait_for SECONDS COMMAND... : polls a condition that real work makes true
  local until=$((SECONDS + $1))
  shift
  while [ $SECONDS -lt $until ]; do "$@" && return 0; sleep 0.1; done
  "$@"
}
run() {  # run ARGS... : runs "$ctl" ARGS (vigilctl) with output in "$work"; sets rc, out, err
  "$ctl" "$@" >"$work/out" 2>"$work/err"
  rc=$?
  out=$(cat "$work/out")
  err=$(cat "$work/err")
}
finish() {
  echo "$passes passed, $failures failed"
  [ "$failures" -eq 0 ]
}
