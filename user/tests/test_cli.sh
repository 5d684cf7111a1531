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
expect_ok "lamport -h" "OBJECT := { node }" -h
expect_ok "lamport help help" "Usage: lamport [ OPTIONS ] OBJECT" help help
expect_ok "lamport help node" "Usage: lamport node [ show ]" help node
expect_ok "lamport node help" "Usage: lamport node [ show ]" node help
expect_ok "lamport n h (prefixes)" "lamport node set id ID" n h
expect_ok "lamport node show -h" "Usage: lamport node [ show ]" node show -h
expect_ok "lamport node --help" "Usage: lamport node [ show ]" node --help
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
expect_err "show takes no argument" \
	'Error: argument "extra" is unknown, try "lamport node help".' node show extra
expect_err "set without id" \
	'Error: argument "id" is required' node set
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

expect_kernel "lamport node" "node id " node
expect_kernel "lamport node show" "node id " node show
expect_kernel "lamport n s" "node id " n s
expect_kernel "lamport -j node show" '{"id":' -j node show
expect_kernel "lamport node show -json" '{"id":' node show -json
expect_kernel "lamport --json node" '{"id":' --json node
expect_kernel "lamport -p node" '    "id": ' -p node

echo "1..$count"
[ "$failed" -eq 0 ]
