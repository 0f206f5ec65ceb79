# linux-cr driver Makefile: project tooling, not part of the kernel tree.
# See README.md.  Everything it builds goes to build/ (ignored by git).

H := harness
EXTRA ?=
CMD ?=
N ?=
SEED ?=
BENCH_JSON ?=

.PHONY: all check demo bench fuzz kernel vm-run checkpatch clean help

all: kernel

help:
	@sed -n 's/^## //p' README.md 2>/dev/null | head -n 20

## make check     build, boot the debug kernel, run every test (the CI command)
check:
	@$(H)/check.sh

## make demo      build, boot, and run the demo
demo:
	@$(H)/demo.sh

## make bench [BENCH_JSON=file]   our checkpoint/restart beside CRIU, memcpy, fork
bench:
	@BENCH_JSON='$(if $(BENCH_JSON),$(abspath $(BENCH_JSON)))' $(H)/bench.sh

## make fuzz N=cases [SEED=s]   fuzz restart() in the test guest, kept cases in build/fuzz/
fuzz: kernel
	@N='$(N)' SEED='$(SEED)' $(H)/fuzz.sh

## make kernel    install packages, build kernel, tests and the guest initramfs
kernel:
	@$(H)/deps.sh
	@$(H)/build-kernel.sh build
	@$(H)/userspace.sh

## make vm-run EXTRA=dir CMD='...'   run CMD in the test guest, DIR at /extra
vm-run: kernel
	@test -n '$(subst ','\'',$(value CMD))' || \
		{ echo "usage: make vm-run [EXTRA=dir] CMD='shell command'" >&2; exit 2; }
	@$(H)/vm.sh $(if $(EXTRA),-x "$(abspath $(EXTRA))") -- '$(subst ','\'',$(value CMD))'; \
		s=$$?; echo "vm-run: exit status $$s"; exit $$s

## make checkpatch   checkpatch --strict, W=1 and sparse over our kernel code
checkpatch:
	@$(H)/deps.sh
	@$(H)/build-kernel.sh kmake -s headers
	@$(H)/static-checks.sh

clean:
	rm -rf build
