#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2317 # functions called through check()
#
# lamport-twin, the userspace twin of the module's failure detector, between
# two network namespaces joined by a veth pair (198.18.0.1 and 198.18.0.2):
# node 1 runs in A, node 2 in B.  An nftables rule in B drops B's heartbeats;
# A must see node 2 turn suspect, then dead, on time, ignore garbage, and see
# it alive again once the rule is gone; then the same in phi mode.  Also the
# command line errors, which need no namespace.
#
# Needs root, ip (iproute2), nft (nftables) and bash (for /dev/udp); a
# missing one is a failure.
#
#	LAMPORT=path/to/lamport sh test_twin.sh	(lamport-twin lies beside it)

LAMPORT=${LAMPORT:-$(dirname "$0")/../../build/user/lamport}
TWIN=${TWIN:-$(dirname "$LAMPORT")/lamport-twin}
A=lpt-a-$$
B=lpt-b-$$
TABLE=lpt$$
PORT=1979
MS=1000000
SLACK_NS=$((200 * MS))		# a loaded 2-core host

tmp=$(mktemp -d) || exit 1
pid_a=
pid_b=
count=0
failed=0

cleanup()
{
	for pid in $pid_a $pid_b; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# report ok|fail "what" [FILE...]: one TAP line; a failure shows the files.
report()
{
	count=$((count + 1))
	if [ "$1" = ok ]; then
		echo "ok $count - $2"
		return
	fi
	echo "not ok $count - $2"
	failed=$((failed + 1))
	shift 2
	for f in "$@"; do
		[ -f "$f" ] && sed "s|^|#   ${f##*/}: |" "$f"
	done
}

check()
{
	what=$1
	shift
	if "$@"; then report ok "$what"; else report fail "$what" "$tmp"/*.out "$tmp"/*.err; fi
}

finish()
{
	echo "1..$count"
	[ "$failed" -eq 0 ]
	exit
}

# --- command line ---------------------------------------------------------

# expect_usage "what" "stderr substring" ARGS...: exit 2 and the message.
# The messages name the argument: 'lamport-twin: bad KEY "VALUE": why'.
expect_usage()
{
	what=$1 want=$2
	shift 2
	"$TWIN" "$@" >"$tmp/cli.out" 2>"$tmp/cli.err"
	rc=$?
	if [ "$rc" -eq 2 ] && [ ! -s "$tmp/cli.out" ] &&
	   grep -qF -- "$want" "$tmp/cli.err"; then
		report ok "$what"
	else
		echo "rc=$rc" >>"$tmp/cli.err"
		report fail "$what" "$tmp/cli.out" "$tmp/cli.err"
	fi
	rm -f "$tmp/cli.out" "$tmp/cli.err"
}

T="lamport-twin:"
N2=198.18.0.2
expect_usage "no arguments: usage" "Usage: lamport-twin id ID"
expect_usage "interval 0" "$T bad interval \"0\"" id 1 peer 2 $N2 interval 0
expect_usage "interval 61s" "$T bad interval \"61s\"" id 1 peer 2 $N2 interval 61s
expect_usage "mult 1" "$T bad mult \"1\"" id 1 peer 2 $N2 mult 1
expect_usage "peer x" "$T bad peer id \"x\"" id 1 peer x $N2
expect_usage "peer without address" "$T argument \"peer\" needs" id 1 peer 2
expect_usage "bad peer address" "$T bad peer \"198.18.0\"" id 1 peer 2 198.18.0
expect_usage "id 0" "$T bad id \"0\"" id 0 peer 2 $N2
expect_usage "missing id" "$T argument \"id\" is required" peer 2 $N2
expect_usage "missing peer" "$T argument \"peer\" is required" id 1
expect_usage "peer is own id" "$T bad peer id \"1\"" id 1 peer 1 $N2
expect_usage "peer twice" "$T bad peer id \"2\"" id 1 peer 2 $N2 peer 2 198.18.0.3
expect_usage "mode foo" "$T bad mode \"foo\"" id 1 peer 2 $N2 mode foo
expect_usage "threshold 0.5" "$T bad threshold \"0.5\"" id 1 peer 2 $N2 threshold 0.5
expect_usage "port 0" "$T bad port \"0\"" id 1 peer 2 $N2 port 0
expect_usage "unknown keyword" "$T unknown argument \"bogus\"" id 1 peer 2 $N2 bogus 1

# --- two nodes --------------------------------------------------------------

missing=
[ "$(id -u)" -eq 0 ] || missing="$missing root"
for tool in ip nft bash awk; do
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
[ -x "$TWIN" ] || missing="$missing $TWIN"
if [ -n "$missing" ]; then
	report fail "prerequisites:$missing"
	finish
fi

# CLOCK_MONOTONIC in ns, the clock of the twin's timestamps.
now_ns()
{
	awk '/^now at/ { print $3; exit }' /proc/timer_list
}

setup_net()
{
	ip netns add "$A" && ip netns add "$B" &&
	ip link add "lpta$$" netns "$A" type veth peer name "lptb$$" netns "$B" &&
	ip -n "$A" addr add 198.18.0.1/24 dev "lpta$$" &&
	ip -n "$B" addr add 198.18.0.2/24 dev "lptb$$" &&
	for ns in "$A" "$B"; do
		ip -n "$ns" link set lo up || return 1
	done &&
	ip -n "$A" link set "lpta$$" up && ip -n "$B" link set "lptb$$" up
}

# start_twins [OPTION...]: node 1 in A, node 2 in B; a.out and b.out.
start_twins()
{
	ip netns exec "$A" "$TWIN" id 1 peer 2 198.18.0.2 "$@" \
		>"$tmp/a.out" 2>"$tmp/a.err" &
	pid_a=$!
	ip netns exec "$B" "$TWIN" id 2 peer 1 198.18.0.1 "$@" \
		>"$tmp/b.out" 2>"$tmp/b.err" &
	pid_b=$!
}

# stop_twins: SIGTERM both; true if both exited 0.
stop_twins()
{
	kill -TERM "$pid_a" "$pid_b"
	wait "$pid_a"
	rc_a=$?
	wait "$pid_b"
	rc_b=$?
	pid_a=
	pid_b=
	[ "$rc_a" -eq 0 ] && [ "$rc_b" -eq 0 ]
}

# wait_for FILE FROM_LINE REGEX: within 2 s, a line from FROM_LINE on.
wait_for()
{
	tries=0
	while [ "$tries" -lt 40 ]; do
		tail -n +"$2" "$1" | grep -Eq "$3" && return 0
		sleep 0.05
		tries=$((tries + 1))
	done
	return 1
}

# first_event FILE FROM_LINE "OLD NEW": that event line, from FROM_LINE on.
first_event()
{
	tail -n +"$2" "$1" | grep -m1 "^event 2 $3 "
}

lines()
{
	wc -l <"$1"
}

cut_b()
{
	ip netns exec "$B" nft "add table inet $TABLE;
		add chain inet $TABLE out { type filter hook output priority 0; };
		add rule inet $TABLE out udp dport $PORT drop"
}

heal_b()
{
	ip netns exec "$B" nft delete table inet "$TABLE"
}

# send_to_a FORMAT: one datagram, printf(1) FORMAT, from A to its own twin.
send_to_a()
{
	ip netns exec "$A" bash -c \
		"printf '$1' >/dev/udp/198.18.0.1/$PORT"
}

# heartbeat SENDER RECEIVER: a well-formed heartbeat, as printf escapes.
heartbeat()
{
	printf '\\x4c\\x4d\\x50\\x54\\x01\\x01\\x00\\x00'
	printf '\\x00\\x00\\x00\\x%02x\\x00\\x00\\x00\\x%02x' "$1" "$2"
	printf '\\x00\\x3c\\x00\\x00'
	printf '\\x00\\x01\\x00\\x00\\x00\\x00\\x27\\x10\\x03'
	i=0
	while [ "$i" -lt 31 ]; do
		printf '\\x00'
		i=$((i + 1))
	done
}

# cpu_ticks PID: user and system time, in clock ticks.
cpu_ticks()
{
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# field N LINE
field()
{
	echo "$2" | awk -v n="$1" '{ print $n }'
}

# The dead event's timing: TIME_NS - LAST_RX_NS within [DETECT_NS, + slack].
dead_on_time()
{
	t=$(field 6 "$1") rx=$(field 7 "$1") det=$(field 8 "$1")
	[ -n "$t" ] && [ "$rx" -gt 0 ] &&
	[ $((t - rx)) -ge "$det" ] && [ $((t - rx)) -lt $((det + SLACK_NS)) ]
}

both_ready()
{
	wait_for "$tmp/a.out" 1 "^ready $PORT\$" &&
	wait_for "$tmp/b.out" 1 "^ready $PORT\$"
}

# The first event: the detection time in force, at the heartbeat's arrival.
alive_event_ok()
{
	ev=$(first_event "$tmp/a.out" 1 "unknown alive")
	[ "$(field 8 "$ev")" = 30000000 ] &&
	[ "$(field 6 "$ev")" = "$(field 7 "$ev")" ]
}

# pid_a is ip netns exec, which has become the twin.
twin_normal_priority()
{
	[ "$(cat "/proc/$pid_a/comm")" = "$(basename "$TWIN" | cut -c1-15)" ] &&
	[ "$(awk '{ print $41 }' "/proc/$pid_a/stat")" = 0 ]
}

# Over a second of steady state, under 10 % of a CPU: no busy loop.
twin_idles()
{
	c0=$(cpu_ticks "$pid_a")
	sleep 1
	c1=$(cpu_ticks "$pid_a")
	[ $(((c1 - c0) * 1000 / $(getconf CLK_TCK))) -lt 100 ]
}

suspect_first()
{
	[ "$(field 5 "$sus")" = timeout ] &&
	[ "$(field 6 "$sus")" -lt "$(field 6 "$dead")" ]
}

# Fixed mode, 10ms x 3: suspect at T_D / 2, dead at T_D = 30 ms.
detect_time_30ms()
{
	[ "$(field 8 "$sus")" = 30000000 ] &&
	[ "$(field 8 "$dead")" = 30000000 ] &&
	[ $(($(field 6 "$sus") - $(field 7 "$sus"))) -ge 15000000 ]
}

# The last heartbeat from around the cut at t0, the verdict after it.
verdict_after_cut()
{
	[ "$(field 7 "$dead")" -gt $((t0 - SLACK_NS)) ] &&
	[ "$(field 6 "$dead")" -gt "$t0" ]
}

# Six datagrams the twin must drop, for five causes; two of them name node 2
# as the sender.
send_garbage()
{
	send_to_a 'not lamport!!' &&					# short
	send_to_a 'XMPT\x01\x01 and the rest of a heartbeat, wrong magic' && # magic
	ip netns exec "$A" bash -c \
		"head -c 64 /dev/urandom >/dev/udp/198.18.0.1/$PORT" &&	# magic
	send_to_a "$(heartbeat 2 99)" &&				# receiver
	send_to_a "$(heartbeat 7 1)" &&				# sender
	send_to_a "$(heartbeat 2 1)"					# addr
}

no_new_event()
{
	sleep 0.3
	[ "$(lines "$tmp/a.out")" -eq "$n1" ]
}

peer2_stats_ok()
{
	stats=$(grep '^stats 2 ' "$tmp/a.out")
	[ "$(field 4 "$stats")" -gt 0 ] && [ "$(field 6 "$stats")" -gt 0 ] &&
	[ "$(field 8 "$stats")" -gt 0 ] && [ "$(field 12 "$stats")" = 2 ]
}

drops_line_ok()
{
	[ "$(grep '^drops ' "$tmp/a.out")" = "drops total 6 short 1 magic 2 \
version 0 length 0 type 0 receiver 1 sender 1 addr 1" ]
}

quiet_stderr()
{
	[ ! -s "$tmp/a.err" ] && [ ! -s "$tmp/b.err" ]
}

if ! setup_net; then
	report fail "network namespaces and veth pair"
	finish
fi

start_twins
check "both twins ready on port $PORT" both_ready
check "A sees node 2 alive within 2 s" \
	wait_for "$tmp/a.out" 1 "^event 2 unknown alive heartbeat "
check "B sees node 1 alive within 2 s" \
	wait_for "$tmp/b.out" 1 "^event 1 unknown alive heartbeat "
check "alive event: DETECT_NS 30000000, LAST_RX_NS the decision time" \
	alive_event_ok
check "the twin itself runs in A, at SCHED_OTHER" twin_normal_priority
check "A used under 10 % of a CPU in 1 s" twin_idles

n0=$(lines "$tmp/a.out")
t0=$(now_ns)
cut_b || report fail "nft rule in B"
check "A sees node 2 dead within 2 s of the cut" \
	wait_for "$tmp/a.out" $((n0 + 1)) "^event 2 suspect dead timeout "
sus=$(first_event "$tmp/a.out" $((n0 + 1)) "alive suspect")
dead=$(first_event "$tmp/a.out" $((n0 + 1)) "suspect dead")
check "suspect (timeout) came first" suspect_first
check "suspect after T_D/2, dead after T_D: DETECT_NS 30000000" detect_time_30ms
check "dead 30 ms after the last heartbeat (+ < 200 ms slack)" dead_on_time "$dead"
check "the last heartbeat is from around the cut, the verdict after it" \
	verdict_after_cut

# Garbage while node 2 is dead: any of it taken for a heartbeat revives it.
# Sent from A itself, as B's datagrams to the port are dropped.
n1=$(lines "$tmp/a.out")
send_garbage || report fail "sending garbage"
check "garbage changes no state" no_new_event

heal_b || report fail "nft delete in B"
check "A sees node 2 alive again within 2 s" \
	wait_for "$tmp/a.out" $((n1 + 1)) "^event 2 dead alive heartbeat "

check "SIGTERM: both exit 0" stop_twins
check "stats line of peer 2: tx, rx, lost counted, 2 drops named it" \
	peer2_stats_ok
check "drops line counts the garbage by cause" drops_line_ok
check "B's stats line of peer 1, nothing dropped" \
	grep -Eq '^stats 1 tx [1-9][0-9]* rx [1-9][0-9]* lost 0 dup 0 drops 0$' "$tmp/b.out"
check "nothing on stderr" quiet_stderr

# --- phi mode -------------------------------------------------------------

start_twins mode phi threshold 8
check "phi: A sees node 2 alive" \
	wait_for "$tmp/a.out" 1 "^event 2 unknown alive heartbeat "
sleep 0.3			# LP_PHI_MIN_SAMPLES and more
n0=$(lines "$tmp/a.out")
cut_b || report fail "phi: nft rule in B"
check "phi: A sees node 2 dead (reason phi) within 2 s" \
	wait_for "$tmp/a.out" $((n0 + 1)) "^event 2 (alive|suspect) dead phi "
dead=$(tail -n +$((n0 + 1)) "$tmp/a.out" | grep -m1 '^event 2 [a-z]* dead ')
check "phi: dead no earlier than DETECT_NS after the last heartbeat" \
	dead_on_time "$dead"
heal_b || report fail "phi: nft delete in B"
check "phi: alive again" \
	wait_for "$tmp/a.out" $((n0 + 1)) "^event 2 dead alive heartbeat "
check "phi: SIGTERM: both exit 0" stop_twins

finish
