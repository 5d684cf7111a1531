#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Command line behaviour of lamport that needs no kernel module: help,
# options, and argument errors, which must be caught before netlink is
# opened.  Commands reaching the kernel are accepted either way: working
# (module loaded) or failing with the "not loaded" error.
#
#	LAMPORT=path/to/lamport sh test_cli.sh

LAMPORT=${LAMPORT:-../../build/user/lamport}
NOT_LOADED='Error: lamport.ko is not loaded (generic netlink family "lamport" not found).'

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
count=0
failed=0

# run ARGS...: sets $rc, $out and $err.
run()
{
	"$LAMPORT" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

report()
{
	count=$((count + 1))
	if [ "$1" = ok ]; then
		echo "ok $count - $2"
	else
		echo "not ok $count - $2"
		echo "#   rc=$rc"
		printf '%s\n' "$out" | sed 's/^/#   stdout: /'
		printf '%s\n' "$err" | sed 's/^/#   stderr: /'
		failed=$((failed + 1))
	fi
}

# expect_ok "what" "stdout substring" ARGS...
expect_ok()
{
	what=$1 want=$2
	shift 2
	run "$@"
	case $out in
	*"$want"*) [ "$rc" -eq 0 ] && [ -z "$err" ] && report ok "$what" && return ;;
	esac
	report fail "$what"
}

# expect_err "what" "exact stderr" ARGS...
expect_err()
{
	what=$1 want=$2
	shift 2
	run "$@"
	if [ "$rc" -eq 1 ] && [ "$err" = "$want" ] && [ -z "$out" ]; then
		report ok "$what"
	else
		report fail "$what"
	fi
}

# expect_kernel "what" "stdout if loaded" ARGS...
expect_kernel()
{
	what=$1 want=$2
	shift 2
	run "$@"
	if [ "$rc" -eq 1 ] && [ "$err" = "$NOT_LOADED" ] && [ -z "$out" ]; then
		report ok "$what (module not loaded)"
		return
	fi
	case $out in
	*"$want"*) [ "$rc" -eq 0 ] && report ok "$what" && return ;;
	esac
	report fail "$what"
}

if [ ! -x "$LAMPORT" ]; then
	echo "Bail out! $LAMPORT is not built"
	exit 1
fi

expect_ok "lamport help" "Usage: lamport [ OPTIONS ] OBJECT" help
expect_ok "lamport -help" "Usage: lamport [ OPTIONS ] OBJECT" -help
expect_ok "lamport -h" "OBJECT := { node peer socket monitor trace bench raft kv lease lock }" -h
expect_ok "lamport trace help" "Usage: lamport trace { handshake | timewait | cong | conn }" trace help
expect_ok "lamport trace -h" "Usage: lamport trace { handshake | timewait | cong | conn }" trace -h
expect_ok "lamport trace conn --help" "OPTIONS := [ -p PID ] [ --port PORT ]" trace conn --help
expect_ok "lamport help help" "Usage: lamport [ OPTIONS ] OBJECT" help help
expect_ok "lamport help node" "Usage: lamport node [ show ]" help node
expect_ok "lamport node help" "Usage: lamport node [ show ]" node help
expect_ok "lamport n h (prefixes)" "lamport node set [ id ID ]" n h
expect_ok "lamport node show -h" "Usage: lamport node [ show ]" node show -h
expect_ok "lamport node --help" "Usage: lamport node [ show ]" node --help
expect_ok "lamport node set help" "lamport node set [ id ID ] [ port PORT ] [ addr ADDR ]" node set help
expect_ok "lamport help peer" "Usage: lamport peer [ show [ ID ] ]" help peer
expect_ok "lamport peer help" "lamport peer add ID ENDPOINT [ OPTION ]..." peer help
expect_ok "lamport p h (prefixes)" "lamport peer del ID" p h
expect_ok "lamport peer add help" "lamport peer set ID [ addr ENDPOINT ]" peer add help
expect_ok "lamport peer set -h" "Usage: lamport peer" peer set -h
expect_ok "lamport peer del help" "Usage: lamport peer" peer del help
expect_ok "lamport peer show help" "Usage: lamport peer" peer show help
expect_ok "lamport help socket" "Usage: lamport socket [ show ]" help socket
expect_ok "lamport socket help" "Usage: lamport socket [ show ]" socket help
expect_ok "lamport s h (prefixes)" "-s adds the counters of each socket" s h
expect_ok "lamport socket show help" "Usage: lamport socket" socket show help
expect_ok "lamport help monitor" "Usage: lamport monitor [ count COUNT ]" help monitor
expect_ok "lamport monitor help" "Usage: lamport monitor [ count COUNT ]" monitor help
expect_ok "lamport m -h" "Usage: lamport monitor" m -h
expect_ok "lamport bench help" "Usage: lamport bench fd [ -o DIR ]" bench help
expect_ok "lamport b fd -h" "Usage: lamport bench fd" b fd -h
expect_ok "lamport raft help" "Usage: lamport raft status [ --server ADDR ]" raft help
expect_ok "lamport help raft" "lamport raft status --all [ --server LIST ]" help raft
expect_ok "lamport raft status -h" "Usage: lamport raft status" raft status -h
expect_ok "lamport kv help" "Usage: lamport kv [ --server LIST ] [ --timeout MS ] [ --client ID ]" kv help
expect_ok "lamport help kv" "cas KEY --absent NEW" help kv
expect_ok "lamport kv get -h" "WORKLOAD := [ --clients N ]" kv get -h
expect_ok "lamport raft help: add" "lamport raft add ID RAFT_ADDR [ CLUSTER ]" raft help
expect_ok "lamport raft help: transfer" "lamport raft transfer ID [ --wait MS ] [ CLUSTER ]" raft help
expect_ok "lamport raft add -h" "Usage: lamport raft status" raft add -h
expect_ok "lamport kv help: leases and fences" "WRITE := [ --lease ID ] [ FENCE ]" kv help
expect_ok "lamport kv help: exit status" "3 fenced (FKEY is not at revision TOKEN); 4 no such lease." kv help
expect_ok "lamport lease help" "Usage: lamport lease [ CLUSTER ] grant TTL_MS" lease help
expect_ok "lamport help lease" "lamport lease [ CLUSTER ] keepalive ID [ --interval MS ] [ --count N ]" help lease
expect_ok "lamport lease -h" "Exit status: 0 done; 1 on error; 4 the lease does not exist" lease -h
expect_ok "lamport lock help" "Usage: lamport lock [ CLUSTER ] acquire NAME --ttl MS [ --wait MS ]" lock help
expect_ok "lamport help lock" "lamport lock [ CLUSTER ] release NAME --token TOKEN" help lock
expect_ok "lamport lock -h" "2 the lock is held by another" lock -h
expect_ok "lamport -V" "lamport utility, " -V
expect_ok "lamport -Version" "lamport utility, " -Version

run
if [ "$rc" -eq 1 ] && [ -z "$out" ] && [ "${err#Usage: lamport}" != "$err" ]; then
	report ok "no arguments: usage on stderr, status 1"
else
	report fail "no arguments: usage on stderr, status 1"
fi

expect_err "unknown object" \
	'Error: object "frob" is unknown, try "lamport help".' frob
expect_err "unknown object after help" \
	'Error: object "frob" is unknown, try "lamport help".' help frob
expect_err "unknown option" \
	'Error: option "-x" is unknown, try "lamport -help".' -x node
expect_err "unknown command" \
	'Error: command "frob" is unknown, try "lamport node help".' node frob
expect_err "unknown trace command" \
	'Error: command "frob" is unknown, try "lamport trace help".' trace frob
expect_err "unknown trace option" \
	'Error: option "-x" is unknown, try "lamport trace help".' trace conn -x
expect_err "trace -p is a pid, not -pretty" \
	'Error: argument "abc" is wrong: not a process id' trace conn -p abc
expect_err "show takes no argument" \
	'Error: argument "extra" is unknown, try "lamport node help".' node show extra
expect_err "set without anything" \
	'Error: nothing to set, try "lamport node help".' node set
expect_err "id without value" \
	'Error: argument "id" needs a value' node set id
expect_err "id without value, after -j" \
	'Error: argument "id" needs a value' node set id -j
expect_err "unknown set keyword" \
	'Error: argument "frob" is unknown, try "lamport node help".' node set frob 1
expect_err "duplicate id" \
	'Error: duplicate "id": "2" is the second value.' node set id 1 id 2
expect_err "id not a number" \
	'Error: argument "12x" is wrong: node id is not a number' node set id 12x
expect_err "negative id" \
	'Error: argument "-1" is wrong: node id is not a number' node set id -1
expect_err "empty id" \
	'Error: argument "" is wrong: node id is not a number' node set id ""
expect_err "id overflows u32" \
	'Error: argument "4294967296" is wrong: node id is out of range' node set id 4294967296
expect_err "-- makes -j a plain word" \
	'Error: argument "-j" is unknown, try "lamport node help".' node show -- -j
expect_err "node port without value" \
	'Error: argument "port" needs a value' node set id 1 port
expect_err "node port 0" \
	'Error: argument "0" is wrong: port is out of range' node set port 0
expect_err "node port overflows u16" \
	'Error: argument "65536" is wrong: port is out of range' node set port 65536
expect_err "node port not a number" \
	'Error: argument "19x" is wrong: port is not a number' node set port 19x
expect_err "duplicate node port" \
	'Error: duplicate "port": "2" is the second value.' node set port 1 port 2
expect_err "node addr with a port" \
	'Error: argument "198.18.0.1:1978" is wrong: address is not an IPv4 or IPv6 address' \
	node set addr 198.18.0.1:1978
expect_err "node addr any (omit it instead)" \
	'Error: argument "any" is wrong: address is not an IPv4 or IPv6 address' node set addr any
expect_err "duplicate node addr" \
	'Error: duplicate "addr": "::2" is the second value.' node set addr ::1 addr ::2

expect_err "unknown peer command" \
	'Error: command "frob" is unknown, try "lamport peer help".' peer frob
expect_err "peer add without id" \
	'Error: argument "ID" is required' peer add
expect_err "peer add without endpoint" \
	'Error: argument "ENDPOINT" is required' peer add 2
expect_err "peer id not a number" \
	'Error: argument "two" is wrong: peer id is not a number' peer add two 198.18.0.2
expect_err "peer id overflows u32" \
	'Error: argument "4294967296" is wrong: peer id is out of range' peer add 4294967296 198.18.0.2
expect_err "peer endpoint not an address" \
	'Error: argument "node2" is wrong: address is not an IPv4 or IPv6 address' peer add 2 node2
expect_err "peer endpoint port 0" \
	'Error: argument "198.18.0.2:0" is wrong: port is out of range' peer add 2 198.18.0.2:0
expect_err "peer endpoint port overflows" \
	'Error: argument "[fd00::2]:65536" is wrong: port is out of range' peer add 2 '[fd00::2]:65536'
expect_err "peer endpoint port junk" \
	'Error: argument "198.18.0.2:" is wrong: port is not a number' peer add 2 198.18.0.2:
expect_err "peer interval junk" \
	'Error: argument "10xs" is wrong: interval is not a duration' peer add 2 198.18.0.2 interval 10xs
expect_err "peer interval negative" \
	'Error: argument "-1" is wrong: interval is not a duration' peer add 2 198.18.0.2 interval -1
expect_err "peer interval overflows u32 us" \
	'Error: argument "4295s" is wrong: interval is out of range' peer add 2 198.18.0.2 interval 4295s
expect_err "peer interval below 1us" \
	'Error: argument "1.5us" is wrong: interval is not a whole number of microseconds' \
	peer add 2 198.18.0.2 interval 1.5us
expect_err "peer mult overflows u8" \
	'Error: argument "256" is wrong: mult is out of range' peer add 2 198.18.0.2 mult 256
expect_err "peer mult junk" \
	'Error: argument "3x" is wrong: mult is not a number' peer add 2 198.18.0.2 mult 3x
expect_err "peer mode unknown" \
	'Error: argument "accrual" is wrong: mode is not "fixed" or "phi"' peer add 2 198.18.0.2 mode accrual
expect_err "peer threshold 4 decimals" \
	'Error: argument "8.0001" is wrong: threshold has more than 3 decimals' \
	peer add 2 198.18.0.2 threshold 8.0001
expect_err "peer threshold junk" \
	'Error: argument "high" is wrong: threshold is not a number' peer add 2 198.18.0.2 threshold high
expect_err "peer option without value" \
	'Error: argument "threshold" needs a value' peer add 2 198.18.0.2 mode phi threshold
expect_err "peer duplicate port" \
	'Error: duplicate "port": "2001" is the second value.' peer add 2 198.18.0.2:2000 port 2001
expect_err "peer add takes no addr keyword" \
	'Error: argument "addr" is unknown, try "lamport peer help".' peer add 2 198.18.0.2 addr ::1
expect_err "peer set nothing" \
	'Error: nothing to set, try "lamport peer help".' peer set 2
expect_err "peer set addr without value" \
	'Error: argument "addr" needs a value' peer set 2 addr
expect_err "peer set bad addr" \
	'Error: argument "fd00::2]:1" is wrong: address is not an IPv4 or IPv6 address' \
	peer set 2 addr 'fd00::2]:1'
expect_err "peer set duplicate mult" \
	'Error: duplicate "mult": "4" is the second value.' peer set 2 mult 3 mult 4
expect_err "peer del without id" \
	'Error: argument "ID" is required' peer del
expect_err "peer del extra" \
	'Error: argument "3" is unknown, try "lamport peer help".' peer del 2 3
expect_err "peer del bad id" \
	'Error: argument "x" is wrong: peer id is not a number' peer delete x
expect_err "peer show extra" \
	'Error: argument "x" is unknown, try "lamport peer help".' peer show 2 x
expect_err "peer show bad id" \
	'Error: argument "0x" is wrong: peer id is not a number' peer show 0x

expect_err "unknown socket command" \
	'Error: command "frob" is unknown, try "lamport socket help".' socket frob
expect_err "socket show takes no argument" \
	'Error: argument "5000" is unknown, try "lamport socket help".' socket show 5000

expect_err "monitor unknown argument" \
	'Error: argument "frob" is unknown, try "lamport monitor help".' monitor frob
expect_err "bench without a benchmark" \
	'Error: which benchmark? Try "lamport bench help".' bench
expect_err "bench fd bad condition" \
	'Error: argument "nap" is wrong: a condition is idle, cpu, cpu-fifo, mem or loss1..loss50' \
	bench fd conditions nap
expect_err "bench fd cycles 0" \
	'Error: argument "0" is wrong: cycles is 1..1000000' bench fd cycles 0
expect_err "monitor count without value" \
	'Error: argument "count" needs a value' monitor count
expect_err "monitor count 0" \
	'Error: argument "0" is wrong: count is out of range' monitor count 0
expect_err "monitor count junk" \
	'Error: argument "1x" is wrong: count is not a number' monitor count 1x
expect_err "monitor duplicate count" \
	'Error: duplicate "count": "2" is the second value.' monitor count 1 count 2

expect_err "unknown raft command" \
	'Error: command "frob" is unknown, try "lamport raft help".' raft frob
expect_err "raft status unknown argument" \
	'Error: argument "frob" is unknown, try "lamport raft help".' raft status frob
expect_err "raft status --server without value" \
	'Error: argument "--server" needs a value' raft status --server
expect_err "raft status bad address" \
	'Error: argument "198.18.0.1" is wrong: port is missing (ADDR:PORT)' \
	raft status --server 198.18.0.1
expect_err "raft status list without --all" \
	'Error: argument ":7001,:7002" is wrong: one address, or --all for a list' \
	raft status --server :7001,:7002
expect_err "raft status bad timeout" \
	'Error: argument "1s" is wrong: timeout is not a number of milliseconds' \
	raft status --timeout 1s
expect_err "raft status, nobody there" \
	'Error: no answer from 127.0.0.1:1 within 1000 ms' raft status --server 127.0.0.1:1
expect_err "raft status --all, nobody there" \
	"$(printf '%s\n%s' 'Error: no answer from 127.0.0.1:1 within 100 ms' \
		'Error: no answer from 127.0.0.1:2 within 100 ms')" \
	raft status --all --server 127.0.0.1:1,:2 --timeout 100

long_key=$(printf '%0300d' 0)
long_value=$(printf '%01025d' 0)
expect_err "kv without an operation" \
	'Error: argument "OP" is required' kv --timeout 100
expect_err "kv unknown operation" \
	'Error: command "frob" is unknown, try "lamport kv help".' kv frob k
expect_err "kv --client zero" \
	'Error: argument "0" is wrong: client id must be 1..2^64-1' kv --client 0 get k
expect_err "kv --seq not a number" \
	'Error: argument "x" is wrong: seq must be 1..2^64-1' kv --seq x get k
expect_err "kv get without key" \
	'Error: argument "KEY" is required' kv get
expect_err "kv put without value" \
	'Error: argument "VALUE" is required' kv put k
expect_err "kv cas --absent without new value" \
	'Error: argument "NEW" is required' kv cas k --absent
expect_err "kv get extra argument" \
	'Error: argument "x" is unknown, try "lamport kv help".' kv get k x
expect_err "kv empty key" \
	'Error: argument "" is wrong: key is empty' kv del ""
expect_err "kv key too long" \
	'Error: key is 300 bytes, at most 255' kv get "$long_key"
expect_err "kv value too long" \
	'Error: value is 1025 bytes, at most 1024' kv put k "$long_value"
expect_err "kv --timeout junk" \
	'Error: argument "abc" is wrong: timeout is not a number of milliseconds' \
	kv get k --timeout abc
expect_err "kv --timeout 0" \
	'Error: argument "0" is wrong: timeout is out of range (1..3600000 ms)' \
	kv get k --timeout 0
expect_err "kv --timeout without value" \
	'Error: argument "--timeout" needs a value' kv get k --timeout
expect_err "kv duplicate --server" \
	'Error: duplicate "--server": ":2" is the second value.' \
	kv --server :1 get k --server :2
expect_err "kv server not an address" \
	'Error: argument "localhost:7001" is wrong: address is not IPv4 or [IPv6]' \
	kv get k --server localhost:7001
expect_err "kv server without port" \
	'Error: argument "198.18.0.1" is wrong: port is missing (ADDR:PORT)' \
	kv get k --server 198.18.0.1:7001,198.18.0.1
expect_err "kv server port out of range" \
	'Error: argument "[fd00::1]:70000" is wrong: port is out of range' \
	kv get k --server '[fd00::1]:70000'
expect_err "kv IPv6 server without brackets" \
	'Error: argument "fd00::1:7001" is wrong: an IPv6 address goes in brackets: [ADDR]:PORT' \
	kv get k --server fd00::1:7001
expect_err "kv empty server in the list" \
	'Error: argument "" is wrong: an address is empty' kv get k --server :7001,
expect_err "kv get, nobody there" \
	'Error: no answer from 127.0.0.1:1 within 300 ms' \
	kv get k --server 127.0.0.1:1 --timeout 300
expect_err "kv put, nobody there" \
	'Error: no answer from 127.0.0.1:1, 127.0.0.1:2 within 200 ms (the write may or may not have happened)' \
	kv put k v --server 127.0.0.1:1,:2 --timeout 200
LAMPORT_RAFT_SERVERS=nowhere
export LAMPORT_RAFT_SERVERS
expect_err "kv servers from LAMPORT_RAFT_SERVERS" \
	'Error: argument "nowhere" is wrong: port is missing (ADDR:PORT)' kv get k
unset LAMPORT_RAFT_SERVERS
expect_err "kv put --lease junk" \
	'Error: kv put: "x" is not a lease id 1..18446744073709551615' kv put k v --lease x
expect_err "kv put --lease 0" \
	'Error: kv put: "0" is not a lease id 1..18446744073709551615' kv put k v --lease 0
expect_err "kv cas --lease overflows" \
	'Error: kv cas: "18446744073709551616" is not a lease id 1..18446744073709551615' \
	kv cas k --absent v --lease 18446744073709551616
expect_err "kv put --lease without value" \
	'Error: argument "--lease" needs a value' kv put k v --lease
expect_err "kv put duplicate --lease" \
	'Error: duplicate "--lease": "2" is the second value.' kv put k v --lease 1 --lease 2
expect_err "kv del takes no --lease" \
	'Error: argument "--lease" is unknown, try "lamport kv help".' kv del k --lease 1
expect_err "kv get takes no --fence" \
	'Error: argument "--fence" is unknown, try "lamport kv help".' kv get k --fence k=1
expect_err "kv put --fence without =" \
	'Error: kv put: "lock/x" is not a fence KEY=TOKEN' kv put k v --fence lock/x
expect_err "kv del --fence without key" \
	'Error: kv del: "=5" is not a fence KEY=TOKEN' kv del k --fence =5
expect_err "kv put --fence token 0" \
	'Error: kv put: "0" is not a fence token 1..18446744073709551615' kv put k v --fence lock/x=0
expect_err "kv cas --fence token junk" \
	'Error: kv cas: "4x" is not a fence token 1..18446744073709551615' \
	kv cas k old new --fence lock/x=4x
expect_err "kv put --fence key too long" \
	"Error: kv put: \"$long_key=1\" is not a fence KEY=TOKEN: KEY is over 255 bytes" \
	kv put k v --fence "$long_key=1"
expect_err "kv del --fence without value" \
	'Error: argument "--fence" needs a value' kv del k --fence
expect_err "kv put with a lease, nobody there" \
	'Error: no answer from 127.0.0.1:1 within 200 ms (the write may or may not have happened)' \
	kv put k v --lease 3 --fence lock/x=7 --server 127.0.0.1:1 --timeout 200

expect_err "raft add without id" 'Error: argument "ID" is required' raft add
expect_err "raft add without address" \
	'Error: argument "RAFT_ADDR" is required' raft add 4
expect_err "raft add id junk" \
	'Error: raft add: "x" is not a node id 1..4294967295' raft add x 198.18.0.4:7001
expect_err "raft add id 0" \
	'Error: raft add: "0" is not a node id 1..4294967295' raft add 0 198.18.0.4:7001
expect_err "raft add id overflows u32" \
	'Error: raft add: "4294967296" is not a node id 1..4294967295' \
	raft add 4294967296 198.18.0.4:7001
expect_err "raft add address without port" \
	'Error: raft add: "198.18.0.4" is not a Raft address: port is missing (ADDR:PORT)' \
	raft add 4 198.18.0.4
expect_err "raft add address, port 65535" \
	'Error: raft add: ":65535" is not a Raft address: port 65535 leaves no port for clients (PORT + 1)' \
	raft add 4 :65535
expect_err "raft add extra argument" \
	'Error: argument "x" is unknown, try "lamport raft help".' raft add 4 :7007 x
expect_err "raft add takes no --wait" \
	'Error: argument "--wait" is unknown, try "lamport raft help".' raft add 4 :7007 --wait 1
expect_err "raft remove without id" 'Error: argument "ID" is required' raft remove
expect_err "raft remove id junk" \
	'Error: raft remove: "two" is not a node id 1..4294967295' raft remove two
expect_err "raft remove extra argument" \
	'Error: argument "3" is unknown, try "lamport raft help".' raft remove 2 3
expect_err "raft remove bad timeout" \
	'Error: argument "0" is wrong: timeout is out of range (1..3600000 ms)' \
	raft remove 2 --timeout 0
expect_err "raft remove bad server" \
	'Error: argument "nowhere" is wrong: port is missing (ADDR:PORT)' \
	raft remove 2 --server nowhere
expect_err "raft transfer without id" 'Error: argument "ID" is required' raft transfer
expect_err "raft transfer --wait without value" \
	'Error: argument "--wait" needs a value' raft transfer 2 --wait
expect_err "raft transfer --wait junk" \
	'Error: raft transfer: "1s" is not a wait of 0..3600000 ms' raft transfer 2 --wait 1s
expect_err "raft transfer --wait too long" \
	'Error: raft transfer: "3600001" is not a wait of 0..3600000 ms' \
	raft transfer 2 --wait 3600001
expect_err "raft transfer duplicate --wait" \
	'Error: duplicate "--wait": "2" is the second value.' raft transfer 2 --wait 1 --wait 2
expect_err "raft transfer, nobody there" \
	'Error: raft transfer: no answer within 200 ms (asking 127.0.0.1:1)' \
	raft transfer 2 --server 127.0.0.1:1 --timeout 200
LAMPORT_RAFT_SERVERS=127.0.0.1:1,127.0.0.1:2
export LAMPORT_RAFT_SERVERS
expect_err "raft add, nobody in LAMPORT_RAFT_SERVERS" \
	'Error: raft add: no answer within 200 ms (asking 127.0.0.1:1, 127.0.0.1:2)' \
	raft add 4 198.18.0.4:7001 --timeout 200
unset LAMPORT_RAFT_SERVERS

run lease
if [ "$rc" -eq 1 ] && [ -z "$out" ] && [ "${err#Usage: lamport lease}" != "$err" ]; then
	report ok "lease without a command: usage on stderr, status 1"
else
	report fail "lease without a command: usage on stderr, status 1"
fi
expect_err "unknown lease command" \
	'Error: command "frob" is unknown, try "lamport lease help".' lease frob
expect_err "lease with options only" \
	'Error: argument "COMMAND" is required' lease --timeout 100
expect_err "lease grant without ttl" 'Error: argument "TTL_MS" is required' lease grant
expect_err "lease grant ttl 0" \
	'Error: lease grant: "0" is not a ttl of 1..3600000 ms' lease grant 0
expect_err "lease grant ttl too long" \
	'Error: lease grant: "3600001" is not a ttl of 1..3600000 ms' lease grant 3600001
expect_err "lease grant ttl junk" \
	'Error: lease grant: "10s" is not a ttl of 1..3600000 ms' lease grant 10s
expect_err "lease grant extra argument" \
	'Error: argument "x" is unknown, try "lamport lease help".' lease grant 100 x
expect_err "lease grant bad timeout" \
	'Error: argument "x" is wrong: timeout is not a number of milliseconds' \
	lease --timeout x grant 100
expect_err "lease grant, nobody there" \
	'Error: no answer from 127.0.0.1:1 within 200 ms (the write may or may not have happened)' \
	lease grant 100 --server 127.0.0.1:1 --timeout 200
expect_err "lease keepalive without id" 'Error: argument "ID" is required' lease keepalive
expect_err "lease keepalive id junk" \
	'Error: lease keepalive: "x" is not a lease id 1..18446744073709551615' lease keepalive x
expect_err "lease keepalive --interval 0" \
	'Error: lease keepalive: "0" is not an interval of 1..3600000 ms' \
	lease keepalive 5 --interval 0
expect_err "lease keepalive --count 0" \
	'Error: lease keepalive: "0" is not a count 1..4294967295' lease keepalive 5 --count 0
expect_err "lease keepalive --count without value" \
	'Error: argument "--count" needs a value' lease keepalive 5 --count
expect_err "lease keepalive duplicate --interval" \
	'Error: duplicate "--interval": "2" is the second value.' \
	lease keepalive 5 --interval 1 --interval 2
expect_err "lease revoke id 0" \
	'Error: lease revoke: "0" is not a lease id 1..18446744073709551615' lease revoke 0
expect_err "lease revoke without id" 'Error: argument "ID" is required' lease revoke

long_name=$(printf '%0251d' 0)
expect_err "unknown lock command" \
	'Error: command "frob" is unknown, try "lamport lock help".' lock frob
expect_err "lock acquire without name" 'Error: argument "NAME" is required' lock acquire
expect_err "lock acquire without --ttl" 'Error: argument "--ttl" is required' lock acquire x
expect_err "lock acquire --ttl 0" \
	'Error: lock acquire: "0" is not a ttl of 1..3600000 ms' lock acquire x --ttl 0
expect_err "lock acquire --wait junk" \
	'Error: lock acquire: "-1" is not a wait of 0..3600000 ms' \
	lock acquire x --ttl 100 --wait -1
expect_err "lock acquire empty name" \
	'Error: lock acquire: "" is not a lock name (1..250 bytes)' lock acquire "" --ttl 100
expect_err "lock acquire name too long" \
	"Error: lock acquire: \"$long_name\" is not a lock name (1..250 bytes)" \
	lock acquire "$long_name" --ttl 100
expect_err "lock acquire extra argument" \
	'Error: argument "y" is unknown, try "lamport lock help".' lock acquire x y --ttl 100
expect_err "lock acquire command without --" \
	'Error: argument "true" is unknown, try "lamport lock help".' \
	lock acquire x --ttl 100 true
expect_err "lock acquire -- without command" \
	'Error: argument "COMMAND" is required' lock acquire x --ttl 100 --
expect_err "lock acquire --ttl after --" \
	'Error: argument "--ttl" is required' lock acquire x -- sh --ttl 100
expect_err "lock acquire, nobody there: the command does not run" \
	'Error: no answer from 127.0.0.1:1 within 200 ms (the write may or may not have happened)' \
	lock acquire x --ttl 100 --server 127.0.0.1:1 --timeout 200 -- echo ran
expect_err "lock release without --token" \
	'Error: argument "--token" is required' lock release x
expect_err "lock release without name" \
	'Error: argument "NAME" is required' lock release --token 5
expect_err "lock release token 0" \
	'Error: lock release: "0" is not a token 1..18446744073709551615' \
	lock release x --token 0
expect_err "lock release, nobody there" \
	'Error: no answer from 127.0.0.1:1 within 200 ms' \
	lock release x --token 5 --server 127.0.0.1:1 --timeout 200

expect_err "kv workload unknown option" \
	'Error: argument "--frob" is unknown, try "lamport kv help".' kv workload --frob 1
expect_err "kv workload --clients 0" \
	'Error: argument "0" is wrong: clients is out of range (1..1024)' \
	kv workload --clients 0
expect_err "kv workload --ops junk" \
	'Error: argument "many" is wrong: ops is not a number' kv workload --ops many
expect_err "kv workload --duration junk" \
	'Error: argument "1m" is wrong: duration is not a number of seconds' \
	kv workload --duration 1m
expect_err "kv workload --value-size too large" \
	'Error: argument "601" is wrong: value size is out of range (0..600)' \
	kv workload --value-size 601
expect_err "kv workload bad mix" \
	'Error: argument "put=1,scan=1" is wrong: mix is OP=WEIGHT,... with OP get, put, del or cas' \
	kv workload --mix put=1,scan=1
expect_err "kv workload all weights 0" \
	'Error: argument "put=0" is wrong: every weight is 0' kv workload --mix put=0
expect_err "kv workload duplicate --keys" \
	'Error: duplicate "--keys": "3" is the second value.' kv workload --keys 2 --keys 3
expect_err "kv workload --history without value" \
	'Error: argument "--history" needs a value' kv workload --history

# The summary, then the error.
run kv workload --server 127.0.0.1:1 --timeout 100 --ops 2 --clients 1 -j
case $out in
'{"clients":1,'*'"ops":2,'*'"unknown":2,'*)
	[ "$rc" -eq 1 ] &&
		[ "$err" = 'Error: no operation got an answer from 127.0.0.1:1' ] &&
		report ok "kv workload, nobody there" ||
		report fail "kv workload, nobody there" ;;
*)
	report fail "kv workload, nobody there" ;;
esac

expect_kernel "lamport node" "node id " node
expect_kernel "lamport node show" "node id " node show
expect_kernel "lamport n s" "node id " n s
expect_kernel "lamport -j node show" '{"id":' -j node show
expect_kernel "lamport node show -json" '{"id":' node show -json
expect_kernel "lamport --json node" '{"id":' --json node
expect_kernel "lamport -p node" '    "id": ' -p node
expect_kernel "lamport -s node show" "node id " -s node show
expect_kernel "lamport peer" "" peer
expect_kernel "lamport peer show -s" "" peer show -s
expect_kernel "lamport -j peer show" "[" -j peer show
expect_kernel "lamport socket" "Type  " socket
expect_kernel "lamport socket show -s" "Type  " socket show -s
expect_kernel "lamport -j socket show" "[" -j socket show

# Not loaded, it fails; loaded, with no events, SIGTERM from timeout ends it
# with status 0 and nothing printed.
timeout 2 "$LAMPORT" monitor >"$tmp/out" 2>"$tmp/err"
rc=$?
out=$(cat "$tmp/out")
err=$(cat "$tmp/err")
if { [ "$rc" -eq 1 ] && [ "$err" = "$NOT_LOADED" ]; } ||
   { [ "$rc" -eq 0 ] && [ -z "$err" ]; }; then
	[ -z "$out" ] && report ok "lamport monitor: not loaded, or ends on SIGTERM" ||
		report fail "lamport monitor: not loaded, or ends on SIGTERM"
else
	report fail "lamport monitor: not loaded, or ends on SIGTERM"
fi

echo "1..$count"
[ "$failed" -eq 0 ]
