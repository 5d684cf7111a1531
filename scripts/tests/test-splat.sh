#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-splat.sh - TAP tests for scripts/splat-check.
#
# Runs splat-check on every fixture listed in splat-fixtures/expected (as
# recorded, with CRLF line ends, without timestamps and with a
# CONFIG_PRINTK_CALLER field), on single lines that must or must not be
# reported, and on the error cases.  Prints TAP; exits 1 if a test failed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
check=$here/../splat-check
fixtures=$here/splat-fixtures

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
results=()

# report STATUS NAME [DIAGNOSTIC]: record one test result (STATUS 0 = ok).
report() {
	local line

	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		results+=("ok $n - $2")
		return
	fi
	failed=$((failed + 1))
	results+=("not ok $n - $2")
	while IFS= read -r line; do
		results+=("#   $line")
	done <<<"${3-}"
}

# expect NAME WANT FILE...: splat-check FILE... must report WANT first
# (exit 1, every output line well formed), or nothing if WANT is "clean".
expect() {
	local name=$1 want=$2 out rc first bad
	shift 2

	out=$("$check" "$@" 2>&1)
	rc=$?
	if [ "$want" = clean ]; then
		if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
			report 0 "$name: clean"
		else
			report 1 "$name: clean" "exit $rc, output:"$'\n'"$out"
		fi
		return
	fi
	first=${out%%$'\n'*}
	first=${first#splat: }
	bad=$(grep -v '^splat: [A-Za-z_-]*: [^ ]' <<<"$out")
	if [ "$rc" -eq 1 ] && [ "${first%%: *}" = "$want" ] &&
	   [ -z "$bad" ] && [[ $out != *$'\r'* ]]; then
		report 0 "$name: $want"
	else
		report 1 "$name: $want" "exit $rc, output:"$'\n'"$out"
	fi
}

# count NAME WANT FILE: splat-check FILE must print exactly WANT lines.
count() {
	local got

	got=$("$check" "$3" | grep -c '^splat: ')
	if [ "$got" -eq "$2" ]; then
		report 0 "$1: $2 reports"
	else
		report 1 "$1: $2 reports" "got $got:"$'\n'"$("$check" "$3")"
	fi
}

# expect_error NAME ARG...: splat-check ARG... must exit 2 with a message
# on stderr and nothing on stdout.
expect_error() {
	local name=$1 rc
	shift

	"$check" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
	rc=$?
	if [ "$rc" -eq 2 ] && [ ! -s "$tmp/stdout" ] && [ -s "$tmp/stderr" ]; then
		report 0 "$name: exit 2"
	else
		report 1 "$name: exit 2" "exit $rc, stdout:"$'\n'"$(cat "$tmp/stdout")"
	fi
}

# --- Fixtures, as recorded and in the other shapes a console log takes.

listed=" "
while read -r fixture kind rest; do
	case $fixture in
	'' | '#'*) continue ;;
	esac
	listed+="$fixture "
	f=$fixtures/$fixture
	if [ ! -f "$f" ] || [ -z "$kind" ] || [ -n "$rest" ]; then
		report 1 "$fixture: listed in expected" "missing file or bad line"
		continue
	fi
	expect "$fixture" "$kind" "$f"

	sed 's/$/\r/' "$f" >"$tmp/crlf.log"
	expect "$fixture (CRLF)" "$kind" "$tmp/crlf.log"

	sed -E 's/^\[ *[0-9]+\.[0-9]+\] ?//' "$f" >"$tmp/notime.log"
	expect "$fixture (no timestamps)" "$kind" "$tmp/notime.log"

	sed -E 's/^(\[ *[0-9]+\.[0-9]+\])/\1[  T231]/' "$f" >"$tmp/caller.log"
	expect "$fixture (caller field)" "$kind" "$tmp/caller.log"
done <"$fixtures/expected"

unlisted=
for f in "$fixtures"/*.log; do
	[[ $listed == *" ${f##*/} "* ]] || unlisted+=" ${f##*/}"
done
if [ -z "$unlisted" ]; then
	report 0 "every fixture is listed in expected"
else
	report 1 "every fixture is listed in expected" "unlisted:$unlisted"
fi

# One report per splat line, none for call traces, registers, etc.
count warning.log 1 "$fixtures/warning.log"
count bug-null.log 2 "$fixtures/bug-null.log"
count kasan.log 1 "$fixtures/kasan.log"
count lockdep-circular.log 1 "$fixtures/lockdep-circular.log"
count kmemleak.log 3 "$fixtures/kmemleak.log"
count list-corruption.log 3 "$fixtures/list-corruption.log"

# --- Single lines: <kind>|<kernel message>; "clean" lines must not fire.

while IFS='|' read -r kind msg; do
	[ -n "$kind" ] || continue
	printf '[   12.345678] %s\n' "$msg" >"$tmp/line.log"
	expect "line '${msg:0:60}'" "$kind" "$tmp/line.log"
done <<'EOF'
WARNING|WARNING: CPU: 1 PID: 42 at kmod/x.c:10 f+0x1/0x2 [lamport]
WARNING|WARNING: CPU: 0 PID: 1 at mm/slab_common.c:502 kmem_cache_destroy+0x13d/0x170
WARNING|WARNING: stack going in the wrong direction? at lamport_hb_work+0x3d/0x70 [lamport]
BUG|BUG: kernel NULL pointer dereference, address: 0000000000000000
BUG|BUG: unable to handle page fault for address: ffffc90000a3f000
BUG|BUG: sleeping function called from invalid context at kernel/locking/mutex.c:585
BUG|BUG: scheduling while atomic: lamportctl/244/0x00000002
BUG|BUG: using smp_processor_id() in preemptible [00000000] code: lamportctl/244
BUG|BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 31s!
BUG|BUG: Bad page state in process lamportctl  pfn:06c1e
BUG|BUG: spinlock bad magic on CPU#1, lamportctl/244
Oops|Oops: 0000 [#1] PREEMPT SMP NOPTI
Oops|Oops: Oops: 0002 [#1] PREEMPT SMP NOPTI
Oops|Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI
Oops|Oops#1 Part1
Oops|invalid opcode: 0000 [#1] PREEMPT SMP NOPTI
Oops|divide error: 0000 [#1] PREEMPT SMP NOPTI
Oops|stack segment: 0000 [#1] PREEMPT SMP NOPTI
Oops|int3: 0000 [#1] PREEMPT SMP NOPTI
Oops|Internal error: Oops: 0000000096000005 [#1] PREEMPT SMP
GPF|general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1] PREEMPT SMP NOPTI
GPF|general protection fault: 0000 [#1] SMP
GPF|Oops: general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI
KASAN|BUG: KASAN: slab-use-after-free in lamport_hb_timer_fn+0x4a/0x190 [lamport]
KASAN|BUG: KASAN: slab-out-of-bounds in lamport_clock_merge+0x1d2/0x250 [lamport]
KASAN|BUG: KASAN: null-ptr-deref in lamport_node_lookup+0x16e/0x1c0 [lamport]
KFENCE|BUG: KFENCE: use-after-free read in lamport_sock_recvmsg+0x7c/0x1f0 [lamport]
KFENCE|BUG: KFENCE: out-of-bounds write in lamport_node_rename+0x91/0x140 [lamport]
KFENCE|BUG: KFENCE: invalid free in lamport_net_exit+0x9a/0x170 [lamport]
KCSAN|BUG: KCSAN: data-race in lamport_clock_merge / lamport_clock_tick
refcount|refcount_t: underflow; use-after-free.
refcount|refcount_t: saturated; leaking memory.
refcount|refcount_t: addition on 0; use-after-free.
list-corruption|list_add corruption. next->prev should be prev (ffff888006c1e200), but was ffff888006c1e280. (next=ffff888006c1e298).
list-corruption|list_del corruption, ffff888006c1e200->next is LIST_POISON1 (dead000000000100)
slub|BUG kmalloc-64 (Tainted: G    B      OE     ): Poison overwritten
slub|BUG kmalloc-96 (Not tainted): Object already free
slub|BUG lamport_node (Tainted: G           OE     ): Objects remaining in lamport_node on __kmem_cache_shutdown()
slub|Slab corruption (Not tainted): kmalloc-64 start=ffff888006c1e200, len=64
unable-to-handle|Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008
unable-to-handle|Unable to handle kernel paging request at virtual address dead000000000108
hung-task|INFO: task lamportd:231 blocked for more than 122 seconds.
hung-task|INFO: task kworker/u8:3:57 blocked for more than 245 seconds.
kmemleak|kmemleak: 3 new suspected memory leaks (see /sys/kernel/debug/kmemleak)
kmemleak|unreferenced object 0xffff888006f3a200 (size 96):
kmemleak|kmemleak: unreferenced object 0xffff888006f3a200 (size 96):
lockdep|WARNING: possible circular locking dependency detected
lockdep|WARNING: possible recursive locking detected
lockdep|WARNING: inconsistent lock state
lockdep|WARNING: possible irq lock inversion dependency detected
lockdep|WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected
lockdep|WARNING: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected
lockdep|WARNING: bad unlock balance detected!
lockdep|WARNING: held lock freed!
lockdep|WARNING: lock held when returning to user space!
lockdep|BUG: lock held when returning to user space!
lockdep|WARNING: lamportd/231 still has locks held!
lockdep|WARNING: suspicious RCU usage
lockdep|BUG: Invalid wait context
lockdep|BUG: MAX_LOCKDEP_CHAINS too low!
lockdep|INFO: lockdep is turned off.
lockdep|INFO: trying to register non-static key.
lockdep|DEBUG_LOCKS_WARN_ON(lock->magic != lock)
rcu-stall|rcu: INFO: rcu_sched self-detected stall on CPU
rcu-stall|rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
rcu-stall|rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 1-... } 21004 jiffies s: 245 root: 0x2/.
rcu-stall|INFO: rcu_tasks detected stalls on tasks:
rcu-stall|rcu_preempt detected stalls on CPUs/tasks
UBSAN|UBSAN: shift-out-of-bounds in kmod/lamport_clock.c:57:18
UBSAN|UBSAN: array-index-out-of-bounds in kmod/lamport_node.c:140:9
ODEBUG|ODEBUG: free active (active state 0) object: ffff888006c1e248 object type: hrtimer_sleeper hint: hrtimer_wakeup+0x0/0x30
ODEBUG|ODEBUG: free active (active state 0) object type: timer_list hint: lamport_hb_timer_fn+0x0/0x190 [lamport]
ODEBUG|ODEBUG: activate not available (active state 0) object: ffff888006c1e248 object type: work_struct hint: lamport_hb_work+0x0/0x70 [lamport]
ODEBUG|ODEBUG: object 00000000a1b2c3d4 is on stack 00000000e5f6a7b8, but NOT annotated.
soft-lockup|watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [kworker/0:2:61]
soft-lockup|NMI watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [lamportd:231]
soft-lockup|BUG: soft lockup - CPU#0 stuck for 22s! [swapper/0:0]
hard-lockup|watchdog: Watchdog detected hard LOCKUP on cpu 1
hard-lockup|NMI watchdog: Watchdog detected hard LOCKUP on cpu 0
hard-lockup|watchdog: CPU0: Watchdog detected hard LOCKUP on cpu 1
panic|Kernel panic - not syncing: Fatal exception
panic|Kernel panic - not syncing: softlockup: hung tasks
panic|Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b
kernel-BUG|kernel BUG at lib/list_debug.c:62!
kernel-BUG|kernel BUG at kmod/lamport_clock.c:97!
clean|kmemleak: Kernel memory leak detector initialized (mem pool available: 15719)
clean|kmemleak: Automatic memory scanning thread started
clean|kfence: initialized - using 2097152 bytes for 255 objects at 0xffff8e4abe800000-0xffff8e4abea00000
clean|Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar
clean|... MAX_LOCKDEP_SUBCLASSES:  8
clean|... MAX_LOCKDEP_CHAINS:      65536
clean|KernelAddressSanitizer initialized
clean|kasan: KernelAddressSanitizer initialized (generic)
clean|lamport: loading out-of-tree module taints kernel.
clean|lamport: module verification failed: signature and/or required key missing - tainting kernel
clean|Spectre V2 : WARNING: Unprivileged eBPF is enabled with eIBRS on, data leaks possible via Spectre v2 BHB attacks!
clean|RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable to RETBleed attacks, data leaks possible!
clean|Spectre V2 : Mitigation: Retpolines
clean|MDS: MDS CPU bug present and SMT on, data leak possible.
clean|PCI: Using host bridge windows from ACPI; if necessary, use "pci=nocrs" and report a bug
clean|ACPI BIOS Error (bug): Could not resolve symbol [\_SB.PCI0.S08._ADR], AE_NOT_FOUND (20240827/dswload2-162)
clean|ODEBUG: selftest passed
clean|rcu: 	RCU lockdep checking is enabled.
clean|rcu: 	RCU CPU stall warnings timeout set to 100 (rcu_cpu_stall_timeout).
clean|Disabling lock debugging due to kernel taint
clean|traps: lamport-test[245] general protection fault ip:55d0a1c3e1a2 sp:7ffd6e0a8f10 error:0 in lamport-test[1a2,55d0a1c3e000+2000]
clean|lamport-test[246]: segfault at 0 ip 000055d0a1c3e1b7 sp 00007ffd6e0a8f00 error 6 in lamport-test[1b7,55d0a1c3e000+2000]
clean|INFO: NMI handler (perf_event_nmi_handler) took too long to run: 1.234 msecs
clean|clocksource: timekeeping watchdog on CPU1: Marking clocksource 'tsc' as unstable because the skew is too large:
clean|NMI watchdog: Perf NMI watchdog permanently disabled
clean|---[ end Kernel panic - not syncing: Fatal exception ]---
clean|---[ end trace 0000000000000000 ]---
clean|------------[ cut here ]------------
clean| ? __warn+0x89/0x130
clean| ? report_bug+0x164/0x190
clean| #0: ffffffff9d2a4d30 (cb_lock){++++}-{4:4}, at: genl_rcv+0x19/0x40
clean|CPU: 1 UID: 0 PID: 57 Comm: kworker/u8:3 Tainted: G    B   W  OE      6.12.117+deb12-cloud-amd64 #1
clean|FIX kmalloc-64: Restoring Right Redzone 0xffff9c3f43c4e6c0-0xffff9c3f43c4e6c3=0xcc
clean|page dumped because: kasan: bad access detected
clean|Warning: unable to open an initial console.
clean|# WARNING: skipping netns stress, only 2 CPUs
clean|lamport: netns 4026531840: peer 2 suspected (no heartbeat for 300 ms)
clean|tsc: Marking TSC unstable due to TSCs unsynchronized
clean|x86/mm: Checked W+X mappings: passed, no W+X pages found.
EOF

# --- Console line shapes.

printf '\033c\033[?7l\033[2JProbing EDD (edd=off to disable)... o\033c[   43.915003] WARNING: CPU: 1 PID: 57 at kmod/lamport_hb.c:214 lamport_net_exit+0xb6/0xd0 [lamport]\r\n' >"$tmp/junk.log"
expect "junk and escapes before the timestamp" WARNING "$tmp/junk.log"
if "$check" "$tmp/junk.log" | grep -q $'\033'; then
	report 1 "escape sequences are not printed"
else
	report 0 "escape sequences are not printed"
fi

printf '<4>[   43.915003] WARNING: CPU: 1 PID: 57 at kmod/lamport_hb.c:214 lamport_net_exit+0xb6/0xd0 [lamport]\n' >"$tmp/level.log"
expect "dmesg -r level prefix" WARNING "$tmp/level.log"

printf 'boot\0\0\0\n\0[   64.302930] BUG: KASAN: slab-use-after-free in lamport_hb_timer_fn+0x4a/0x190 [lamport]\n' >"$tmp/nul.log"
expect "NUL bytes from the serial line" KASAN "$tmp/nul.log"

printf '[    1.000000] BUG: KASAN: slab-use-after-free in lamport_hb_timer_fn+0x4a/0x190 [lamport]' >"$tmp/nonl.log"
expect "no newline at end of file" KASAN "$tmp/nonl.log"

: >"$tmp/empty.log"
expect "empty log" clean "$tmp/empty.log"

expect "several logs" WARNING "$fixtures/clean-6.12.log" "$fixtures/warning.log" "$fixtures/kasan.log"
count "several logs" 2 <(cat "$fixtures/warning.log" "$fixtures/kasan.log")

printf '[   43.915003] WARNING: CPU: 1 PID: 57 at kmod/lamport_hb.c:214 lamport_net_exit+0xb6/0xd0 [lamport]\n' >"$tmp/w=1.log"
expect "file name that looks like an awk assignment" WARNING "$tmp/w=1.log"
out=$(cd "$tmp" && "$check" w=1.log)
if [[ $out == "splat: WARNING: "* ]]; then
	report 0 "relative file name that looks like an awk assignment"
else
	report 1 "relative file name that looks like an awk assignment" "$out"
fi

# A long console log (about 10 MB) with one splat at the very end.
for _ in $(seq 400); do
	cat "$fixtures/clean-6.12.log"
done >"$tmp/big.log"
cat "$fixtures/refcount.log" >>"$tmp/big.log"
start=$(date +%s%N)
expect "10 MB log" refcount "$tmp/big.log"
end=$(date +%s%N)
count "10 MB log" 2 "$tmp/big.log"
results+=("# $(($(wc -c <"$tmp/big.log") / 1048576)) MiB scanned in $(((end - start) / 1000000)) ms")

# --- Errors.

expect_error "missing file" "$tmp/no-such.log"
expect_error "missing file after a good one" "$fixtures/warning.log" "$tmp/no-such.log"
expect_error "directory" "$fixtures"
expect_error "no arguments"

echo "1..$n"
printf '%s\n' "${results[@]}"
[ "$failed" -eq 0 ]
