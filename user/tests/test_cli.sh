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
expect_ok "lamport -h" "OBJECT := { node peer socket monitor trace bench }" -h
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
