# SPDX-License-Identifier: GPL-2.0
#
# TAP helpers for the shell selftests, sourced from the test's directory.

n=0
failed=0

check() {	# check DESCRIPTION COMMAND...: one TAP line; a failure shows the output
	desc=$1
	shift
	n=$((n + 1))
	check_start=$(date +%s)
	if check_out=$("$@" 2>&1); then
		echo "ok $n $desc"
		echo "# took $(($(date +%s) - check_start)) s"
	else
		echo "not ok $n $desc"
		echo "$check_out" | sed 's/^/# /'
		failed=$((failed + 1))
	fi
}
