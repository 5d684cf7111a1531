#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A short run of `lamport bench msg` (quick: one short run of each side), so
# that the benchmark cannot rot: every measurement must move messages on
# both sides, give a finite positive ratio, and be written out. The targets
# are not judged here: the full benchmark is `make bench-msg`.

out=/tmp/bench-msg-smoke
measurements="dgram-64 dgram-1024 rtt-64 rtt-1024 rdm-clean rdm-loss1 rdm-loss5"
. "$(dirname "$0")/tap.sh"

all_measured() {
	for m in $measurements; do
		grep -q "\"name\": \"$m\"" $out/results.json ||
			{ echo "$m is missing"; return 1; }
	done
}

# Every run of either side received something and lost no send to an error.
runs_moved_messages() {
	! grep -E '"rx_msgs": 0,' $out/results.json &&
		! grep -E '"tx_errors": [1-9]' $out/results.json
}

ratios_finite() {	# the ratio column of ratios.dat: 11 positive numbers
	awk '/^#/ { next }
		{ n++; if (!($3 + 0 > 0) || $3 == "nan" || $3 == "inf") { print "bad ratio: " $0; bad = 1 } }
		END { if (n != 11) { print n " ratios"; bad = 1 }; exit bad }' $out/ratios.dat
}

table_complete() {
	grep -q "^lamport bench msg: kernel $(uname -r)," $out/table.txt &&
		[ "$(grep -cE '^  (met|NOT MET) ' $out/table.txt)" -eq 8 ]
}

echo "TAP version 13"
echo "1..5"

rm -rf $out && mkdir -p $out
check "lamport bench msg quick runs" lamport bench msg quick -o $out
sed 's/^/# /' $out/table.txt 2>/dev/null
check "every measurement is in results.json" all_measured
check "every run moved messages, no send failed" runs_moved_messages
check "every ratio is a positive number" ratios_finite
check "the table names this kernel and judges all 8 targets" table_complete

[ $failed -eq 0 ]
