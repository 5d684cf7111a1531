#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A short run of `lamport bench failover` (a few kills per mode), so that
# the benchmark cannot rot: in both modes every kill must end with a
# survivor taking a write, the detector must have declared the killed node
# dead, and the results, the plot data and the node logs (stamped with
# --log-time, the kills marked) must be written. The 100 ms target is not
# judged here: the full benchmark is `make bench-failover`.

out=/tmp/bench-failover-smoke
kills=3
# The debug kernel under emulation: one kill per mode.
[ -n "$LAMPORT_DEBUG_KERNEL" ] && kills=1
. "$(dirname "$0")/tap.sh"

mode_field() {	# mode_field MODE NAME: NAME of MODE's entry in results.json
	sed -n "/\"mode\": \"$1\"/,/\"samples\"/p" $out/results.json |
		sed -n "s/^ *\"$2\": \\([0-9]*\\),*$/\\1/p"
}

every_kill_failed_over() {
	for mode in hints timeout; do
		n=$(mode_field $mode n)
		failed=$(mode_field $mode failed)
		[ "$n" = $kills ] && [ "$failed" = 0 ] ||
			{ echo "$mode: n ${n:-?}, failed ${failed:-?} (want $kills, 0)"; return 1; }
		[ "$(grep -c . $out/failover-$mode.dat)" -eq $kills ] ||
			{ echo "failover-$mode.dat:"; cat $out/failover-$mode.dat; return 1; }
	done
}

# A positive time for every kill; the detector declared every victim dead.
samples_complete() {
	[ "$(grep -c '"failover_ns": [1-9]' $out/results.json)" -eq $((2 * kills)) ] &&
		[ "$(grep -c '"dead_ns": [1-9]' $out/results.json)" -eq $((2 * kills)) ] ||
		{ grep -E '"(failover|dead)_ns"' $out/results.json; return 1; }
}

logs_stamped() {
	for mode in hints timeout; do
		for i in 1 2 3; do
			log=$out/$mode-node$i.log
			grep -Eq "^raft $i: lc [0-9]+ term [0-9]+ at [0-9]+\.[0-9]{6}: " $log ||
				{ echo "$log: no line stamped with --log-time"; return 1; }
			[ "$(grep -c '^--- bench failover at [0-9.]*: kill [0-9]*: node [0-9] killed' $log)" -eq $kills ] ||
				{ echo "$log: not every kill marked"; return 1; }
		done
	done
}

table_complete() {
	grep -q "^lamport bench failover: kernel $(uname -r)," $out/table.txt &&
		grep -q '^  hints  ' $out/table.txt &&
		grep -q '^  election timeout only  ' $out/table.txt &&
		grep -q '^≤ 100 ms median with hints: ' $out/table.txt
}

echo "TAP version 13"
echo "1..5"

rm -rf $out && mkdir -p $out
check "lamport bench failover kills $kills runs" lamport bench failover kills $kills dir $out
sed 's/^/# /' $out/table.txt 2>/dev/null
check "in both modes every kill ended with a survivor taking a write" every_kill_failed_over
check "every sample has its failover time and the detector's verdict" samples_complete
check "every node's log is stamped (--log-time) and marks every kill" logs_stamped
check "the table names this kernel and both modes" table_complete

[ $failed -eq 0 ]
