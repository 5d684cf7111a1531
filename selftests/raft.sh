#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lamport raft serve, as real processes: clusters of 3 and 5 nodes, one per
# network namespace on a bridge (198.18.9.0/24), clients in a namespace of
# their own. Partitions take a node's link down, crashes are SIGKILL, loss,
# duplication and delay come from the transport's fault hook. Histories of
# concurrent clients are checked for linearizability by lamport-lincheck.
#
# The nodes talk over AF_LAMPORT where lamport.ko is loaded (the test VMs),
# else over UDP; RAFT_TRANSPORT=udp|lamport says which.

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=raft_lib.sh
. "$here/raft_lib.sh"

# 1. A 3-node cluster.

first_election() {
	make_cluster 3 && start_all && leader=$(wait_leader) && agree
}

follower_redirects() {
	f=$(( leader % 3 + 1 ))
	in_client "$LAMPORT" kv --server "$(addr "$f"):$((port + 1))" put via-follower yes &&
		get_is via-follower yes
}

# A write retried with the same client id and sequence number is applied
# once: the retry gets the first one's revision, an older one is refused.
exactly_once() {
	r1=$(kv -j --client 77 --seq 1 put once a | field revision) &&
	r2=$(kv -j --client 77 --seq 2 put once b | field revision) &&
	r2b=$(kv -j --client 77 --seq 2 put once b | field revision) &&
	expect_eq "the retry's revision" "$r2" "$r2b" &&
	! kv --client 77 --seq 1 put once a 2>"$out/stale" &&
	grep -q stale "$out/stale" &&
	[ "$(kv -j get once | field revision)" = "$r2" ] &&
	[ "$r1" -lt "$r2" ]
}

leader_partitioned() {
	old=$leader
	old_term=$(term_of "$old")
	isolate "$old"
	leader=$(wait_leader "$old") || return 1
	[ "$leader" != "$old" ] || { echo "still node $old"; return 1; }
	put_ok after-partition 1 && get_is after-partition 1
}

# Check-quorum: the cut-off leader steps down; pre-vote: its term stays.
isolated_leader_steps_down() {
	for _ in $(seq 1 $((50 * slow))); do
		[ "$(role "$old")" != leader ] && break
		sleep 0.1
	done
	expect_eq "the isolated node's role is not leader" yes \
		"$([ "$(role "$old")" != leader ] && echo yes)" &&
	sleep "$slow" &&
	expect_eq "its term after $slow s alone" "$old_term" "$(term_of "$old")"
}

rejoin_without_disruption() {
	term=$(term_of "$leader")
	rejoin "$old"
	sleep $((slow / 2 + 1))
	expect_eq "the leader after the rejoin" "$leader" "$(wait_leader)" &&
	expect_eq "the term after the rejoin" "$term" "$(term_of "$leader")" &&
	converged
}

no_progress_without_majority() {
	a=$(( leader % 3 + 1 ))
	b=$(( a % 3 + 1 ))
	isolate "$a"
	isolate "$b"
	ok=1
	! kv --timeout 1500 put minority 1 2>"$out/minority" &&
		grep -q "no answer" "$out/minority" &&
		! kv --timeout 1000 get after-partition 2>/dev/null || ok=0
	rejoin "$a"
	rejoin "$b"
	[ $ok = 1 ] && leader=$(wait_leader) &&
	put_ok majority-back 1 && get_is majority-back 1
}

# A leader cut off with writes it could not commit: a client inside its
# netns keeps writing, so entries pile up until check-quorum deposes it.
# Once back, its log is repaired from the new leader's.
divergent_log_repaired() {
	old=$leader
	nsenter --net="/run/netns/$tag$old" "$LAMPORT" kv --server "127.0.0.1:$((port + 1))" \
		--timeout 2000 workload --clients 1 --duration 120 --keys 1 --mix put=1 \
		>/dev/null 2>&1 &
	writer=$!
	sleep 1
	isolate "$old"
	leader=$(wait_leader "$old")
	kill "$writer"
	wait "$writer" 2>/dev/null
	s=$(status "$old")
	last=$(echo "$s" | field last)
	commit=$(echo "$s" | field commit)
	ok=1
	[ -n "$leader" ] || ok=0
	[ "$last" -gt "$commit" ] || { echo "no uncommitted entries: $s"; ok=0; }
	for k in 1 2 3 4 5; do put_ok fresh$k y || ok=0; done
	rejoin "$old"
	[ $ok = 1 ] && converged &&
	expect_eq "the old leader's last term" "$(status "$leader" | field last_term)" \
		"$(status "$old" | field last_term)" &&
	get_is fresh5 y &&
	# The writer's key is one the linearizability runs start from absent.
	kv del k0 >/dev/null
}

all_crash_and_restart() {
	for k in $(seq 1 5); do put_ok dur$k v$k || return 1; done
	for i in 1 2 3; do stop_node "$i" KILL; done
	start_all
	leader=$(wait_leader) &&
	for k in $(seq 1 5); do get_is dur$k v$k || return 1; done
	converged
}

sigterm_stops_cleanly() {
	stop_node 3 TERM
	expect_eq "exit status after SIGTERM" 0 "$(cat "$out/n3.exit")" &&
	grep -q "stopping" "$out/n3.log" &&
	start_node 3 --log-time && converged
}

lamport_stamps_logged() {
	grep -Eq "^raft [0-9]+: lc [0-9]+ term [0-9]+: " "$out/n1.log" &&
	# Restarted with --log-time, node 3 adds CLOCK_MONOTONIC seconds.
	grep -Eq "^raft 3: lc [0-9]+ term [0-9]+ at [0-9]+\.[0-9]{6}: " "$out/n3.log" &&
	lc1=$(status 1 | field clock) && [ "$lc1" -gt 0 ]
}

workload() {	# workload NAME CLIENTS SECONDS
	kv workload --clients "$2" --duration "$3" --keys 4 \
		--history "$out/$1.history" >"$out/$1.summary" 2>&1 ||
		{ cat "$out/$1.summary"; return 1; }
	cat "$out/$1.summary"
	[ -s "$out/$1.history" ]
}

unreliable_network() {
	faults=drop=10,dup=5,delay=0-15
	for i in 1 2 3; do stop_node "$i" TERM; done
	start_all --faults $faults
	leader=$(wait_leader) || return 1
	workload unreliable 8 4 &
	clients=$!
	sleep 2
	stop_node "$leader" KILL
	sleep 1
	start_node "$leader" --faults $faults
	wait $clients || return 1
	linearizable "$out/unreliable.history"
}

# 2. Bad input, on the 3-node cluster.

garbage_dropped() {
	cluster=$(grep -o "cluster [0-9a-f]*" "$out/n1.log" | head -n 1 | cut -d' ' -f2)
	for kind in garbage truncated unknown foreign bigterm; do
		if [ "$TRANSPORT" = lamport ]; then
			in_node 2 "$POKE" lamport:1 "$port" "$kind" "$cluster" 1
		else
			in_client "$POKE" "$(addr 1)" "$port" "$kind" "$cluster" 1
		fi || return 1
	done
	sleep 0.5
	grep -q "malformed datagram" "$out/n1.log" &&
	grep -q "unknown node 99" "$out/n1.log" &&
	grep -q "not ours" "$out/n1.log" &&
	kill -0 "$(cat "$out/n1.pid")" &&
	put_ok after-garbage 1 && agree
}

bad_client_requests() {
	r=$(in_client "$POKE" "$(addr 1)" $((port + 1)) badcmd) &&
	echo "$r" | grep -q "bad request: malformed key-value command" &&
	in_client "$POKE" "$(addr 1)" $((port + 1)) clientgarbage >/dev/null &&
	kill -0 "$(cat "$out/n1.pid")" && put_ok after-bad-requests 1
}

foreign_data_dir() {
	stop_node 3 TERM
	before=$(cd "$out/d3" && cat meta seg-* | md5sum)
	in_node 3 "$LAMPORT" raft serve --id 3 --peers "$(peers)" --data "$out/d3" \
		--cluster another >"$out/foreign" 2>&1 &&
		{ echo "started on another cluster's data"; return 1; }
	cat "$out/foreign"
	grep -q "belongs to cluster" "$out/foreign" &&
	expect_eq "the data directory" "$before" "$(cd "$out/d3" && cat meta seg-* | md5sum)" &&
	start_node 3 && converged
}

# A crash in the middle of an append leaves half a record: cut off, said,
# and the node goes on.
torn_tail_cut() {
	stop_node 3 KILL
	seg=$(ls "$out"/d3/seg-* | tail -n 1)
	printf 'LRAFT half a record' >>"$seg"
	start_node 3
	for _ in $(seq 1 $((50 * slow))); do
		grep -q "torn record at offset" "$out/n3.log" && break
		sleep 0.1
	done
	grep "torn record at offset" "$out/n3.log" | grep -q "${seg##*/}" &&
	converged
}

# A damaged record with good ones after it is no crash: the node refuses
# to start and names the file and the offset.
corruption_refused() {
	stop_node 3 TERM
	seg=$(ls "$out"/d3/seg-* | head -n 1)
	cp "$seg" "$out/seg.good"
	printf 'X' | dd of="$seg" bs=1 seek=40 conv=notrunc 2>/dev/null
	if in_node 3 "$LAMPORT" raft serve --id 3 --peers "$(peers)" --data "$out/d3" \
		--transport "$TRANSPORT" >"$out/corrupt" 2>&1; then
		echo "started on a corrupt log"
		return 1
	fi
	cat "$out/corrupt"
	grep -q "${seg##*/}: corrupt record at offset 25 " "$out/corrupt" || return 1
	cp "$out/seg.good" "$seg"
	start_node 3 && converged
}

bad_flags() {
	p=$(peers)
	while read -r what args; do
		# shellcheck disable=SC2086
		if "$LAMPORT" raft serve $args >"$out/flag" 2>&1; then
			echo "accepted: $args"
			return 1
		fi
		grep -q -- "$what" "$out/flag" || { echo "$args:"; cat "$out/flag"; return 1; }
	done <<-EOF
	--id --id 0 --peers $p --data $out/x
	--id --id 9 --peers $p --data $out/x
	--tick --id 1 --peers $p --data $out/x --tick 0
	--election --id 1 --peers $p --data $out/x --election 1
	--heartbeat --id 1 --peers $p --data $out/x --election 10 --heartbeat 10
	--peers --id 1 --peers 1=198.18.9.1 --data $out/x
	--peers --id 1 --peers 1=198.18.9.1:99999 --data $out/x
	--peers --id 1 --peers 1=198.18.9.1:65535 --data $out/x
	--peers --id 1 --peers 1=198.18.9.1:7000,1=198.18.9.2:7000 --data $out/x
	--transport --id 1 --peers $p --data $out/x --transport carrier-pigeon
	--faults --id 1 --peers $p --data $out/x --faults drop=101
	required --id 1
	EOF
}

# A full disk: the node says so, refuses, never acknowledges; the others
# go on.
# The victim's data moves to a tmpfs with 16 KiB to spare (never wiped:
# a node that forgot what it acknowledged is not a node Raft tolerates).
full_disk() {
	victim=$(( leader % 3 + 1 ))
	stop_node "$victim" TERM
	kib=$(( $(du -sk "$out/d$victim" | cut -f1) + 16 ))
	mkdir -p "$out/small" &&
	mount -t tmpfs -o "size=${kib}k" none "$out/small" &&
	cp -a "$out/d$victim" "$out/small/" || return 1
	# shellcheck disable=SC2086
	nsenter --net="/run/netns/$tag$victim" "$LAMPORT" raft serve --id "$victim" --peers "$(peers)" \
		--data "$out/small/d$victim" --transport "$TRANSPORT" $timing \
		>>"$out/n$victim.log" 2>&1 &
	echo $! >"$out/n$victim.pid"
	big=$(head -c 1000 /dev/zero | tr '\0' v)
	for k in $(seq 1 300); do
		kv put "big$k" "$big" >/dev/null || { echo "write $k failed"; return 1; }
		grep -q "storage failed" "$out/n$victim.log" && break
	done
	grep "storage failed" "$out/n$victim.log" | grep -q "No space left on device" ||
		{ tail -n 5 "$out/n$victim.log"; return 1; }
	put_ok after-full 1 && get_is after-full 1 &&
	! in_node "$victim" "$LAMPORT" kv --server "127.0.0.1:$((port + 1))" \
		--timeout 500 put refused 1 2>/dev/null &&
	stop_node "$victim" KILL || return 1
	# What the full disk holds is what the node has: back, and caught up.
	rm -rf "$out/d$victim" && cp -a "$out/small/d$victim" "$out/" &&
	umount "$out/small" &&
	start_node "$victim" && converged
}

# 3. Five nodes: losing two of them, and concurrent clients.

five_nodes() {
	grow_cluster 5 && start_all && leader=$(wait_leader) && agree
}

five_nodes_lose_two() {
	a=$leader
	b=$(( leader % 5 + 1 ))
	stop_node "$a" KILL
	isolate "$b"
	ok=1
	leader=$(wait_leader "$b") && put_ok five 1 && get_is five 1 || ok=0
	rejoin "$b"
	start_node "$a"
	[ $ok = 1 ] && converged
}

five_nodes_linearizable() {
	workload five 16 4 && linearizable "$out/five.history"
}

echo "TAP version 13"
# make check's debug-kernel lane (see raft_lib.sh) runs the steps that take
# the kernel's paths in ways the others do not: a cluster over AF_LAMPORT, a
# partition and its end.
if [ -n "$partial" ]; then
	echo "1..7"
else
	echo "1..25"
fi
step "3 nodes elect one leader, every node agrees ($TRANSPORT)" first_election
[ -n "$partial" ] || step "a follower's client is redirected to the leader" follower_redirects
[ -n "$partial" ] || step "a retried write is applied exactly once" exactly_once
step "the leader cut off: a new one is elected and takes writes" leader_partitioned
step "the cut-off leader steps down (check-quorum), its term stays (pre-vote)" isolated_leader_steps_down
step "it rejoins without deposing the leader; all converge" rejoin_without_disruption
if [ -z "$partial" ]; then
	step "no progress without a majority, progress again after" no_progress_without_majority
	step "a cut-off leader's uncommitted entries are repaired away" divergent_log_repaired
	step "every node killed and restarted: no acknowledged write lost" all_crash_and_restart
	step "SIGTERM stops a node cleanly; it rejoins" sigterm_stops_cleanly
	step "the log carries Lamport stamps (and times with --log-time); status shows the clock" lamport_stamps_logged
	step "loss, duplication, delay, a leader crash: the history is linearizable" unreliable_network
	step "garbage, truncated, foreign and unknown-node datagrams are dropped" garbage_dropped
	step "malformed client requests get a clear error" bad_client_requests
	step "another cluster's data directory is refused, untouched" foreign_data_dir
	step "a torn record at the log's end is cut off, the node goes on" torn_tail_cut
	step "a corrupt record inside the log: the node refuses, naming file and offset" corruption_refused
	step "flags out of range are refused, naming the flag" bad_flags
	step "a full disk: the node refuses, says why; the cluster goes on" full_disk
	step "5 nodes elect one leader" five_nodes
	step "5 nodes survive losing two" five_nodes_lose_two
	step "5 nodes, 16 clients: the history is linearizable" five_nodes_linearizable
fi
for i in $(seq 1 "$nodes"); do
	[ -e "$out/n$i.pid" ] || continue
	kill -0 "$(cat "$out/n$i.pid")" 2>/dev/null || echo "# node $i died"
done
step "no node crashed" sh -c "! grep -E 'Segmentation|Aborted|AddressSanitizer|core dumped' $out/n*.log"
step "every node stops on SIGTERM with status 0" sh -c '
	for f in '"$out"'/n*.pid; do kill -TERM "$(cat "$f")"; done; sleep 1;
	for f in '"$out"'/n*.pid; do ! kill -0 "$(cat "$f")" 2>/dev/null || exit 1; done'
step "nothing was left running" sh -c "! pgrep -f 'raft serve --id [0-9] --peers 1=198.18.9.1'"

[ $failed -eq 0 ]
