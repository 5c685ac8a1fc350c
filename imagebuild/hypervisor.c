/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "fsutil.h"
#include "hypervisor.h"
#include "log.h"
#include "readfile.h"

/* ELF (System V gABI, "Note Section"): the fields read here, little-endian only (amd64). */
#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define PT_NOTE 4
#define SHT_NOTE 7
#define NT_GNU_BUILD_ID 3
/* Headers one image may have: Xen has 2 program headers and 4 sections. */
#define MAX_ELF_HEADERS 4096

static uint64_t
le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

/* Walk the notes in buf[off, off+size): 4-byte aligned namesz, descsz, type, name, desc
 * (the same layout in ELF32 and ELF64 for GNU notes). 1 when found, 0 when not. */
static int
scan_notes(const uint8_t *buf, size_t len, uint64_t off, uint64_t size, char *hex,
    size_t hexsize, struct dl_err *reterr)
{
	uint64_t end;

	if (off > len || size > len - off)
		return dl_err_set(reterr, -EINVAL, "ELF note at %llu+%llu lies past the end (%zu bytes)",
		    (unsigned long long)off, (unsigned long long)size, len);
	end = off + size;
	while (end - off >= 12) {
		uint64_t namesz = le(buf + off, 4), descsz = le(buf + off + 4, 4);
		uint64_t type = le(buf + off + 8, 4);
		uint64_t name_off = off + 12, desc_off = name_off + ((namesz + 3) & ~3ULL);
		uint64_t next = desc_off + ((descsz + 3) & ~3ULL);

		if (namesz > end - name_off || desc_off > end || descsz > end - desc_off)
			return dl_err_set(reterr, -EINVAL, "ELF note at %llu is damaged",
			    (unsigned long long)off);
		if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(buf + name_off, "GNU", 4)) {
			if (descsz == 0)
				return dl_err_set(reterr, -EINVAL, "empty GNU build id note");
			if (descsz * 2 > MAX_HYPERVISOR_BUILD_ID || descsz * 2 + 1 > hexsize)
				return dl_err_set(reterr, -E2BIG, "GNU build id of %llu bytes, at most %d",
				    (unsigned long long)descsz, MAX_HYPERVISOR_BUILD_ID / 2);
			for (uint64_t i = 0; i < descsz; i++)
				(void)snprintf(hex + 2 * i, 3, "%02x", buf[desc_off + i]);
			return 1;
		}
		if (next > end || next <= off)
			break;
		off = next;
	}
	return 0;
}

int
hypervisor_elf_build_id(const uint8_t *buf, size_t len, char *hex, size_t size,
    struct dl_err *reterr)
{
	uint64_t phoff, shoff, phentsize, shentsize, phnum, shnum;
	bool is64;
	int rc;

	if (len < 52 || memcmp(buf, "\177ELF", 4))
		return dl_err_set(reterr, -EINVAL, "not an ELF image");
	if (buf[EI_DATA] != ELFDATA2LSB || (buf[EI_CLASS] != ELFCLASS32 && buf[EI_CLASS] != ELFCLASS64))
		return dl_err_set(reterr, -EINVAL, "not a little-endian ELF32 or ELF64 image");
	is64 = buf[EI_CLASS] == ELFCLASS64;
	if (is64 && len < 64)
		return dl_err_set(reterr, -EINVAL, "ELF64 header cut short");
	phoff = is64 ? le(buf + 32, 8) : le(buf + 28, 4);
	shoff = is64 ? le(buf + 40, 8) : le(buf + 32, 4);
	phentsize = le(buf + (is64 ? 54 : 42), 2);
	phnum = le(buf + (is64 ? 56 : 44), 2);
	shentsize = le(buf + (is64 ? 58 : 46), 2);
	shnum = le(buf + (is64 ? 60 : 48), 2);
	if (phnum > MAX_ELF_HEADERS || shnum > MAX_ELF_HEADERS)
		return dl_err_set(reterr, -EINVAL, "ELF image with %llu program and %llu section headers",
		    (unsigned long long)phnum, (unsigned long long)shnum);
	/* program headers first: what a loader sees */
	if (phnum && (phentsize < (is64 ? 56U : 32U) || phoff > len || phnum * phentsize > len - phoff))
		return dl_err_set(reterr, -EINVAL, "ELF program headers lie past the end");
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = buf + phoff + i * phentsize;

		if (le(ph, 4) != PT_NOTE)
			continue;
		rc = scan_notes(buf, len, is64 ? le(ph + 8, 8) : le(ph + 4, 4),
		    is64 ? le(ph + 32, 8) : le(ph + 16, 4), hex, size, reterr);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	if (shnum && (shentsize < (is64 ? 64U : 40U) || shoff > len || shnum * shentsize > len - shoff))
		return dl_err_set(reterr, -EINVAL, "ELF section headers lie past the end");
	for (uint64_t i = 0; i < shnum; i++) {
		const uint8_t *sh = buf + shoff + i * shentsize;

		if (le(sh + 4, 4) != SHT_NOTE)
			continue;
		rc = scan_notes(buf, len, is64 ? le(sh + 24, 8) : le(sh + 16, 4),
		    is64 ? le(sh + 32, 8) : le(sh + 20, 4), hex, size, reterr);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	return dl_err_set(reterr, -ENOENT, "no GNU build id note (NT_GNU_BUILD_ID)");
}

/* PE/COFF (Microsoft PE format): "MZ", e_lfanew at 0x3c, "PE\0\0", the COFF header
 * (20 bytes: NumberOfSections at +2, SizeOfOptionalHeader at +16), the optional header,
 * then 40-byte section headers (Name[8], VirtualSize, VirtualAddress, SizeOfRawData at
 * +16, PointerToRawData at +20). */
#define PE_SECTION_SIZE 40
/* CodeView "RSDS" + GUID (16) + age (4). A dom0 booted by Debian's xen.efi 4.17.5 read
 * the 16 GUID bytes as Xen's build id (the age is not part of it). */
#define CV_ID_LEN 16

int
hypervisor_pe_build_id(const uint8_t *buf, size_t len, char *hex, size_t size,
    struct dl_err *reterr)
{
	uint64_t pe, nsec, opt, sec;

	if (len < 0x40 || buf[0] != 'M' || buf[1] != 'Z')
		return dl_err_set(reterr, -EINVAL, "not a PE image (no MZ header)");
	pe = le(buf + 0x3c, 4);
	if (pe > len || len - pe < 24 || memcmp(buf + pe, "PE\0\0", 4) != 0)
		return dl_err_set(reterr, -EINVAL, "not a PE image (no PE signature)");
	nsec = le(buf + pe + 6, 2);
	opt = le(buf + pe + 20, 2);
	sec = pe + 24 + opt;
	if (sec > len || nsec * PE_SECTION_SIZE > len - sec)
		return dl_err_set(reterr, -EINVAL, "PE section headers lie past the end");
	for (uint64_t i = 0; i < nsec; i++) {
		const uint8_t *sh = buf + sec + i * PE_SECTION_SIZE;
		uint64_t raw = le(sh + 20, 4), rsize = le(sh + 16, 4);

		if (memcmp(sh, ".buildid", 8) != 0)
			continue;
		if (raw > len || rsize > len - raw)
			return dl_err_set(reterr, -EINVAL, ".buildid section lies past the end");
		for (uint64_t o = raw; o + 4 + CV_ID_LEN <= raw + rsize; o++) {
			if (memcmp(buf + o, "RSDS", 4) != 0)
				continue;
			if (size < 2 * CV_ID_LEN + 1)
				return dl_err_set(reterr, -E2BIG, "no room for the build id");
			for (int k = 0; k < CV_ID_LEN; k++)
				(void)snprintf(hex + 2 * k, 3, "%02x", buf[o + 4 + k]);
			return 0;
		}
		return dl_err_set(reterr, -ENOENT, ".buildid holds no CodeView RSDS record");
	}
	return dl_err_set(reterr, -ENOENT, "no .buildid section");
}

/* One "Field: value" line of a stanza [p, end); NULL when absent. *ret_len: its length. */
static const char *
stanza_field(const char *p, const char *end, const char *field, size_t *ret_len)
{
	size_t fl = strlen(field);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le_ = nl ? nl : end;

		if ((size_t)(le_ - p) > fl + 1 && !memcmp(p, field, fl) && p[fl] == ':') {
			const char *v = p + fl + 1;

			while (v < le_ && *v == ' ')
				v++;
			*ret_len = (size_t)(le_ - v);
			return v;
		}
		p = le_ + 1;
	}
	return NULL;
}

int
hypervisor_dpkg_version(const char *status, size_t len, const char *prefix,
    struct hypervisor_info *ret, struct dl_err *reterr)
{
	const char *p = status, *end = status + len;
	struct hypervisor_info found = {};
	size_t pl = strlen(prefix);
	int n = 0;

	while (p < end) {
		const char *s = p, *stop = NULL, *name, *st, *ver;
		size_t nlen, stlen, vlen;

		/* a stanza ends at an empty line */
		for (const char *q = p; q < end; q++)
			if (*q == '\n' && q + 1 < end && q[1] == '\n') {
				stop = q + 1;
				break;
			}
		if (!stop)
			stop = end;
		p = stop + 1;
		name = stanza_field(s, stop, "Package", &nlen);
		st = stanza_field(s, stop, "Status", &stlen);
		ver = stanza_field(s, stop, "Version", &vlen);
		if (!name || nlen < pl || nlen >= sizeof(found.package) || memcmp(name, prefix, pl) ||
		    !st || stlen != strlen("install ok installed") ||
		    memcmp(st, "install ok installed", stlen) || !ver)
			continue;
		if (++n > 1)
			return dl_err_set(reterr, -EINVAL, "two installed packages named %s*: '%s' and "
			    "'%.*s'", prefix, found.package, (int)nlen, name);
		memcpy(found.package, name, nlen);
		found.package[nlen] = '\0';
		{
			const char *colon = memchr(ver, ':', vlen);
			size_t d;

			if (colon) { /* epoch */
				vlen -= (size_t)(colon + 1 - ver);
				ver = colon + 1;
			}
			for (d = 0; d < vlen && ((ver[d] >= '0' && ver[d] <= '9') || ver[d] == '.'); d++)
				;
			while (d > 0 && ver[d - 1] == '.')
				d--;
			/* a release number starts with a digit (".7" is not one) */
			if (d > 0 && (ver[0] < '0' || ver[0] > '9'))
				d = 0;
			if (d == 0 || d > MAX_HYPERVISOR_VERSION)
				return dl_err_set(reterr, -EINVAL, "package %s: version '%.*s' does not "
				    "start with a release number", found.package, (int)(vlen > 64 ? 64 : vlen),
				    ver);
			memcpy(found.version, ver, d);
			found.version[d] = '\0';
		}
	}
	if (n == 0)
		return dl_err_set(reterr, -ENOENT, "no installed package named %s*", prefix);
	memcpy(ret->package, found.package, sizeof(found.package));
	memcpy(ret->version, found.version, sizeof(found.version));
	return 0;
}

/* The one regular file /boot/xen-*<suffix> of rootfs, into path. */
static int
find_one(const char *rootfs, const char *suffix, char *path, size_t size, struct dl_err *reterr)
{
	_cleanup_free_ char *boot = NULL;
	DIR *d;
	struct dirent *e;
	int n = 0;

	if (asprintf(&boot, "%s/boot", rootfs) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	d = opendir(boot);
	if (!d)
		return dl_err_set(reterr, negative_errno(), "%s: %s", boot, strerror(errno));
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name), sl = strlen(suffix);
		struct stat st;
		char p[4096];

		if (strncmp(e->d_name, "xen-", 4) || l <= sl + 4 || strcmp(e->d_name + l - sl, suffix))
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", boot, e->d_name) >= sizeof(p) ||
		    lstat(p, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (n++ == 0)
			(void)snprintf(path, size, "%s", p);
	}
	closedir(d);
	if (n == 0)
		return dl_err_set(reterr, -ENOENT, "%s has no xen-*%s: is xen-hypervisor-* in the "
		    "recipe's packages?", boot, suffix);
	if (n > 1)
		return dl_err_set(reterr, -EINVAL, "%s has %d xen-*%s files: keep one hypervisor "
		    "package in the recipe", boot, n, suffix);
	return 0;
}

/* gunzip src into a new malloc'd buffer (libarchive's raw format), at most max bytes. */
static int
gunzip_file(const char *src, size_t max, uint8_t **ret, size_t *ret_len, struct dl_err *reterr)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!a)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_format_raw(a) != ARCHIVE_OK ||
	    archive_read_open_filename(a, src, 65536) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ent) != ARCHIVE_OK) {
		rc = dl_err_set(reterr, -EINVAL, "%s: %s", src, archive_error_string(a));
		goto out;
	}
	for (;;) {
		la_ssize_t r;

		if (n == cap) {
			uint8_t *nb;

			if (cap >= max) {
				rc = dl_err_set(reterr, -E2BIG, "%s: more than %zu bytes unpacked", src, max);
				goto out;
			}
			cap = cap ? cap * 2 : 1 << 20;
			if (cap > max)
				cap = max;
			nb = realloc(buf, cap);
			if (!nb) {
				rc = dl_err_set(reterr, -ENOMEM, "out of memory");
				goto out;
			}
			buf = nb;
		}
		r = archive_read_data(a, buf + n, cap - n);
		if (r < 0) {
			rc = dl_err_set(reterr, -EINVAL, "%s: %s", src, archive_error_string(a));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*ret = buf;
	*ret_len = n;
	buf = NULL;
out:
	free(buf);
	archive_read_free(a);
	return rc;
}

int
hypervisor_xen_extract(const char *rootfs, const char *out_xen, const char *out_efi,
    struct hypervisor_info *ret, struct dl_err *reterr)
{
	_cleanup_free_ uint8_t *img = NULL;
	_cleanup_free_ char *status = NULL, *spath = NULL;
	struct hypervisor_info hi = {};
	char gz[4096], efi[4096];
	size_t len = 0, slen = 0;
	int rc;

	rc = find_one(rootfs, ".gz", gz, sizeof(gz), reterr);
	if (rc >= 0)
		rc = find_one(rootfs, ".efi", efi, sizeof(efi), reterr);
	if (rc >= 0)
		rc = gunzip_file(gz, MAX_HYPERVISOR_SIZE, &img, &len, reterr);
	if (rc < 0)
		return rc;
	rc = hypervisor_elf_build_id(img, len, hi.build_id, sizeof(hi.build_id), reterr);
	if (rc < 0)
		return dl_err_prefix(reterr, "%s (gunzipped)", gz);
	rc = fsutil_write_file(out_xen, img, len, 0644, reterr);
	if (rc >= 0)
		rc = fsutil_copy_file(efi, out_efi, reterr);
	if (rc < 0)
		return rc;
	{
		_cleanup_free_ char *pe = NULL;
		size_t pelen = 0;

		rc = read_file(out_efi, MAX_HYPERVISOR_SIZE, READ_FILE_REGULAR, &pe, &pelen, reterr);
		if (rc >= 0)
			rc = hypervisor_pe_build_id((const uint8_t *)pe, pelen, hi.efi_build_id,
			    sizeof(hi.efi_build_id), reterr);
		if (rc < 0)
			return dl_err_prefix(reterr, "%s", efi);
	}
	if (asprintf(&spath, "%s/var/lib/dpkg/status", rootfs) < 0)
		return dl_err_set(reterr, -ENOMEM, "out of memory");
	rc = read_file(spath, MAX_DPKG_STATUS, READ_FILE_REGULAR, &status, &slen, reterr);
	if (rc < 0)
		return rc;
	rc = hypervisor_dpkg_version(status, slen, "xen-hypervisor-", &hi, reterr);
	if (rc < 0)
		return dl_err_prefix(reterr, "%s", spath);
	*ret = hi;
	return 0;
}
