#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# lamport trace against independent truth.  Two network namespaces joined by
# a veth pair make known TCP activity (tcpgen); the tracers' JSON lines must
# report exactly that, and agree with ss, /proc/net/sockstat and the
# kernel's own counters read at the same moment.
#
# Runs in the test VMs (full mode: kprobes) and on the host (make test-user:
# tracepoint-only mode), as root.  Loss comes from netem where the kernel
# has it (the VMs) and from an nftables random-drop rule otherwise
# (TRACE_LOSS=nft, the host).
#
#	LAMPORT=path/to/lamport TCPGEN=path/to/tcpgen sh trace.sh

here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"

# make check's debug-kernel lane runs the first part (the tracers' programs
# loaded and checked against real connections, bad input); make check-debug
# sets LAMPORT_DEBUG_FULL and runs it all.
partial=
if [ -n "${LAMPORT_DEBUG_KERNEL:-}" ] && [ -z "${LAMPORT_DEBUG_FULL:-}" ]; then
	partial=1
fi
LAMPORT=${LAMPORT:-lamport}
TCPGEN=${TCPGEN:-$here/tcpgen}
TRACE_LOSS=${TRACE_LOSS:-netem}
cns=ltc$$
sns=lts$$
out=$(mktemp -d /tmp/lamport-trace.XXXXXX)
pids=""

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	ip netns del "$cns" 2>/dev/null
	ip netns del "$sns" 2>/dev/null
	[ -n "${TRACE_KEEP:-}" ] || rm -rf "$out"
}
trap cleanup EXIT

in_c() { ip netns exec "$cns" "$@"; }
in_s() { ip netns exec "$sns" "$@"; }

setup() {
	ip netns add "$cns" && ip netns add "$sns" &&
	ip link add veth-c netns "$cns" type veth peer name veth-s netns "$sns" &&
	in_c ip addr add 198.18.7.1/24 dev veth-c &&
	in_s ip addr add 198.18.7.2/24 dev veth-s &&
	in_c ip addr add fd00:7::1/64 dev veth-c nodad &&
	in_s ip addr add fd00:7::2/64 dev veth-s nodad &&
	in_c ip link set lo up && in_s ip link set lo up &&
	in_c ip link set veth-c up && in_s ip link set veth-s up
}

# tracer NAME ARGS...: lamport trace ARGS -j in the background, into
# $out/NAME (its pid in $out/NAME.pid).  Not in a subshell: check runs its
# command in one.
tracer() {
	name=$1
	shift
	"$LAMPORT" trace "$@" -j >"$out/$name" 2>"$out/$name.err" &
	echo $! >"$out/$name.pid"
	pids="$pids $!"
}

started() {	# started NAME...: wait for each tracer's start line
	for name in "$@"; do
		i=0
		while ! grep -q '"event":"start"' "$out/$name" 2>/dev/null; do
			i=$((i + 1))
			if [ $i -gt 300 ] || ! kill -0 "$(cat "$out/$name.pid")" 2>/dev/null; then
				echo "tracer $name did not start:"
				cat "$out/$name.err"
				return 1
			fi
			sleep 0.1
		done
	done
}

stop_tracer() {	# stop_tracer NAME: SIGINT, wait for its summary line
	p=$(cat "$out/$1.pid")
	kill -INT "$p" 2>/dev/null
	i=0
	while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do
		i=$((i + 1))
		sleep 0.1
	done
}

# lines FILE PATTERN...: JSON lines of FILE containing every PATTERN.
lines() {
	f=$out/$1
	shift
	cp "$f" "$out/.sel"
	for p in "$@"; do
		grep -F -- "$p" "$out/.sel" >"$out/.sel2"
		mv "$out/.sel2" "$out/.sel"
	done
	cat "$out/.sel"
}

count() { lines "$@" | grep -c .; }

expect() {	# expect WHAT EXPECTED ACTUAL
	[ "$2" = "$3" ] && return 0
	echo "$1: expected $2, got $3"
	return 1
}

field() {	# field NAME: the first number after "NAME": in stdin
	grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2
}

# --- the mode ----------------------------------------------------------------

if [ -e /sys/bus/event_source/devices/kprobe/type ]; then
	mode=full
else
	mode=tracepoint-only
fi

features_mode() {
	"$LAMPORT" trace features -j | grep -q "\"mode\":\"$mode\"" ||
		{ "$LAMPORT" trace features; return 1; }
}
check "trace features: $mode mode on this kernel" features_mode

check "two netns joined by veth" setup

# --- handshakes, connections, TIME_WAIT --------------------------------------

nft_syn_rules() {
	in_s nft -f - <<-EOF
		table inet ltrace {
			chain in {
				type filter hook input priority 0;
				tcp dport 5002 tcp flags & (syn | ack) == syn numgen inc mod 2 == 0 drop
				tcp dport 5003 tcp flags & (syn | ack) == syn drop
			}
		}
	EOF
}

check "nftables drops the first SYN to port 5002 and all to 5003" nft_syn_rules
tracer conn_c conn --netns "$cns"
tracer conn_s conn --netns "$sns"
tracer hs_c handshake --netns "$cns"
tracer hs_s handshake --netns "$sns"
tracer tw_c timewait --netns "$cns" -i 0.2
check "tracers started: conn, handshake (both sides), timewait" \
	started conn_c conn_s hs_c hs_s tw_c

traffic() {
	# ip netns exec execs: $! is tcpgen's own pid.
	ip netns exec "$sns" "$TCPGEN" server -a 198.18.7.2 -P 5000 -n 5 -r 1000 -s 3000 --ready "$out/r0" >"$out/srv0" &
	srv0=$!
	in_s "$TCPGEN" server -6 -a fd00:7::2 -P 5006 -n 2 -r 10 -s 20 --ready "$out/r6" >"$out/srv6" &
	srv6=$!
	in_s "$TCPGEN" server -a 198.18.7.2 -P 5002 -n 1 --ready "$out/r2" >/dev/null &
	in_s "$TCPGEN" server -a 198.18.7.2 -P 5004 -n 1 -r 10 --ready "$out/r4" >/dev/null &
	# One SYN retransmit, then the connect times out (after 3 s).
	in_c sysctl -qw net.ipv4.tcp_syn_retries=1
	while [ ! -e "$out/r0" ] || [ ! -e "$out/r6" ] || [ ! -e "$out/r2" ] || [ ! -e "$out/r4" ]; do
		sleep 0.05
	done
	# Slow ones first, in the background: one SYN dropped, then all.
	in_c "$TCPGEN" client -a 198.18.7.2 -P 5002 >"$out/cli2" &
	cli2=$!
	in_c "$TCPGEN" client -a 198.18.7.2 -P 5003 --expect timeout >"$out/cli3" &
	cli3=$!
	ip netns exec "$cns" "$TCPGEN" client -a 198.18.7.2 -P 5000 -n 5 -s 1000 -r 3000 >"$out/cli0" &
	cli0=$!
	wait $cli0 || { echo "client 5000 failed"; return 1; }
	in_c "$TCPGEN" client -6 -a fd00:7::2 -P 5006 -n 2 -s 10 -r 20 >"$out/cli6" || return 1
	in_c "$TCPGEN" client -a 198.18.7.2 -P 5001 --expect refused >/dev/null || return 1
	in_c "$TCPGEN" client -a 198.18.7.2 -P 5004 -s 10 --linger0 >/dev/null || return 1
	wait $srv0 && wait $srv6 && wait $cli2 && wait $cli3 || { echo "a client or server failed"; return 1; }
	echo "$cli0" >"$out/cli0.pid"
	echo "$srv0" >"$out/srv0.pid"
}
check "traffic: 5+2 connections, refused, a SYN dropped, connect timeout, abort" traffic

# The same moment: sock_diag (the tracer), ss and sockstat.
same_moment() {
	"$LAMPORT" trace timewait --snapshot --netns "$cns" -j >"$out/snap" &&
	in_c ss -Htan state time-wait >"$out/ss" &&
	in_c cat /proc/net/sockstat >"$out/sockstat"
}
check "a TIME_WAIT snapshot, ss and sockstat taken together" same_moment

sleep 0.5
for t in conn_c conn_s hs_c hs_s tw_c; do
	stop_tracer $t
done

client_conns() {
	expect "client conns to 5000 (tx 1000 rx 3000, close, TIME_WAIT)" 5 \
		"$(count conn_c '"event":"conn"' '"dport":5000,' '"side":"client"' \
			'"tx_bytes":1000,' '"rx_bytes":3000,' '"end":"close"' '"time_wait":true')" &&
	expect "their process" 5 "$(count conn_c '"dport":5000,' "\"pid\":$(cat "$out/cli0.pid")," '"comm":"tcpgen"')" &&
	expect "IPv6 client conns (tx 10 rx 20)" 2 \
		"$(count conn_c '"event":"conn"' '"family":"ipv6"' '"daddr":"fd00:7::2"' '"dport":5006,' \
			'"tx_bytes":10,' '"rx_bytes":20,' '"time_wait":true')" &&
	expect "refused conn" 1 "$(count conn_c '"dport":5001,' '"end":"refused"' '"time_wait":false')" &&
	expect "conn after a SYN retransmit" 1 "$(count conn_c '"dport":5002,' '"syn_retrans":1,' '"end":"close"')" &&
	expect "timed out conn" 1 "$(count conn_c '"dport":5003,' '"end":"timeout"')" &&
	expect "aborted conn (RST sent)" 1 "$(count conn_c '"dport":5004,' '"end":"abort"' '"time_wait":false')" &&
	expect "conn lines in all" 11 "$(count conn_c '"event":"conn"')"
}
check "conn (client netns): exactly the connections made, bytes, ends" client_conns

server_conns() {
	expect "server conns on 5000 (tx 3000 rx 1000, close, no TIME_WAIT)" 5 \
		"$(count conn_s '"event":"conn"' '"sport":5000,' '"side":"server"' \
			'"tx_bytes":3000,' '"rx_bytes":1000,' '"end":"close"' '"time_wait":false')" &&
	expect "their process" 5 "$(count conn_s '"sport":5000,' "\"pid\":$(cat "$out/srv0.pid"),")" &&
	expect "the aborted conn, seen as a reset" 1 "$(count conn_s '"sport":5004,' '"end":"reset"')" &&
	expect "conn lines in all" 9 "$(count conn_s '"event":"conn"')"
}
check "conn (server netns): the other side of each" server_conns

handshakes() {
	expect "connects to 5000" 5 "$(count hs_c '"event":"connect"' '"dport":5000,' '"syn_retrans":0')" &&
	expect "accepts on 5000, by the server" 5 \
		"$(count hs_s '"event":"accept"' '"sport":5000,' "\"pid\":$(cat "$out/srv0.pid"),")" &&
	expect "refused" 1 "$(count hs_c '"event":"refused"' '"dport":5001,')" &&
	expect "SYN retransmits to 5002" 1 "$(count hs_c '"event":"syn_retrans"' '"dport":5002,')" &&
	expect "connect to 5002 after 1 retransmit" 1 "$(count hs_c '"event":"connect"' '"dport":5002,' '"syn_retrans":1')" &&
	# With tcp_syn_retries=1 the kernel gives up 3 s after the first SYN,
	# after one retransmit, or two when the timer is a tick late.
	syns=$(count hs_c '"event":"syn_retrans"' '"dport":5003,') &&
	[ "$syns" -ge 1 ] && [ "$syns" -le 2 ] || { echo "$syns SYN retransmits to 5003"; return 1; }
	expect "connect timeout after as many retransmits" 1 \
		"$(count hs_c '"event":"connect_timeout"' '"dport":5003,' "\"syn_retrans\":$syns,")" &&
	expect "the timed out conn's retransmits" 1 \
		"$(count conn_c '"dport":5003,' "\"syn_retrans\":$syns,")" &&
	lat=$(lines hs_c '"event":"connect"' '"dport":5002,' | field latency_ns) &&
	# SYNs at 0 and 1 s: the second one gets through.
	[ "$lat" -gt 900000000 ] && [ "$lat" -lt 2500000000 ] ||
		{ echo "connect latency through a lost SYN: $lat ns"; return 1; }
}
check "handshake: connects, accepts, refused, SYN retransmits, timeout" handshakes

timewait() {
	snap_count=$(field count <"$out/snap")
	ss_count=$(grep -c . "$out/ss")
	sockstat_tw=$(sed -n 's/^TCP:.* tw \([0-9]*\).*/\1/p' "$out/sockstat")
	enters=$(count tw_c '"event":"tw_enter"')
	tcpext_tw=$(grep '"event":"tw_snapshot"' "$out/tw_c" | tail -n 1 | field TW)
	# A program run the kernel skipped (nested on a CPU) is reported as
	# missed; only then may an entry be missing.
	missed=$(grep '"event":"summary"' "$out/tw_c" | field missed)
	[ "$enters" -le 8 ] && [ "$enters" -ge $((8 - ${missed:-0})) ] ||
		{ echo "TIME_WAIT entries (5 + 2 + 1): expected 8, got $enters ($missed missed)"; return 1; }
	expect "sock_diag count" 8 "$snap_count" &&
	expect "ss count" 8 "$ss_count" &&
	expect "sockstat tw" 8 "$sockstat_tw" &&
	expect "TcpExt TW delta" 8 "$tcpext_tw" &&
	expect "per remote endpoint, 198.18.7.2:5000" 1 \
		"$(grep -c '{"addr":"198.18.7.2","port":5000,"count":5,' "$out/snap")"
}
check "timewait: entries = sock_diag = ss = sockstat = TcpExt TW" timewait

if [ -z "$partial" ]; then
	if [ $mode = full ]; then
		# A netns that goes kills its TIME_WAIT sockets: exact exits.
		tw_exits() {
			netns=$(grep '"event":"start"' "$out/tw_c" | field netns)
			tracer tw_all timewait --netns all
			started tw_all || return 1
			live=$("$LAMPORT" trace timewait --snapshot --netns "$cns" -j | field count)
			ip netns del "$cns"
			i=0
			while [ "$(count tw_all '"event":"tw_exit"' "\"netns\":$netns," '"how":"killed"')" -lt "$live" ]; do
				i=$((i + 1))
				# The netns goes in a workqueue: slow on the debug kernel.
				[ $i -lt 600 ] || break
				sleep 0.1
			done
			stop_tracer tw_all
			# Those of the traffic above, unless the debug kernel was so
			# slow that some expired (60 s) before this.
			[ "$live" -ge 1 ] || { echo "no TIME_WAIT socket left to kill"; return 1; }
			expect "TIME_WAIT exits when the netns went (as many as sock_diag saw)" "$live" \
				"$(count tw_all '"event":"tw_exit"' "\"netns\":$netns," '"how":"killed"')" || return 1
			# A kprobe is skipped when another BPF program runs on its
			# CPU: those entries are inferred from the state change.
			exact=$(count tw_c '"event":"tw_enter"' '"exact":true')
			[ "$exact" -ge 4 ] || { echo "only $exact of 8 entries seen by the kprobe"; return 1; }
		}
		check "timewait (kprobes): every TIME_WAIT exit, exactly" tw_exits
		ip netns del "$sns"
		cns=ltc2$$
		sns=lts2$$
		check "two fresh netns for the loss test" setup
	fi

	# -p: only the connections of one process; -H: histograms, no events.
	ip netns exec "$sns" "$TCPGEN" server -a 198.18.7.2 -P 5020 -n 2 --ready "$out/r20" >/dev/null &
	srv20=$!
	ip netns exec "$sns" "$TCPGEN" server -a 198.18.7.2 -P 5021 -n 1 --ready "$out/r21" >/dev/null &
	tracer pid_s conn --netns "$sns" -p $srv20
	tracer hist_c handshake --netns "$cns" -H
	check "tracers started: conn -p, handshake -H" started pid_s hist_c

	filters() {
		while [ ! -e "$out/r20" ] || [ ! -e "$out/r21" ]; do sleep 0.05; done
		in_c "$TCPGEN" client -a 198.18.7.2 -P 5020 -n 2 >/dev/null &&
		in_c "$TCPGEN" client -a 198.18.7.2 -P 5021 >/dev/null ||
			{ echo "traffic failed"; return 1; }
		sleep 0.3
		stop_tracer pid_s
		stop_tracer hist_c
		expect "conn lines of process $srv20" 2 "$(count pid_s '"event":"conn"' "\"pid\":$srv20,")" &&
		expect "conn lines in all" 2 "$(count pid_s '"event":"conn"')" &&
		expect "events with -H" 0 "$(count hist_c '"event":"connect"')" &&
		expect "the connect latency histogram holds the 3 connects" 3 \
			"$(lines hist_c '"event":"histogram"' '"name":"connect latency"' |
				sed 's/.*"log2_buckets":\[\([0-9,]*\)\].*/\1/' | tr ',' '\n' |
				awk '{ s += $1 } END { print s + 0 }')"
	}
	check "conn -p PID shows that process only; -H counts in the kernel" filters

	# --- congestion under loss ----------------------------------------------------

	add_loss() {
		if [ "$TRACE_LOSS" = netem ]; then
			in_c tc qdisc add dev veth-c root netem delay 2ms loss 3%
		else
			in_s nft -f - <<-EOF
				table inet loss {
					chain in {
						type filter hook input priority 0;
						tcp dport 5010 numgen random mod 100 < 3 drop
					}
				}
			EOF
		fi
	}
	check "3% loss toward the server ($TRACE_LOSS)" add_loss

	retrans_segs() {	# Tcp RetransSegs of the client netns
		in_c cat /proc/net/snmp | awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) col[$i] = i; h = 1 } else print $col["RetransSegs"] }'
	}

	tracer cong_c cong --netns "$cns" --port 5010
	tracer bulk_c conn --netns "$cns" --port 5010
	check "tracers started: cong, conn" started cong_c bulk_c

	bulk() {
		before=$(retrans_segs)
		in_s timeout 300 "$TCPGEN" server -a 198.18.7.2 -P 5010 -r -1 --ready "$out/r10" >/dev/null &
		srv=$!
		i=0
		while [ ! -e "$out/r10" ]; do
			i=$((i + 1))
			[ $i -lt 200 ] || { echo "no server"; return 1; }
			sleep 0.05
		done
		in_c timeout 300 "$TCPGEN" bulk -a 198.18.7.2 -P 5010 -s 16000000 >"$out/bulk" || return 1
		wait $srv || return 1
		after=$(retrans_segs)
		echo $((after - before)) >"$out/retrans_segs"
		sleep 0.3
		stop_tracer cong_c
		stop_tracer bulk_c
	}
	check "bulk transfer of 16 MB through the loss" bulk

	congestion() {
		segs=$(cat "$out/retrans_segs")
		# The drop rule may take the SYN too: RetransSegs counts it as well.
		conn_line=$(lines bulk_c '"event":"conn"' '"dport":5010,')
		conn_rtx=$(($(echo "$conn_line" | field retrans) + $(echo "$conn_line" | field syn_retrans)))
		rtx_events=$(count cong_c '"event":"retrans"')
		recov=$(lines cong_c '"event":"state"' | grep -c -e '"to":"Recovery"' -e '"to":"Loss"')
		[ "$segs" -gt 0 ] || { echo "no retransmission at all: the loss rule did nothing"; return 1; }
		expect "conn retransmits (data and SYN) = the netns's Tcp RetransSegs delta" "$segs" "$conn_rtx" &&
		expect "conn bytes" 1 "$(count bulk_c '"event":"conn"' '"tx_bytes":16000000,')" &&
		[ "$rtx_events" -gt 0 ] && [ "$rtx_events" -le "$segs" ] ||
			{ echo "retrans events: $rtx_events for $segs segments"; return 1; }
		[ "$recov" -gt 0 ] || { echo "no Recovery or Loss state"; return 1; }
		# cwnd fell at least once: a cwnd event lower than the one before.
		lines cong_c '"event":"cwnd"' | sed -n 's/.*"cwnd":\([0-9]*\),.*/\1/p' |
			awk 'NR > 1 && $1 < prev { down++ } { prev = $1 } END { if (!down) { print "cwnd never fell"; exit 1 } }'
	}
	check "cong: retransmits (= RetransSegs), Recovery/Loss, cwnd reductions" congestion

fi

lost_nothing() {
	tracers="conn_c conn_s hs_c hs_s tw_c"
	[ -n "$partial" ] || tracers="$tracers pid_s hist_c cong_c bulk_c"
	for f in $tracers; do
		l=$(grep '"event":"summary"' "$out/$f" | field lost)
		expect "$f: summary line with no lost events" 0 "${l:-missing}" || return 1
	done
}
check "every tracer ended with a summary, no event lost" lost_nothing

# --- the benchmark cannot rot --------------------------------------------------

bench_smoke() {
	"$LAMPORT" -j bench trace rounds 1 time 300 bulk 8 >"$out/bench" 2>"$out/bench.err" ||
		{ cat "$out/bench.err"; return 1; }
	grep -q '"conn_ratio":[0-9]' "$out/bench" &&
	grep -q '"bulk_ratio":[0-9]' "$out/bench" &&
	grep -q '"events_lost":' "$out/bench" &&
	runs=$(grep -o '"name":"lt_set_state","runs":[0-9]*' "$out/bench" | cut -d: -f3) &&
	[ "${runs:-0}" -gt 0 ] || { cat "$out/bench"; return 1; }
}
[ -n "$partial" ] ||
	check "bench trace (one short round): ratios and per-program costs" bench_smoke

# --- bad input -----------------------------------------------------------------

fails_with() {	# fails_with MESSAGE ARGS...: exit 1 and MESSAGE on stderr
	msg=$1
	shift
	if "$@" >"$out/bad.out" 2>"$out/bad.err"; then
		echo "succeeded: $*"
		return 1
	fi
	grep -qF -- "$msg" "$out/bad.err" || { echo "stderr of $*:"; cat "$out/bad.err"; return 1; }
}

bad_input() {
	fails_with 'option "--bogus" is unknown' "$LAMPORT" trace conn --bogus &&
	fails_with 'argument "70000" is wrong: not a port' "$LAMPORT" trace conn --port 70000 &&
	fails_with 'argument "0" is wrong: not a port' "$LAMPORT" trace cong --port 0 &&
	fails_with 'argument "1.2.3" is wrong: not an IPv4 or IPv6 address' "$LAMPORT" trace conn --addr 1.2.3 &&
	fails_with 'argument "abc" is wrong: not a process id' "$LAMPORT" trace handshake -p abc &&
	fails_with 'argument "x" is wrong: not a number of seconds' "$LAMPORT" trace conn -d x &&
	fails_with 'argument "nosuchns" is wrong: no such network namespace' "$LAMPORT" trace conn --netns nosuchns &&
	fails_with 'argument "../x" is wrong: not a network namespace name' "$LAMPORT" trace conn --netns ../x &&
	fails_with 'argument "-6" is wrong: the address is not of the family' "$LAMPORT" trace conn -6 --addr 198.18.0.1 &&
	fails_with 'argument "--port" needs a value' "$LAMPORT" trace conn --port &&
	fails_with 'command "bogus" is unknown' "$LAMPORT" trace bogus &&
	fails_with 'needs a kernel built with CONFIG_DEBUG_INFO_BTF' env LAMPORT_BTF=/nonexistent "$LAMPORT" trace conn -d 1 &&
	fails_with 'run it as root' setpriv --reuid=65534 --regid=65534 --clear-groups "$LAMPORT" trace conn -d 1
}
check "bad input: clear errors, exit status 1" bad_input

echo "1..$n"
[ $failed -eq 0 ]
