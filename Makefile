# vmq: per-VM NIC transmit queues for Linux hosts.
#   make            build everything under build/
#   make test       install missing packages, build, run every test (root)
#   make fuzz       run each libFuzzer harness FUZZ_SECONDS (60); fuzz-smoke: 5 s
#   make check-san  the integration tests against vmqd and vmqctl built with
#                   ASan and UBSan; any sanitizer report fails its test (root)
#   make bench      print the performance figures, write build/bench/bench.json and
#                   build/bench/rx.json (root)
#   make deps       install the Debian packages the build and tests need
#   make install    PREFIX=/usr/local DESTDIR=
# V=1 shows the commands.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD := build

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
# -MMD -MP: each object depends on the headers it includes, no more.
override CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser/lib -I$(BUILD) -MMD -MP
LDLIBS := -ljson-c -lbpf -lelf -lz -lpthread -lmicrohttpd
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer
BPF_CFLAGS := -g -O2 -target bpf $(WARN) -Iinclude -I/usr/include/$(MULTIARCH) -MMD -MP

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.PHONY: all test check check-san lint deps clean install bench demo guest

# Debian packages: build, tests, demo.
DEPS := make gcc clang llvm libbpf-dev bpftool libcmocka-dev iproute2 \
	libelf-dev zlib1g-dev libjson-c-dev ethtool clang-format clang-tidy python3 util-linux \
	libmicrohttpd-dev curl python3-prometheus-client \
	qemu-system-x86 busybox-static cpio xz-utils man-db groff-base bsdextrautils
# The libvirt hook's test runs a real libvirtd and QEMU (TCG).
DEPS += libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu
# The service test: systemd-analyze (package systemd; it is not started:
# the test never needs systemd running), capsh, strace.
DEPS += systemd libcap2-bin strace
# The receive side's test counts frames by CPU with an nftables rule.
DEPS += nftables

LIB_SRCS := $(wildcard user/lib/*.c)
LIB_OBJS := $(LIB_SRCS:user/lib/%.c=$(BUILD)/obj/lib/%.o)
SAN_LIB_OBJS := $(LIB_SRCS:user/lib/%.c=$(BUILD)/san/lib/%.o)
# Programs: user/<prog>/*.c; main.c alone holds main(), so the rest is an
# archive the unit tests can link.
PROGS := $(patsubst user/%/main.c,%,$(wildcard user/*/main.c))
COMMON_SRCS := $(wildcard user/common/*.c)
prog_srcs = $(wildcard user/$(1)/*.c)
prog_objs = $(patsubst user/%.c,$(BUILD)/$(2)%.o,$(call prog_srcs,$(1)))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_BINS := $(BUILD)/tests/vmq-udpsend $(BUILD)/tests/vmq-tcx $(BUILD)/tests/vmq_tx_variant.bpf.o \
	$(BUILD)/tests/vmq_port_variant.bpf.o $(BUILD)/tests/vmq_tx_observe.bpf.o \
	$(BUILD)/tests/vmq_tx_v1.bpf.o $(BUILD)/tests/vmq_rx_variant.bpf.o
BENCH_BINS := $(BUILD)/bench/vmq-bench $(BUILD)/bench/vmq-bench-balance $(BUILD)/bench/vmq-rx-bench \
	$(BUILD)/bench/vmq_rx_bench.bpf.o

all: $(BUILD)/vmq_tx.bpf.o $(BUILD)/vmq_ctl.bpf.o $(BUILD)/vmq_port.bpf.o $(BUILD)/vmq_rx.bpf.o \
	$(BUILD)/vmq_rx_ctl.bpf.o $(BUILD)/libvmq.a $(PROGS:%=$(BUILD)/%)

# --- BPF objects and skeletons ------------------------------------------
$(BUILD)/%.bpf.o: bpf/%.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# --- libvmq -------------------------------------------------------------
$(BUILD)/obj/lib/dev.o $(BUILD)/san/lib/dev.o: $(BUILD)/vmq_tx.skel.h $(BUILD)/vmq_ctl.skel.h
$(BUILD)/obj/lib/port.o $(BUILD)/san/lib/port.o: $(BUILD)/vmq_port.skel.h
$(BUILD)/obj/lib/rx.o $(BUILD)/san/lib/rx.o: $(BUILD)/vmq_rx.skel.h $(BUILD)/vmq_rx_ctl.skel.h

$(BUILD)/obj/%.o: user/%.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Iuser/common -c $< -o $@

$(BUILD)/san/%.o: user/%.c | $(BUILD)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Iuser/common $(SANITIZE) -c $< -o $@

$(BUILD)/libvmq.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/san/libvmq.a: $(SAN_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

# --- vmqd, vmqctl -------------------------------------------------------
define prog_rules
$(BUILD)/lib$(1).a: $(filter-out %/main.o,$(call prog_objs,$(1),obj/) $(COMMON_SRCS:user/%.c=$(BUILD)/obj/%.o))
	$$(call msg,AR,$$@)
	$$(Q)rm -f $$@ && $$(AR) rcs $$@ $$^

$(BUILD)/san/lib$(1).a: $(filter-out %/main.o,$(call prog_objs,$(1),san/) $(COMMON_SRCS:user/%.c=$(BUILD)/san/%.o))
	$$(call msg,AR,$$@)
	$$(Q)rm -f $$@ && $$(AR) rcs $$@ $$^

$(BUILD)/$(1): $(BUILD)/obj/$(1)/main.o $(BUILD)/lib$(1).a $(BUILD)/libvmq.a
	$$(call msg,LINK,$$@)
	$$(Q)$$(CC) $$(CFLAGS) $$^ $$(LDLIBS) -o $$@

$(BUILD)/san/bin/$(1): $(BUILD)/san/$(1)/main.o $(BUILD)/san/lib$(1).a $(BUILD)/san/libvmq.a
	$$(call msg,LINK-SAN,$$@)
	$$(Q)mkdir -p $$(@D) && $$(CC) $$(CFLAGS) $$(SANITIZE) $$^ $$(LDLIBS) -o $$@
endef
$(foreach p,$(PROGS),$(eval $(call prog_rules,$(p))))
$(call prog_objs,vmqd,obj/) $(call prog_objs,vmqd,san/): $(BUILD)/vmq_tx.skel.h

# --- tests --------------------------------------------------------------
SAN_ARCHIVES := $(PROGS:%=$(BUILD)/san/lib%.a) $(BUILD)/san/libvmq.a
$(BUILD)/tests/test_%: tests/unit/test_%.c $(SAN_ARCHIVES)
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) $(SANITIZE) -Itests/unit -Iuser/common -Iuser $< \
		$(SAN_ARCHIVES) -lcmocka $(LDLIBS) -o $@

$(BUILD)/tests/test_bpf_tx: $(BUILD)/vmq_tx.skel.h $(BUILD)/tests/vmq_tx_observe.bpf.o

# vmq_tx with another tag, for the upgrade tests (VMQ_TX_VARIANT).
$(BUILD)/tests/vmq_tx_variant.bpf.o: bpf/vmq_tx.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -DVMQ_TX_VARIANT -c $< -o $@

# vmq_tx that also leaves its TX queue choice in skb->cb[0], which
# BPF_PROG_TEST_RUN copies back (test_bpf_tx: VMQ_TX_OBSERVE).
$(BUILD)/tests/vmq_tx_observe.bpf.o: bpf/vmq_tx.bpf.c bpf/vmq_queues.bpf.h include/vmq_abi.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -DVMQ_TX_OBSERVE -c $< -o $@

# vmq_tx as ABI version 1 laid out its maps: a frozen copy, for the test of
# the v1 -> v2 migration.
$(BUILD)/tests/vmq_tx_v1.bpf.o: tests/fixtures/vmq_tx_v1.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -c $< -o $@

# vmq_rx with another tag, for its upgrade test (VMQ_RX_VARIANT).
$(BUILD)/tests/vmq_rx_variant.bpf.o: bpf/vmq_rx.bpf.c include/vmq_abi.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -DVMQ_RX_VARIANT -c $< -o $@

$(BUILD)/tests/test_bpf_rx: $(BUILD)/tests/vmq_rx_variant.bpf.o

# vmq_port with another tag, for the port upgrade test (VMQ_PORT_VARIANT).
$(BUILD)/tests/vmq_port_variant.bpf.o: bpf/vmq_port.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -DVMQ_PORT_VARIANT -c $< -o $@

$(BUILD)/tests/vmq-udpsend: tests/tools/udpsend.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) $< -o $@

# tcx links for the tests (bpftool 7.1 has none): tests/tools/tcx.c
$(BUILD)/tests/vmq-tcx: tests/tools/tcx.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) $< -lbpf -o $@

$(BUILD)/bench/vmq-bench: bench/vmq_bench.c $(BUILD)/libvmq.a $(BUILD)/vmq_tx.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) $< $(BUILD)/libvmq.a $(LDLIBS) -o $@

# The balancer's interval: its pure decision (libvmqd's balance.o) and map reads.
$(BUILD)/bench/vmq-bench-balance: bench/vmq_bench_balance.c $(BUILD)/libvmqd.a $(BUILD)/libvmq.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Iuser -Iuser/common $< $(BUILD)/libvmqd.a \
		$(BUILD)/libvmq.a $(LDLIBS) -o $@

$(BUILD)/bench/vmq-rx-bench: bench/vmq_rx_bench.c $(BUILD)/libvmq.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) $< $(BUILD)/libvmq.a $(LDLIBS) -o $@

$(BUILD)/bench/%.bpf.o: bench/%.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -c $< -o $@

# --- fuzzing (tests/fuzz/, docs/fuzzing.md) ------------------------------
# libFuzzer harnesses, clang only, each with ASan and UBSan (which abort).
# vmqd's run on tests/fuzz/fake_kernel.c: no BPF, netlink or sysfs.
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -g -O1 $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser/lib -Iuser/common -Iuser \
	-Itests/fuzz -I$(BUILD) $(FUZZ_SAN) -MMD -MP
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_VMQD_SRCS := $(filter-out %/main.c,$(call prog_srcs,vmqd)) $(COMMON_SRCS) user/lib/maps.c \
	user/lib/parse.c user/lib/fault.c user/lib/pin_name.c tests/fuzz/fake_kernel.c tests/fuzz/check.c
FUZZ_CTL_SRCS := $(filter-out %/main.c,$(call prog_srcs,vmqctl)) $(COMMON_SRCS) user/lib/parse.c
fuzz_objs = $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(1))

$(BUILD)/fuzz/obj/%.o: %.c $(BUILD)/vmq_tx.skel.h
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# The fake kernel is scaffolding: sanitized, but no coverage to chase in it.
$(BUILD)/fuzz/obj/tests/fuzz/fake_kernel.o: tests/fuzz/fake_kernel.c
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/fuzz_ctl_args $(BUILD)/fuzz/fuzz_batch: $(call fuzz_objs,$(FUZZ_CTL_SRCS))
$(filter-out %/fuzz_ctl_args %/fuzz_batch,$(FUZZ_BINS)): $(call fuzz_objs,$(FUZZ_VMQD_SRCS))
$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/obj/tests/fuzz/fuzz_%.o
	$(call msg,LINK,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ -ljson-c -lmicrohttpd -lpthread -o $@

.SECONDARY: $(FUZZ_NAMES:%=$(BUILD)/fuzz/obj/tests/fuzz/fuzz_%.o)
.PHONY: fuzz fuzz-build fuzz-smoke
fuzz-build: $(FUZZ_BINS)

# Each harness for FUZZ_SECONDS on a copy of its corpus: executions and
# crashes per harness; a crash fails (its input is kept under build/fuzz/).
fuzz: fuzz-build
	$(Q)BUILD=$(abspath $(BUILD)) FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh

fuzz-smoke: fuzz-build
	$(Q)BUILD=$(abspath $(BUILD)) FUZZ_SECONDS=5 bash tests/fuzz/run.sh

check: all $(UNIT_BINS) $(TOOL_BINS) fuzz-build lint
	$(Q)BUILD=$(abspath $(BUILD)) tests/run.sh

# The integration suite with $(BUILD)/san/bin/vmqd and vmqctl (tests/integration/
# lib.sh: VMQ_BIN_DIR, VMQ_SANITIZED); TESTS=PATTERN runs the matching ones.
SAN_PROGS := $(PROGS:%=$(BUILD)/san/bin/%)
check-san: all $(SAN_PROGS) $(TOOL_BINS)
	$(Q)BUILD=$(abspath $(BUILD)) VMQ_BIN_DIR=$(abspath $(BUILD)/san/bin) VMQ_SANITIZED=1 \
		tests/run.sh integration $(TESTS)

# clang-format and clang-tidy stay quiet (.clang-format, .clang-tidy).
C_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find bpf include user tests bench -name '*.[ch]')
TIDY_SRCS = $(filter user/%.c,$(C_SRCS))
lint: $(BUILD)/vmq_tx.skel.h $(BUILD)/vmq_ctl.skel.h $(BUILD)/vmq_port.skel.h $(BUILD)/vmq_rx.skel.h \
	$(BUILD)/vmq_rx_ctl.skel.h
	$(call msg,FORMAT,$(words $(C_SRCS)) files)
	$(Q)clang-format --dry-run --Werror $(C_SRCS)
	$(call msg,TIDY,$(words $(TIDY_SRCS)) files)
	$(Q)for f in $(TIDY_SRCS); do \
		clang-tidy --quiet $$f -- -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser/lib -Iuser/common \
			-isystem $(BUILD) 2>/dev/null || exit 1; \
	done

test: deps
	$(Q)$(MAKE) --no-print-directory check

# The README's main command: a namespaced host, vmqd, VM traffic, figures.
demo: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/tests/vmq-udpsend
	$(Q)BUILD=$(abspath $(BUILD)) contrib/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BINS) $(TOOL_BINS)
	$(Q)BUILD=$(abspath $(BUILD)) bash bench/run.sh
	$(Q)BUILD=$(abspath $(BUILD)) bash bench/rx.sh

# The integration tests' QEMU guest: $(BUILD)/guest/{vmlinuz,initrd.img}
# (tests/guest/build.sh: does nothing when up to date).
guest:
	$(Q)bash tests/guest/build.sh $(BUILD)/guest

# --- housekeeping -------------------------------------------------------
deps:
	$(Q)missing=""; for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(BUILD):
	$(Q)mkdir -p $@

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/lib/vmq \
		$(DESTDIR)$(PREFIX)/share/doc/vmq $(DESTDIR)$(PREFIX)/lib/systemd/system \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0755 $(PROGS:%=$(BUILD)/%) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 $(BUILD)/vmq_tx.bpf.o $(BUILD)/vmq_rx.bpf.o $(DESTDIR)$(PREFIX)/lib/vmq/
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/vmq/
	install -m 0644 contrib/vmqd.service $(DESTDIR)$(PREFIX)/lib/systemd/system/
	install -m 0644 docs/man/vmqd.8 docs/man/vmqctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 contrib/bash-completion/vmqctl $(DESTDIR)$(PREFIX)/share/bash-completion/completions/
	install -D -m 0755 contrib/libvirt/qemu $(DESTDIR)/etc/libvirt/hooks/qemu.d/vmq

clean:
	rm -rf $(BUILD)

# The compilers' dependency files (-MMD -MP).
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
