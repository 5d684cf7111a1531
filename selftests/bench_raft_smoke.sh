#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A short run of `lamport bench raft` (1 s each for 1 and 8 clients), so that
# the benchmark cannot rot: both runs must commit writes with none left
# unknown, and the table, results.json and the plot data must be written.
# The targets are not judged here: the full benchmark is `make bench-raft`.

out=/tmp/bench-raft-smoke
LAMPORT=${LAMPORT:-lamport}
. "$(dirname "$0")/tap.sh"

runs_wrote() {	# every run: writes > 0, unknown 0, errors 0
	awk '/"clients"/ { runs++ }
		/"writes":/ { if ($2 + 0 > 0) wrote++ }
		/"unknown": 0/ { clean++ }
		/"errors": 0/ { noerr++ }
		END { if (runs != 2 || wrote != 2 || clean != 2 || noerr != 2) {
			print runs " runs, " wrote " wrote, " clean " without unknown, " noerr " without errors"; exit 1 } }' \
		$out/results.json
}

fsync_measured() {
	grep -Eq '"fsync_p50_ns": [1-9]' $out/results.json ||
		{ echo "no fsync latency in results.json"; return 1; }
}

echo "TAP version 13"
echo "1..4"

rm -rf $out && mkdir -p $out
check "lamport bench raft quick runs" "$LAMPORT" bench raft quick clients 1,8 dir $out
sed 's/^/# /' $out/table.txt 2>/dev/null
check "both runs committed writes, none unknown" runs_wrote
check "the fsync latency was measured" fsync_measured
check "the table and the plot data are written" \
	sh -c "grep -q '^lamport bench raft: kernel $(uname -r)' $out/table.txt && [ \$(grep -vc '^#' $out/raft.dat) -eq 2 ]"

[ $failed -eq 0 ]
