# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the harness scripts: where a guest kernel's image, modules and
# build tree are. A Debian kernel lives in /boot and /lib/modules; the debug
# kernel (scripts/debug-kernel) lives in the cache, in a directory named after
# its release.

lamport_cache=${LAMPORT_CACHE:-/var/cache/lamport}

# kernel_paths RELEASE: sets kernel_image, kernel_modules, kernel_build and
# kernel_debug (1 for the debug kernel, else 0).
kernel_paths() {
	if [ -e "$lamport_cache/$1/.done" ]; then
		kernel_image=$lamport_cache/$1/bzImage
		kernel_modules=$lamport_cache/$1/modules/lib/modules/$1
		kernel_debug=1
	else
		kernel_image=/boot/vmlinuz-$1
		kernel_modules=/lib/modules/$1
		kernel_debug=0
	fi
	# shellcheck disable=SC2034 # used by the scripts that source this
	kernel_build=$kernel_modules/build
}
