#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lamport raft serve run as a service: snapshots and log compaction, a
# follower brought back by a snapshot, a corrupt snapshot refused,
# membership changes (a node joins as a non-voter and becomes a voter, a
# member removed during a partition, a leader removing itself), leadership
# transfer, a wiped node refused until removed and added again, leases and
# locks with fencing tokens. Real processes in network namespaces, as in
# raft.sh (whose helpers raft_lib.sh holds).

here=$(cd "$(dirname "$0")" && pwd)
tag=rfo$$
# shellcheck source=raft_lib.sh
. "$here/raft_lib.sh"

snap=300
# make check's debug-kernel lane compacts sooner: its emulated guest writes
# a few entries a second.
[ -n "$partial" ] && snap=40

# Nodes 1..3 are the first members; node 4 is started with --join.
start_joiner() {	# start_joiner N
	nodes_before=$nodes
	nodes=$1
	start_node "$1" --join --snapshot-entries $snap
	nodes=$nodes_before
}

# Writes until every node in LIST has a snapshot past index FLOOR.
write_until_snapshots() {	# write_until_snapshots FLOOR NODE...
	floor=$1
	shift
	for _ in $(seq 1 $((20 * slow))); do
		done_all=1
		for i in "$@"; do
			si=$(status "$i" | field snap_index)
			[ "${si:-0}" -gt "$floor" ] || done_all=0
		done
		[ $done_all = 1 ] && return 0
		kv workload --clients 4 --duration 1 --keys 16 >/dev/null 2>&1
	done
	for i in "$@"; do status "$i"; done
	return 1
}

is_voter() {	# is_voter ASKED NODE: ASKED's membership has NODE as a voter
	status "$1" | grep -q "{\"id\":$2,\"voter\":true"
}

is_member() {	# is_member ASKED NODE
	status "$1" | grep -q "{\"id\":$2,\"voter\":"
}

admin() {	# admin VERB ARGS...: lamport raft add|remove|transfer
	verb=$1
	shift
	in_client "$LAMPORT" raft "$verb" "$@" --server "$(servers)"
}

# 1. Snapshots.

snapshots_taken() {
	make_cluster 4 && nodes=3 && start_all --snapshot-entries $snap &&
	leader=$(wait_leader) && write_until_snapshots 0 1 2 3 &&
	same_state 1 2 3 &&
	first=$(status "$leader" | field first) &&
	[ "$first" -gt 1 ] || { echo "the leader's log starts at ${first:-?}"; return 1; }
}

lagging_follower_gets_snapshot() {
	f=$(( leader % 3 + 1 ))
	isolate "$f"
	last_f=$(status "$f" | field last)
	write_until_snapshots $((last_f + snap)) "$leader" || return 1
	rejoin "$f"
	same_state 1 2 3 &&
	grep -q "installed the leader's snapshot" "$out/n$f.log" ||
		{ echo "node $f did not install a snapshot"; return 1; }
}

restart_loads_snapshot() {
	f=$(( leader % 3 + 1 ))
	lines=$(wc -l <"$out/n$f.log")
	stop_node "$f" TERM && start_node "$f" --snapshot-entries $snap || return 1
	for _ in $(seq 1 $((50 * slow))); do
		tail -n +$((lines + 1)) "$out/n$f.log" |
			grep -q ": snapshot at index [0-9]*" && break
		sleep 0.1
	done
	tail -n +$((lines + 1)) "$out/n$f.log" | grep -q ": snapshot at index [0-9]*" ||
		{ echo "node $f did not load its snapshot"; return 1; }
	same_state 1 2 3
}

corrupt_snapshot_refused() {
	f=$(( leader % 3 + 1 ))
	stop_node "$f" TERM
	file=$(ls "$out/d$f"/snap-*.snap | tail -n 1)
	cp "$file" "$out/snap.good"
	size=$(stat -c %s "$file")
	printf '\xff' | dd of="$file" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	# The log before the snapshot is gone: the node must refuse to start.
	in_node "$f" "$LAMPORT" raft serve --id "$f" --peers "$(peers)" \
		--data "$out/d$f" --transport "$TRANSPORT" $timing >"$out/corrupt" 2>&1 &&
		{ echo "started on a corrupt snapshot"; return 1; }
	cat "$out/corrupt"
	grep -q "${file##*/}" "$out/corrupt" || return 1
	grep -qi "crc\|checksum\|damaged\|bad" "$out/corrupt" || return 1
	cp "$out/snap.good" "$file" &&
	start_node "$f" --snapshot-entries $snap && same_state 1 2 3
}

# 2. Membership.

node_joins() {
	start_joiner 4
	admin add 4 "$(addr 4):$port" || return 1
	for _ in $(seq 1 $((100 * slow))); do
		is_voter "$leader" 4 && break
		sleep 0.1
	done
	is_voter "$leader" 4 || { echo "node 4 never became a voter"; status "$leader"; return 1; }
	nodes=4
	put_ok joined 4 && same_state 1 2 3 4 &&
	grep -q "installed the leader's snapshot" "$out/n4.log" ||
		{ echo "node 4 did not catch up by a snapshot"; return 1; }
}

remove_during_partition() {
	victim=$(( leader % 4 + 1 ))
	isolate "$victim"
	admin remove "$victim" || return 1
	put_ok after-remove 1 || return 1
	term=$(term_of "$leader")
	rejoin "$victim"
	sleep $((2 * slow))
	others=""
	for i in 1 2 3 4; do [ "$i" = "$victim" ] || others="$others $i"; done
	# shellcheck disable=SC2086
	expect_eq "leader after the removed node's return" "$leader" "$(wait_leader "$victim")" &&
	expect_eq "term" "$term" "$(term_of "$leader")" &&
	! is_member "$leader" "$victim" && put_ok removed-gone 1 && same_state $others &&
	# It never got the entry that removed it; a member's answer to its
	# pre-vote tells it, and it stops campaigning.
	for _ in $(seq 1 $((100 * slow))); do
		[ "$(status "$victim" | field removed_by)" -gt 0 ] 2>/dev/null && break
		sleep 0.1
	done &&
	[ "$(status "$victim" | field removed_by)" -gt 0 ] 2>/dev/null &&
	grep -q "says this node was removed from the cluster" "$out/n$victim.log" ||
		{ echo "node $victim was not told it was removed"; status "$victim"; return 1; }
}

leader_removes_itself() {
	old=$leader
	term=$(term_of "$old")
	admin remove "$old" || return 1
	for _ in $(seq 1 $((100 * slow))); do
		leader=$(wait_leader "$old") && [ "$leader" != "$old" ] &&
			[ "$leader" != "$victim" ] && break
		sleep 0.1
	done
	[ "$(term_of "$leader")" -gt "$term" ] ||
		{ echo "no new term after the leader left"; return 1; }
	put_ok after-leader-left 1 &&
	[ "$(role "$old")" != leader ] && ! is_member "$leader" "$old"
}

transfer() {
	to=""
	for i in 1 2 3 4; do
		[ "$i" != "$leader" ] && is_voter "$leader" "$i" && to=$i
	done
	admin transfer "$to" || return 1
	expect_eq "leader after the transfer" "$to" "$(wait_leader)" || return 1
	leader=$to
	put_ok after-transfer 1
}

# The members now: the leader and the other voter left.
members() {
	for i in 1 2 3 4; do is_member "$leader" "$i" && echo "$i"; done
}

wiped_node_refused() {
	w=""
	for i in $(members); do [ "$i" != "$leader" ] && w=$i; done
	stop_node "$w" KILL
	rm -rf "$out/d$w"
	start_node "$w" --snapshot-entries $snap
	sleep $((2 * slow))
	grep -q "from node $w: its data directory is new" "$out/n$leader.log" ||
		{ echo "the leader did not notice node $w was wiped"; return 1; }
	put_ok while-wiped 1 || return 1
	admin remove "$w" && admin add "$w" "$(addr "$w"):$port" || return 1
	for _ in $(seq 1 $((100 * slow))); do
		is_voter "$leader" "$w" && break
		sleep 0.1
	done
	is_voter "$leader" "$w" || { echo "node $w is not a voter again"; return 1; }
	# shellcheck disable=SC2046
	put_ok rejoined 1 && same_state $(members)
}

# 3. Leases and locks.

lease_expires_and_keepalive() {
	id=$(in_client "$LAMPORT" -j lease --server "$(servers)" grant $((2000 * slow)) |
		field lease) || return 1
	[ -n "$id" ] || { echo "no lease id"; return 1; }
	kv put leased v --lease "$id" >/dev/null || return 1
	in_client "$LAMPORT" lease --server "$(servers)" keepalive "$id" \
		--interval $((500 * slow)) --count 6 >/dev/null || return 1
	kv get leased || { echo "the key went while kept alive"; return 1; }
	sleep $((3 * slow))
	kv get leased 2>&1 && { echo "the key outlived its lease"; return 1; }
	id=$(in_client "$LAMPORT" -j lease --server "$(servers)" grant 60000 | field lease)
	kv put revoked v --lease "$id" >/dev/null &&
	in_client "$LAMPORT" lease --server "$(servers)" revoke "$id" >/dev/null || return 1
	kv get revoked >/dev/null 2>&1 && { echo "the key outlived its revoked lease"; return 1; }
	return 0
}

lease_survives_failover() {
	id=$(in_client "$LAMPORT" -j lease --server "$(servers)" grant $((3000 * slow)) |
		field lease) &&
	kv put failover-leased v --lease "$id" >/dev/null || return 1
	old=$leader
	stop_node "$old" KILL
	leader=$(wait_leader "$old") || return 1
	kv get failover-leased ||
		{ echo "the lease ended early, with its leader"; status "$leader"; return 1; }
	start_node "$old" --snapshot-entries $snap
	sleep $((4 * slow))
	kv get failover-leased >/dev/null 2>&1 &&
		{ echo "the lease outlived its ttl after the failover"; return 1; }
	return 0
}

# A holder paused past its lease (SIGSTOP) writes late: its fencing token
# is refused, the new holder's write stays.
paused_holder_is_fenced() {
	ttl=$((1000 * slow))
	# nsenter, not in_client: $! must be the lamport process itself.
	nsenter --net="/run/netns/${tag}c" "$LAMPORT" lock --server "$(servers)" \
		acquire job --ttl $ttl -- \
		sh -c "trap '' TERM; echo \$\$ >$out/holder.pid;
		       echo \$LAMPORT_LOCK_TOKEN >$out/token1; kill -STOP \$\$;
		       $LAMPORT kv --server $(servers) put guarded first \
		           --fence lock/job=\$LAMPORT_LOCK_TOKEN; echo \$? >$out/late" \
		>"$out/holder1" 2>&1 &
	holder=$!
	for _ in $(seq 1 50); do [ -s "$out/token1" ] && break; sleep 0.1; done
	[ -s "$out/token1" ] || { cat "$out/holder1"; return 1; }
	# The holder's lamport process stops too: no more keepalives.
	kill -STOP "$holder"
	sleep $((2 * ttl / 1000 + 1))
	r=$(in_client "$LAMPORT" -j lock --server "$(servers)" acquire job --ttl 60000 \
		--wait $((5000 * slow))) || { echo "$r"; return 1; }
	token2=$(echo "$r" | field token)
	token1=$(cat "$out/token1")
	[ "$token2" -gt "$token1" ] || { echo "token $token2 after $token1"; return 1; }
	kv put guarded second --fence "lock/job=$token2" >/dev/null || return 1
	# The holder wakes up first, its lamport lock process after.
	kill -CONT "$(cat "$out/holder.pid")"
	for _ in $(seq 1 $((100 * slow))); do [ -s "$out/late" ] && break; sleep 0.1; done
	kill -CONT "$holder"
	wait $holder
	expect_eq "the late write's exit status (3: fenced)" 3 "$(cat "$out/late")" &&
	expect_eq "guarded" second "$(kv -j get guarded | field value)"
}

# Clients contending for locks (leases, fenced writes, holders paused past
# their lease) while the leader crashes: lamport-lincheck checks each lock
# and the key it guards as one object, the lease's end being free to fall
# anywhere after its last keepalive.
contended_locks() {
	kv workload --clients 6 --duration $((6 * slow)) --locks 2 \
		--lock-ttl $((300 * slow)) --history "$out/locks.history" \
		>"$out/locks.summary" 2>&1 &
	clients=$!
	sleep $((2 * slow))
	old=$leader
	stop_node "$old" KILL
	leader=$(wait_leader "$old") || return 1
	start_node "$old" --snapshot-entries $snap
	wait $clients || { cat "$out/locks.summary"; return 1; }
	cat "$out/locks.summary"
	grep -q '"op":"fput".*"result":"fenced"' "$out/locks.history" ||
		{ echo "no paused holder was fenced"; return 1; }
	# The summary counts what the history holds.
	acquired=$(sed -n 's/^locks: acquire [0-9]* acquired \([0-9]*\) .*/\1/p' "$out/locks.summary")
	[ "${acquired:-0}" -gt 0 ] || { echo "no lock acquired"; return 1; }
	expect_eq "locks acquired, summary vs history" \
		"$(grep -c '"op":"acquire".*"result":"ok"' "$out/locks.history")" "$acquired" &&
	linearizable "$out/locks.history"
}

# 4. Hints from the failure detector (over AF_LAMPORT, with lamport.ko).

# The followers' detectors are made to declare a live leader dead: nftables
# drops its heartbeats (byte 5 of the lamport header, type 1), not its Raft
# messages (AF_LAMPORT datagrams, type 2). An election at most, no write
# lost or reordered: the clients' history stays linearizable.
false_suspicions() {
	# The checker starts from absent keys: earlier scenarios wrote k0..
	for k in k0 k1 k2 k3; do kv del "$k" >/dev/null 2>&1; done
	kv workload --clients 4 --duration $((4 * slow)) --keys 4 \
		--history "$out/suspect.history" >"$out/suspect.summary" 2>&1 &
	clients=$!
	sleep 1
	said="the failure detector says leader $leader is dead"
	before=$(cat "$out"/n*.log | grep -c "$said")
	for i in $(members); do
		[ "$i" = "$leader" ] && continue
		in_node "$i" nft add table inet lfs &&
		in_node "$i" nft add chain inet lfs in '{ type filter hook input priority 0; }' &&
		in_node "$i" nft add rule inet lfs in ip saddr "$(addr "$leader")" \
			meta l4proto udp @th,104,8 1 drop || return 1
	done
	sleep $((1 * slow))
	for i in $(members); do
		[ "$i" = "$leader" ] || in_node "$i" nft delete table inet lfs
	done
	wait $clients || { cat "$out/suspect.summary"; return 1; }
	[ "$(cat "$out"/n*.log | grep -c "$said")" -gt "$before" ] ||
		{ echo "no follower heard the false verdict"; return 1; }
	linearizable "$out/suspect.history" && put_ok after-suspicion 1
}

echo "TAP version 13"
# make check's debug-kernel lane (see raft_lib.sh) runs the two that carry
# snapshots through the kernel: to a follower that lagged and was cut off.
if [ -n "$partial" ]; then
	echo "1..2"
	step "snapshots every $snap entries: the log is compacted on every node ($TRANSPORT)" snapshots_taken
	step "a follower cut off while the log was compacted is brought back by a snapshot" lagging_follower_gets_snapshot
	[ $failed -eq 0 ]
	exit
fi
if [ "$TRANSPORT" = lamport ]; then
	echo "1..14"
else
	echo "1..13"
fi
step "snapshots every $snap entries: the log is compacted on every node ($TRANSPORT)" snapshots_taken
step "a follower cut off while the log was compacted is brought back by a snapshot" lagging_follower_gets_snapshot
step "a restarted node loads its snapshot and replays the rest" restart_loads_snapshot
step "a corrupt snapshot is never loaded: the node refuses, naming the file" corrupt_snapshot_refused
step "node 4 joins as a non-voter, catches up by a snapshot, becomes a voter" node_joins
step "a wiped node is refused until removed and added again" wiped_node_refused
step "a lease's keys vanish when it expires, not while kept alive; revoke ends it" lease_expires_and_keepalive
step "a lease outlives its leader's crash, then expires" lease_survives_failover
step "a holder paused past its lease writes late: its fencing token is refused" paused_holder_is_fenced
step "clients contending for locks through a leader crash: the history is linearizable" contended_locks
step "a member removed during a partition does not disturb the others" remove_during_partition
step "the leader removes itself: it steps down, another leads" leader_removes_itself
step "leadership transfer: the voter named leads" transfer
# Only lamport.ko has a failure detector to hint (the test VMs).
[ "$TRANSPORT" = lamport ] &&
	step "false verdicts of the failure detector cost an election at most" false_suspicions
[ $failed -eq 0 ]
