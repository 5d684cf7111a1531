#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A short run of `lamport bench fd` (idle, a few cycles, all three
# detectors), so that the benchmark cannot rot: every detector must give a
# verdict in every cycle, at a plausible time, and the results must be
# written. The full benchmark is `make bench-fd`.

cycles=4
out=/tmp/bench-fd-smoke
n=0
failed=0

check() {	# check DESCRIPTION COMMAND...
	desc=$1
	shift
	n=$((n + 1))
	if res=$("$@" 2>&1); then
		echo "ok $n $desc"
	else
		echo "not ok $n $desc"
		echo "$res" | sed 's/^/# /'
		failed=$((failed + 1))
	fi
}

# Every value of a td-*.dat file: cycles of them, each in [lo, hi] ms.
times_plausible() {	# times_plausible FILE LO HI
	[ -f "$1" ] || { echo "$1 is missing"; return 1; }
	awk -v k=$cycles -v lo="$2" -v hi="$3" '
		/^#/ { next }
		{ n++; if ($1 < lo || $1 > hi) { print "out of range: " $1; bad = 1 } }
		END { if (n != k) { print n " samples, not " k; bad = 1 }; exit bad }
	' "$1"
}

no_missed_or_stuck() {
	grep -q '"missed": [1-9]' $out/results.json && return 1
	grep -q '"stuck": [1-9]' $out/results.json && return 1
	[ "$(grep -c '"missed": 0' $out/results.json)" -eq 3 ]
}

table_complete() {
	for d in lamport.ko twin bfdd; do
		grep -q "^idle  *$d  *$cycles " $out/table.txt || return 1
	done
	grep -q "lamport.ko idle: T_D p50" $out/table.txt
}

echo "TAP version 13"
echo "1..6"

rm -rf $out && mkdir -p $out
if lamport bench fd -o $out cycles $cycles conditions idle soak 1s cost 0 \
	>/tmp/bench-fd-smoke.log 2>&1; then
	echo "ok 1 lamport bench fd runs"
else
	echo "not ok 1 lamport bench fd runs"
	sed 's/^/# /' /tmp/bench-fd-smoke.log
	failed=$((failed + 1))
fi
n=1
sed 's/^/# /' $out/table.txt 2>/dev/null

# A cut is seen between (M - 1) x I (the last heartbeat just before it,
# less jitter) and M x I plus generous TCG slack.
check "lamport.ko: a verdict per cycle, 15..100 ms" \
	times_plausible $out/td-idle-kernel.dat 15 100
check "twin: a verdict per cycle, 15..150 ms" \
	times_plausible $out/td-idle-twin.dat 15 150
check "bfdd: a verdict per cycle, 15..150 ms" \
	times_plausible $out/td-idle-bfdd.dat 15 150
check "no cycle missed a verdict or a recovery" no_missed_or_stuck
check "the table has every detector and the targets" table_complete

[ $failed -eq 0 ]
