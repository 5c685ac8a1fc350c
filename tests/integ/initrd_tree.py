#!/usr/bin/env python3
# The initrd tree hash of docs/boot-protocol.md "The initrd tree hash", written a third
# time, independently of imagebuild/initrd_tree.c and initramfs/treehash.c, so the tests
# can check both against it:
#   initrd_tree.py --dir DIR     walk an unpacked tree (lstat, no following links)
#   initrd_tree.py --cpio FILE   read an uncompressed newc archive ("-" = stdin)
import hashlib, os, stat, sys

EXCLUDED = {"proc", "sys", "dev", "run", "newroot", "tmp"}


def digest(entries):
    """entries: {path: (type, mode, data)} with path "/a/b" -> 64 hex."""
    h = hashlib.sha256()
    for p in sorted(entries, key=lambda s: s.encode()):
        t, mode, data = entries[p]
        h.update(b"%s\0%s\0%04o\0%d\0%s\n" % (p.encode(), t.encode(), mode & 0o7777,
                                              len(data), hashlib.sha256(data).hexdigest().encode()))
    return h.hexdigest()


def keep(path):
    return path.split("/")[1] not in EXCLUDED


def from_dir(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            full = os.path.join(d, n)
            p = "/" + os.path.relpath(full, root)
            st = os.lstat(full)
            if not keep(p):
                continue
            if stat.S_ISREG(st.st_mode):
                out[p] = ("f", st.st_mode, open(full, "rb").read())
            elif stat.S_ISLNK(st.st_mode):
                out[p] = ("l", st.st_mode, os.fsencode(os.readlink(full)))
        dirs[:] = [n for n in dirs if not os.path.islink(os.path.join(d, n))]
    return out


def from_cpio(b):
    out, off = {}, 0
    while True:
        h = b[off:off + 110]
        assert h[:6] == b"070701", "not newc at %d" % off
        f = [int(h[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        mode, size, nlen = f[1], f[6], f[11]
        name = b[off + 110:off + 110 + nlen - 1].decode()
        off = (off + 110 + nlen + 3) & ~3
        data = b[off:off + size]
        off = (off + size + 3) & ~3
        if name == "TRAILER!!!":
            return out
        while name.startswith("./"):
            name = name[2:]
        name = name.lstrip("/")
        if name in ("", ".") or not keep("/" + name):
            continue
        p = "/" + name
        if stat.S_ISREG(mode):
            assert f[4] == 1, "%s: hard links are not supported here" % p
            out[p] = ("f", mode, data)
        elif stat.S_ISLNK(mode):
            out[p] = ("l", 0o777, data)  # the kernel makes every symlink 0777


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("--dir", "--cpio"):
        sys.exit("usage: initrd_tree.py --dir DIR | --cpio FILE")
    if sys.argv[1] == "--dir":
        print(digest(from_dir(sys.argv[2])))
    else:
        f = sys.stdin.buffer if sys.argv[2] == "-" else open(sys.argv[2], "rb")
        print(digest(from_cpio(f.read())))
