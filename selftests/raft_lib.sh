# SPDX-License-Identifier: GPL-2.0
#
# What the Raft tests share (sourced by raft.sh and raft_ops.sh): a cluster
# of lamport raft serve nodes, one per network namespace on a bridge
# (198.18.9.0/24), a client namespace, and ways to start, stop, cut off and
# question the nodes. The caller sets tag (a namespace prefix) and may set
# port before sourcing it.

n=0
failed=0
LAMPORT=${LAMPORT:-lamport}
LINCHECK=${LINCHECK:-lamport-lincheck}
POKE=${RAFT_POKE:-$here/raft_poke}
if [ -e /sys/module/lamport/parameters/family ]; then
	TRANSPORT=${RAFT_TRANSPORT:-lamport}
else
	TRANSPORT=${RAFT_TRANSPORT:-udp}
fi
tag=${tag:-rf$$}
out=$(mktemp -d /tmp/lamport-raft.XXXXXX)
port=${port:-7000}
nodes=0
# On the debug kernel (KASAN, lockdep, under emulation) everything is many
# times slower: the nodes get 4 times the election timeout and heartbeat
# interval, and the waits grow likewise; the assertions stay the same.
# make check runs only some steps there ($partial set; make check-debug sets
# LAMPORT_DEBUG_FULL and runs them all).
partial=
if [ -n "${LAMPORT_DEBUG_KERNEL:-}" ] && [ -z "${LAMPORT_DEBUG_FULL:-}" ]; then
	partial=1
fi
if [ -n "${LAMPORT_DEBUG_KERNEL:-}" ]; then
	slow=4
	timing="--tick 20 --election 20 --heartbeat 3"
else
	slow=1
	timing=""
fi

# tap.sh's check runs the test in a subshell; these keep state (the leader)
# from one step to the next, so they run in this shell.
step() {	# step DESCRIPTION COMMAND...
	desc=$1
	shift
	n=$((n + 1))
	step_start=$SECONDS
	if "$@" >"$out/step.out" 2>&1; then
		echo "ok $n $desc"
		echo "# took $((SECONDS - step_start)) s"
	else
		echo "not ok $n $desc"
		sed 's/^/# /' "$out/step.out"
		for f in "$out"/n*.log; do
			[ -e "$f" ] || continue
			echo "# ${f##*/}, last lines:"
			tail -n 6 "$f" | sed 's/^/#   /'
		done
		failed=$((failed + 1))
	fi
}

cleanup() {
	for f in "$out"/n*.pid; do
		[ -e "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	for ns in $(ip netns list | awk '{ print $1 }' | grep "^$tag"); do
		ip netns del "$ns"
	done
	umount "$out/small" 2>/dev/null
	[ -n "${RAFT_KEEP:-}" ] || rm -rf "$out"
}
trap cleanup EXIT

addr() { echo "198.18.9.$1"; }
# nsenter joins only the network namespace: cheaper than ip netns exec
# (which also remounts /sys), and the test runs hundreds of commands.
in_ns() { _ns=$1; shift; nsenter --net="/run/netns/$_ns" "$@"; }
in_node() { _node=$1; shift; in_ns "$tag$_node" "$@"; }
in_client() { in_ns "${tag}c" "$@"; }

peers() {
	p=""
	for i in $(seq 1 "$nodes"); do
		p="$p${p:+,}$i=$(addr "$i"):$port"
	done
	echo "$p"
}

servers() {
	s=""
	for i in $(seq 1 "$nodes"); do
		s="$s${s:+,}$(addr "$i"):$((port + 1))"
	done
	echo "$s"
}

attach() {	# attach NAMESPACE IFNAME ADDRESS
	ip netns add "$1" &&
	ip link add "$2" netns "$1" type veth peer name "p$2" netns "${tag}sw" &&
	ip -n "${tag}sw" link set "p$2" master br0 up &&
	ip -n "$1" addr add "$3/24" dev "$2" &&
	ip -n "$1" link set "$2" up &&
	ip -n "$1" link set lo up
}

# Nodes 1..N, the client namespace, and over AF_LAMPORT each node's id
# and its peers.
make_cluster() {
	nodes=$1
	ip netns add "${tag}sw" &&
	ip -n "${tag}sw" link add br0 type bridge &&
	ip -n "${tag}sw" link set br0 up &&
	attach "${tag}c" v0 198.18.9.100 || return 1
	for i in $(seq 1 "$nodes"); do
		attach "$tag$i" "v$i" "$(addr "$i")" || return 1
	done
	[ "$TRANSPORT" = lamport ] || return 0
	for i in $(seq 1 "$nodes"); do
		in_node "$i" "$LAMPORT" node set id "$i" || return 1
		for j in $(seq 1 "$nodes"); do
			[ "$i" = "$j" ] ||
				in_node "$i" "$LAMPORT" peer add "$j" "$(addr "$j")" \
					interval 50ms mult 5 || return 1
		done
	done
}

# Nodes up to N on the same bridge: a new, empty cluster of N nodes (the
# namespaces of the first ones are kept: creating them is slow on the
# debug kernel).
grow_cluster() {
	old_nodes=$nodes
	for i in $(seq 1 "$old_nodes"); do
		stop_node "$i" KILL
	done
	rm -rf "$out"/d*
	nodes=$1
	for i in $(seq $((old_nodes + 1)) "$nodes"); do
		attach "$tag$i" "v$i" "$(addr "$i")" || return 1
	done
	[ "$TRANSPORT" = lamport ] || return 0
	for i in $(seq 1 "$nodes"); do
		[ "$i" -le "$old_nodes" ] ||
			in_node "$i" "$LAMPORT" node set id "$i" || return 1
		for j in $(seq 1 "$nodes"); do
			[ "$i" = "$j" ] || { [ "$i" -le "$old_nodes" ] && [ "$j" -le "$old_nodes" ]; } ||
				in_node "$i" "$LAMPORT" peer add "$j" "$(addr "$j")" \
					interval 50ms mult 5 || return 1
		done
	done
}

# Run from this shell, not a function's subshell: $! is the node itself
# (nsenter execs it), a child of this shell.
start_node() {	# start_node N [OPTIONS...]
	_i=$1
	shift
	# shellcheck disable=SC2086
	nsenter --net="/run/netns/$tag$_i" "$LAMPORT" raft serve --id "$_i" --peers "$(peers)" \
		--data "$out/d$_i" --transport "$TRANSPORT" $timing "$@" \
		>>"$out/n$_i.log" 2>&1 &
	echo $! >"$out/n$_i.pid"
}

start_all() {
	for i in $(seq 1 "$nodes"); do
		start_node "$i" "$@"
	done
}

stop_node() {	# stop_node N [SIGNAL]: waits until it is gone
	[ -e "$out/n$1.pid" ] || return 0
	pid=$(cat "$out/n$1.pid")
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	for _ in $(seq 1 $((100 * slow))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	wait "$pid" 2>/dev/null
	echo $? >"$out/n$1.exit"
	rm -f "$out/n$1.pid"
}

kv() { in_client "$LAMPORT" kv --server "$(servers)" "$@"; }

status() {	# status N: the node's status as JSON, asked from inside its netns
	in_node "$1" "$LAMPORT" -j raft status --server "127.0.0.1:$((port + 1))" 2>/dev/null
}

field() {	# field NAME: the value of "NAME" in the JSON on stdin
	grep -o "\"$1\": *\"\\?[^,\"}]*" | head -n 1 | sed 's/.*: *"\?//'
}

role() { status "$1" | field role; }
term_of() { status "$1" | field term; }

# The leader every live node agrees on, within 10 s, or fail.
wait_leader() {	# wait_leader [EXCLUDED NODE]
	for _ in $(seq 1 $((100 * slow))); do
		for i in $(seq 1 "$nodes"); do
			[ "$i" = "${1:-}" ] && continue
			if [ "$(role "$i")" = leader ]; then
				echo "$i"
				return 0
			fi
		done
		sleep 0.1
	done
	echo "no leader within $((10 * slow)) s" >&2
	for i in $(seq 1 "$nodes"); do status "$i" >&2; done
	return 1
}

agree() {	# every live node names the same leader in the same term
	want=""
	for i in $(seq 1 "$nodes"); do
		[ -e "$out/n$i.pid" ] || continue
		s=$(status "$i") || { echo "node $i does not answer"; return 1; }
		got="$(echo "$s" | field leader)/$(echo "$s" | field term)"
		[ -z "$want" ] && want=$got
		[ "$got" = "$want" ] || { echo "node $i says leader/term $got, others $want"; return 1; }
	done
	[ "${want%/*}" != 0 ] || { echo "no leader known"; return 1; }
}

# Applied index and digest equal on the nodes given.
same_state() {	# same_state NODE...
	for _ in $(seq 1 $((100 * slow))); do
		want=""
		ok=1
		for i in "$@"; do
			s=$(status "$i") || { ok=0; break; }
			got="$(echo "$s" | field applied) $(echo "$s" | field digest)"
			[ -z "$want" ] && want=$got
			[ "$got" = "$want" ] || ok=0
		done
		[ $ok = 1 ] && return 0
		sleep 0.1
	done
	for i in "$@"; do status "$i"; echo; done
	return 1
}

# Every node at the same applied index with the same store digest.
converged() {
	# shellcheck disable=SC2046
	same_state $(seq 1 "$nodes")
}

isolate() { ip -n "$tag$1" link set "v$1" down; }
rejoin() { ip -n "$tag$1" link set "v$1" up; }

expect_eq() {	# expect_eq WHAT EXPECTED ACTUAL
	[ "$2" = "$3" ] && return 0
	echo "$1: expected '$2', got '$3'"
	return 1
}

put_ok() { kv put "$1" "$2" >/dev/null; }
get_is() {	# get_is KEY VALUE
	v=$(kv -j get "$1" | field value)
	expect_eq "get $1" "$2" "$v"
}

linearizable() {	# linearizable HISTORY
	"$LINCHECK" "$1" >"$out/lincheck" 2>&1
	rc=$?
	cat "$out/lincheck"
	return $rc
}
