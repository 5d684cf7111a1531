#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Unloading lamport.ko while network namespaces still hold node state must be
# clean, and a reloaded module must start every existing netns afresh. An open
# AF_LAMPORT socket pins the module, and keeps a deleted netns alive.
# Splats and leaks are caught by the VM harness from the kernel log.

. "$(dirname "$0")/tap.sh"

node_id_is() {	# node_id_is NETNS ID
	ip netns exec "$1" lamport -j node show | grep -q "^{\"id\":$2[,}]"
}

# Two nodes on a veth pair, heartbeating every 10 ms, so that the unload
# happens with timers firing and packets arriving.
make_nodes() {
	ip netns add lu-a && ip netns add lu-b &&
		ip link add va netns lu-a type veth peer name vb netns lu-b &&
		ip -n lu-a addr add 198.18.1.1/24 dev va && ip -n lu-a link set va up &&
		ip -n lu-b addr add 198.18.1.2/24 dev vb && ip -n lu-b link set vb up &&
		ip netns exec lu-a lamport node set id 101 &&
		ip netns exec lu-b lamport node set id 102 &&
		ip netns exec lu-a lamport peer add 102 198.18.1.2 interval 10ms &&
		ip netns exec lu-b lamport peer add 101 198.18.1.1 interval 10ms
}

heartbeats_flow() {
	sleep 0.3
	ip netns exec lu-a lamport -j peer show 102 | grep -q '"state":"alive"'
}

module_gone() {
	! grep -q '^lamport ' /proc/modules && [ ! -e /sys/module/lamport ]
}

# The family carries a module alias: resolving it loads lamport.ko again.
autoloads() {
	lamport node show && grep -q '^lamport ' /proc/modules
}

fresh_after_reload() {
	node_id_is lu-a 0 && node_id_is lu-b 0 &&
		ip netns exec lu-a lamport node set id 103 &&
		node_id_is lu-a 103
}

# An AF_LAMPORT socket held open by a process in netns $1 (pid in $holder),
# started outside check(): its command substitution is a subshell.
hold_socket() {
	ip netns exec "$1" "$(dirname "$0")/lamport_hold" "$2" \
		>/tmp/lamport_hold.out 2>&1 </dev/null &
	holder=$!
}

holder_ready() {
	for _ in $(seq 50); do
		grep -q ready /tmp/lamport_hold.out && return 0
		sleep 0.1
	done
	cat /tmp/lamport_hold.out
	return 1
}

release_socket() {
	kill "$holder" && wait "$holder" 2>/dev/null
	holder=
}

# Each open socket holds a reference on the module.
rmmod_refused() {
	[ "$(cat /sys/module/lamport/refcnt)" -ge 1 ] &&
		! rmmod lamport 2>/dev/null && grep -q '^lamport ' /proc/modules
}

# Sockets are freed after an RCU grace period, their reference with them.
module_unpinned() {
	for _ in $(seq 50); do
		[ "$(cat /sys/module/lamport/refcnt)" -eq 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# A deleted netns lives on while a socket in it is open, and dies after.
netns_del_with_socket() {
	ip netns add lu-c && ip netns exec lu-c lamport node set id 104 &&
		hold_socket lu-c dgram && holder_ready && ip netns del lu-c &&
		kill -0 "$holder" && release_socket
}

cleanup() {
	[ -n "${holder:-}" ] && kill "$holder" 2>/dev/null
	ip netns del lu-a 2>/dev/null
	ip netns del lu-b 2>/dev/null
	ip netns del lu-c 2>/dev/null
}
trap cleanup EXIT

echo "TAP version 13"
echo "1..14"

check "module is loaded" grep -q '^lamport ' /proc/modules
check "two netns get node state" make_nodes
check "netns lu-a holds id 101" node_id_is lu-a 101
check "netns lu-b holds id 102" node_id_is lu-b 102
check "heartbeats flow between them" heartbeats_flow
hold_socket lu-a rdm
check "an RDM socket is held open in lu-a" holder_ready
check "rmmod is refused while the socket is open" rmmod_refused
release_socket
check "closing the socket releases the module" module_unpinned
check "a netns deleted with an open socket dies after it" netns_del_with_socket
check "rmmod with live netns state" rmmod lamport
check "module is gone after unload" module_gone
check "netns survive the unload" ip netns exec lu-a ip link show lo
check "first request autoloads the module" autoloads
check "existing netns start afresh" fresh_after_reload

[ $failed -eq 0 ]
