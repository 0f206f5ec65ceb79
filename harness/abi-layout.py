#!/usr/bin/env python3
"""The image format must have the same layout for i386 and x86_64.

Usage: abi-layout.py HEADER INCLUDE_DIR

Compiles HEADER (a uapi header) with -m32 and with -m64 and compares
sizeof of every struct and offsetof of every field; prints one line per
difference and exits 1 if there is any.  No C library is needed: the
values are read from the compiler's assembly output, as the kernel's
asm-offsets are.
"""
import os
import re
import subprocess
import sys
import tempfile


def structs(text):
    """struct name -> list of field names, from a simple uapi header."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    out = {}
    for m in re.finditer(r"struct\s+(\w+)\s*\{(.*?)\};", text, flags=re.S):
        fields = []
        for decl in m.group(2).split(";"):
            decl = decl.strip()
            if not decl:
                continue
            # "__u64 a, b[3]" -> a, b ; "struct cr_hdr h" -> h
            names = decl.split(None, 1)[1] if not decl.startswith("struct") else decl.split(None, 2)[2]
            for n in names.split(","):
                n = re.sub(r"\[.*\]", "", n).strip()
                if n:
                    fields.append(n)
        out[m.group(1)] = fields
    return out


def layout(header, incdir, bits, st):
    src = ['#include "%s"' % header, "#define O(s, f) __builtin_offsetof(struct s, f)",
           "void f(void) {"]
    for s, fields in st.items():
        src.append('asm volatile(".ascii \\"@%s size %%0\\"" :: "i" (sizeof(struct %s)));' % (s, s))
        for f in fields:
            src.append('asm volatile(".ascii \\"@%s.%s %%0\\"" :: "i" (O(%s, %s)));' % (s, f, s, f))
    src.append("}")
    with tempfile.NamedTemporaryFile("w", suffix=".c") as c:
        c.write("\n".join(src))
        c.flush()
        r = subprocess.run(["gcc", "-m%d" % bits, "-ffreestanding", "-nostdinc", "-I", incdir,
                            "-S", "-o", "-", c.name], capture_output=True, text=True)
        if r.returncode:
            sys.exit("abi-layout: gcc -m%d failed:\n%s" % (bits, r.stderr))
        asm = r.stdout
    return dict(re.findall(r'@(\S+ ?\S*) \$?(\d+)', asm))


def main():
    header, incdir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    st = structs(open(header).read())
    l32 = layout(header, incdir, 32, st)
    l64 = layout(header, incdir, 64, st)
    bad = [k for k in sorted(l64) if l32.get(k) != l64[k]]
    for k in bad:
        print("abi-layout: %s: %s on i386, %s on x86_64" % (k, l32.get(k), l64[k]))
    n = len(l64)
    if not n:
        print("abi-layout: no structs found in %s" % header)
        return 1
    print("abi-layout: %d structs, %d sizes and offsets compared, %d differ" %
          (len(st), n, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
