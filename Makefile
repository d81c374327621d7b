# SPDX-License-Identifier: GPL-2.0
#
# make            hvx.ko, userspace tools and selftests
# make demo       boot a Linux guest with userspace/hvx-run on hvx in the
#                 QEMU rig: its console, a command at its shell, poweroff
#                 (make run is the same); VMX=1: the same in the Bochs rig
# make check      every test: unit tests here, selftests in both emulated
#                 rigs (QEMU/SVM, then Bochs/VMX); a summary line per backend
# make check-svm  only the QEMU rig (AMD SVM), kvm_amd as oracle (~2 min)
# make check-vmx  only the Bochs rig (Intel VMX), kvm_intel as oracle (~6.5 min)
# make bench      benchmarks in both rigs (hvx/KVM ratios per backend)
# make lint       sparse + checkpatch --strict
#
# The rig's kernel ABI is pinned in scripts/rig/config.sh.

KVER_RIG := $(shell . scripts/rig/config.sh 2>/dev/null && echo $$RIG_KVER)
KDIR ?= $(if $(wildcard /lib/modules/$(shell uname -r)/build),\
	/lib/modules/$(shell uname -r)/build,/usr/src/linux-headers-$(KVER_RIG))

CC ?= gcc

.PHONY: all module userspace selftests unit check check-svm check-vmx bench lint clean deps run demo

all: module userspace selftests

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

userspace:
	$(MAKE) -C userspace

selftests:
	$(MAKE) -C selftests

unit:
	$(MAKE) -C selftests/unit run

deps:
	scripts/rig/deps.sh

check:
	scripts/rig/check-all.sh

check-svm:
	scripts/rig/check.sh

check-vmx:
	scripts/rig/check-vmx.sh

# The main job: boot a Linux guest under hvx in the rig.
demo run:
ifeq ($(VMX),1)
	scripts/rig/check-vmx.sh --run-linux
else
	scripts/rig/check.sh --run-linux
endif

bench:
	scripts/rig/bench-all.sh

lint:
	scripts/lint.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean
	rm -rf build
