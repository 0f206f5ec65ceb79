# shellcheck shell=bash
# Common settings of the linux-cr harness.  Sourced, never run.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${CR_BUILD:-$REPO/build}
SRC=$BUILD/linux
KOBJ=$BUILD/kernel
TARBALL=${CR_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
export CCACHE_DIR=${CCACHE_DIR:-/var/cache/linux-cr/ccache}
export CCACHE_BASEDIR=$REPO
export CCACHE_COMPILERCHECK=content
export CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export KBUILD_BUILD_USER=linux-cr
export KBUILD_BUILD_HOST=linux-cr
JOBS=${JOBS:-$(($(nproc) + 1))}
# CPUs of the test guest
CR_VM_CPUS=${CR_VM_CPUS:-2}

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Time a phase and report it on one line that the README's figures use.
phase() {
	local name=$1 t0 rc
	shift
	t0=$(date +%s.%N)
	"$@"; rc=$?
	printf '[%s] phase %-16s %6.1f s%s\n' "$(date +%T)" "$name" \
		"$(echo "$(date +%s.%N) - $t0" | bc)" \
		"$([ $rc -eq 0 ] || echo " (failed, rc=$rc)")" >&2
	return $rc
}

base_version() {
	dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown
}
