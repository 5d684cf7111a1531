# SPDX-License-Identifier: GPL-2.0
#
# lamport: top-level build.  `make help` lists the targets.
#
# The kernel module itself is described by ./Kbuild; this file drives it for
# every installed guest kernel, builds the userspace tools and selftests, and
# runs the test VMs.

SRC := $(CURDIR)
BUILD := $(SRC)/build
S := $(SRC)/scripts

# Which guest kernels: 6.1, 6.12, debug or all, resolved to releases by
# scripts/kernels (all: 6.1, 6.12 and the debug kernel once it is built;
# vm-test and check build it first).  KDIR=<kernel build tree> builds the
# module for any other kernel.
KERNELS ?= all
ifeq ($(KDIR),)
kernel_releases = $(shell $(S)/kernels $(KERNELS) || echo KERNELS-ERROR)
else
kernel_releases = $(notdir $(KDIR))
endif

# The 6.12 source tarball provides kselftest_harness.h and checkpatch.pl.
KSRC_TARBALL := /usr/src/linux-source-6.12.tar.xz
KSRC := $(BUILD)/ksrc
KSRC_STAMP := $(KSRC)/.extracted
KSRC_FILES := \
	tools/testing/selftests/kselftest_harness.h \
	tools/testing/selftests/kselftest.h \
	scripts/checkpatch.pl \
	scripts/spelling.txt \
	scripts/const_structs.checkpatch

KMOD_SOURCES := $(wildcard $(SRC)/kmod/*.[ch] $(SRC)/kmod/core/*.[ch]) \
	$(SRC)/include/uapi/linux/lamport.h $(SRC)/Kbuild

.PHONY: all deps modules user selftests ksrc lint sparse checkpatch \
	test-user vm-test vm-shell vm-run demo check check-debug clean help debug-kernel \
	bench-fd bench-msg bench-trace bench-raft bench-failover

all: modules user selftests

help:
	@echo "make                  build lamport.ko for every guest kernel, tools, selftests"
	@echo "make deps             install every package the project needs (apt)"
	@echo "make check            deps, build, lint, host tests and VM tests: the CI job"
	@echo "make demo             boot a test VM and show three lamport nodes"
	@echo "make check-debug      every selftest whole on the debug kernel (~33 min; make check"
	@echo "                      runs the longest ones there in part)"
	@echo "make vm-test          run the selftests in test VMs [KERNELS=6.1|6.12|debug|all]"
	@echo "make debug-kernel     build (once, cached) the KASAN/lockdep/kmemleak kernel"
	@echo "make vm-shell         interactive test VM, module loaded [KERNELS=...]"
	@echo "make vm-run CMD=...   run one command in a test VM, return its status"
	@echo "make bench-fd         lamport.ko vs its userspace twin vs FRR bfdd, in test VMs"
	@echo "                      [KERNELS=6.1 6.12] [BENCH_ARGS=...] [BENCH_TIMEOUT=7200];"
	@echo "                      results and CDF plots in build/bench/fd/<kernel>/"
	@echo "make bench-msg        AF_LAMPORT vs UDP and TCP, in test VMs [KERNELS=6.1 6.12]"
	@echo "                      [BENCH_ARGS=...]; results and plots in build/bench/msg/<kernel>/"
	@echo "make bench-trace      what lamport trace costs TCP: on this host and in test VMs"
	@echo "                      [KERNELS=6.1 6.12] [BENCH_ARGS=...]; tables in build/bench/trace/"
	@echo "make bench-raft       Raft write throughput and latency, 3 nodes in netns: on this"
	@echo "                      host and in test VMs [KERNELS=...]; build/bench/raft/"
	@echo "make bench-failover   Raft failover after a leader crash, with and without the"
	@echo "                      detector's hints, in test VMs [KERNELS=6.1 6.12]"
	@echo "                      [BENCH_ARGS=...]; results and plot in build/bench/failover/<kernel>/"
	@echo "make lint             sparse (C=2) and checkpatch on the kernel code"
	@echo "make test-user        host tests of the userspace code and harness"
	@echo "KDIR=<tree>           build the module against another kernel tree"

deps:
	$(S)/deps

# --- kernel module ---------------------------------------------------------
# Each kernel gets its own build directory mirroring the source through
# symlinks, so objects for different kernels never collide in the tree.

modules: $(KMOD_SOURCES)
	@$(S)/need build-essential:gcc kmod:depmod
	@set -e; for rel in $(kernel_releases); do \
		[ "$$rel" != KERNELS-ERROR ] || exit 1; \
		$(S)/kmod-build "$$rel" "$(KDIR)"; \
	done

# --- userspace -------------------------------------------------------------

user:
	@$(S)/need libmnl-dev:/usr/include/libmnl/libmnl.h build-essential:gcc \
		libbpf-dev:/usr/include/bpf/libbpf.h clang:clang llvm:llvm-strip \
		bpftool:bpftool
	$(MAKE) -C user OUT=$(BUILD)/user

$(KSRC_STAMP): $(KSRC_TARBALL)
	@$(S)/need linux-source-6.12:$(KSRC_TARBALL)
	@echo "  EXTRACT kselftest headers and checkpatch from $(notdir $<)"
	@rm -rf $(KSRC) && mkdir -p $(KSRC)
	@tar -xJf $< -C $(KSRC) --strip-components=1 \
		$(addprefix linux-source-6.12/,$(KSRC_FILES))
	@touch $@

$(KSRC_TARBALL):
	@$(S)/need linux-source-6.12:$(KSRC_TARBALL)

ksrc: $(KSRC_STAMP)

selftests: $(KSRC_STAMP) user
	$(MAKE) -C selftests OUT=$(BUILD)/selftests \
		KSFT_DIR=$(KSRC)/tools/testing/selftests

# --- lint ------------------------------------------------------------------

lint: sparse checkpatch

sparse: $(KMOD_SOURCES)
	@$(S)/need sparse:sparse
	@set -e; for rel in $(kernel_releases); do \
		[ "$$rel" != KERNELS-ERROR ] || exit 1; \
		$(S)/kmod-build "$$rel" "$(KDIR)" sparse; \
	done

checkpatch: $(KSRC_STAMP)
	@echo "  CHECKPATCH kmod/ include/"
	@perl $(KSRC)/scripts/checkpatch.pl --no-tree --quiet --show-types \
		-f $(wildcard kmod/*.[ch] kmod/core/*.[ch]) include/uapi/linux/lamport.h

# --- tests -----------------------------------------------------------------

# selftests/trace.sh runs here too: lamport trace in tracepoint-only mode,
# the only one this host's kernel offers, with nftables for the loss; and
# selftests/raft.sh, the Raft cluster over UDP (over AF_LAMPORT in the VMs).
test-user: user selftests
	@LAMPORT=$(BUILD)/user/lamport TCPGEN=$(BUILD)/selftests/tcpgen TRACE_LOSS=nft \
		LINCHECK=$(BUILD)/user/lamport-lincheck RAFT_POKE=$(BUILD)/selftests/raft_poke \
		$(S)/host-tests $(BUILD)/user/tests/test_* \
		$(SRC)/user/tests/test_cli.sh $(SRC)/user/tests/test_twin.sh \
		$(S)/tests/test-splat.sh $(SRC)/selftests/trace.sh $(SRC)/selftests/raft.sh \
		$(SRC)/selftests/raft_ops.sh \
		$(SRC)/selftests/bench_raft_smoke.sh

# The debug kernel is built (or found in its cache) before the lanes that
# need it, so that the releases are resolved with it present.
need_debug_kernel = $(filter all debug,$(KERNELS))

debug-kernel:
	@$(S)/debug-kernel build >/dev/null

vm-test:
	@$(if $(need_debug_kernel),$(S)/debug-kernel build >/dev/null)
	@$(MAKE) --no-print-directory all
	@$(S)/vm-test $(KERNELS)

vm-shell: all
	@$(S)/vm shell $(firstword $(kernel_releases))

# CMD reaches the script through the environment, quotes, $ and all.
unexport CMD
export LAMPORT_VM_CMD := $(value CMD)
vm-run: all
	@$(S)/vm run $(firstword $(kernel_releases)) "$$LAMPORT_VM_CMD"

# `lamport bench fd` in one test VM per kernel, one after the other: on the
# 6.1 and 6.12 kernels unless KERNELS is given.  The guest's /lamport/out
# comes back to build/bench/fd/<kernel>/, where scripts/bench-plot draws it.
BENCH_ARGS ?=
BENCH_TIMEOUT ?= 7200
bench_kernels = $(if $(filter command line environment,$(origin KERNELS)),$(KERNELS),6.1 6.12)
bench-fd:
	@$(MAKE) --no-print-directory all KERNELS="$(bench_kernels)"
	@set -e; rels=$$($(S)/kernels $(bench_kernels)); \
	for rel in $$rels; do \
		LAMPORT_VM_TIMEOUT=$(BENCH_TIMEOUT) $(S)/bench-fd "$$rel" $(BENCH_ARGS); \
	done

# `lamport bench msg`, AF_LAMPORT against UDP and TCP on the same path, the
# same way: results and plots in build/bench/msg/<kernel>/.
bench-msg:
	@$(MAKE) --no-print-directory all KERNELS="$(bench_kernels)"
	@set -e; rels=$$($(S)/kernels $(bench_kernels)); \
	for rel in $$rels; do \
		LAMPORT_VM_TIMEOUT=$(BENCH_TIMEOUT) $(S)/bench-msg "$$rel" $(BENCH_ARGS); \
	done

# `lamport bench trace` on this host (tracepoint-only) and in a test VM
# per kernel (full mode): build/bench/trace/<host|kernel>.txt.
bench-trace:
	@$(MAKE) --no-print-directory all KERNELS="$(bench_kernels)"
	@mkdir -p $(BUILD)/bench/trace
	$(BUILD)/user/lamport bench trace $(BENCH_ARGS) | tee $(BUILD)/bench/trace/host-$$(uname -r).txt
	@set -e; rels=$$($(S)/kernels $(bench_kernels)); \
	for rel in $$rels; do \
		LAMPORT_VM_BENCH=1 LAMPORT_VM_TIMEOUT=$(BENCH_TIMEOUT) $(S)/vm run "$$rel" \
			'mkdir -p /lamport/out && lamport bench trace $(BENCH_ARGS) | tee /lamport/out/table.txt'; \
		cp $(BUILD)/vm/$$rel/export/table.txt $(BUILD)/bench/trace/$$rel.txt; \
	done

# `lamport bench raft` on this host and in a test VM per kernel (over
# AF_LAMPORT): build/bench/raft/<host|kernel>/.
bench-raft:
	@$(MAKE) --no-print-directory all KERNELS="$(bench_kernels)"
	$(BUILD)/user/lamport bench raft dir $(BUILD)/bench/raft/host-$$(uname -r) $(BENCH_ARGS)
	@set -e; rels=$$($(S)/kernels $(bench_kernels)); \
	for rel in $$rels; do \
		LAMPORT_VM_BENCH=1 LAMPORT_VM_TIMEOUT=$(BENCH_TIMEOUT) $(S)/vm run "$$rel" \
			'lamport bench raft dir /lamport/out $(BENCH_ARGS)'; \
		mkdir -p $(BUILD)/bench/raft/$$rel; \
		cp $(BUILD)/vm/$$rel/export/* $(BUILD)/bench/raft/$$rel/; \
	done

# `lamport bench failover` in a test VM per kernel (it needs lamport.ko, so
# not on this host): build/bench/failover/<kernel>/, the plot drawn here
# when the guest had no gnuplot.
bench-failover:
	@$(MAKE) --no-print-directory all KERNELS="$(bench_kernels)"
	@set -e; rels=$$($(S)/kernels $(bench_kernels)); \
	for rel in $$rels; do \
		LAMPORT_VM_BENCH=1 LAMPORT_VM_TIMEOUT=$(BENCH_TIMEOUT) $(S)/vm run "$$rel" \
			'lamport bench failover dir /lamport/out $(BENCH_ARGS)'; \
		dst=$(BUILD)/bench/failover/$$rel; \
		rm -rf "$$dst" && mkdir -p "$$dst"; \
		cp $(BUILD)/vm/$$rel/export/* "$$dst"/; \
		if [ ! -e "$$dst/failover.svg" ] && [ -e "$$dst/failover.gp" ] && \
		   command -v gnuplot >/dev/null; then \
			(cd "$$dst" && gnuplot failover.gp); \
		fi; \
	done

demo:
	$(S)/deps
	$(MAKE) all KERNELS=6.12
	$(S)/vm demo $$($(S)/kernels 6.12)

# The CI job.  Dependencies first, then a fresh make so that kernels
# installed by `deps` are discovered; the debug kernel is built on the first
# run on a machine (~30 min) and cached for every later one.
check:
	$(S)/deps
	$(S)/debug-kernel build
	$(MAKE) all KERNELS=all
	$(MAKE) lint KERNELS=all
	$(MAKE) test-user
	$(MAKE) vm-test KERNELS=all

# Every selftest whole on the debug kernel: make check runs the longest ones
# there in part (their kernel paths), to keep within its time budget.
check-debug:
	$(S)/deps
	$(S)/debug-kernel build
	$(MAKE) all KERNELS=debug
	LAMPORT_DEBUG_FULL=1 $(S)/vm-test debug

clean:
	rm -rf $(BUILD)
