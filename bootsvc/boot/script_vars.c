/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "boot/script_vars.h"

/* v in decimal into buf (24 bytes hold any): snprintf's "%" PRIu64 without its cost on the
 * script path. */
static void
u64_dec(char buf[static 24], uint64_t v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
}

/* a then b into buf of size (cut to fit). */
static void
join(char *buf, size_t size, const char *a, const char *b)
{
	size_t la = strnlen(a, size - 1), lb = strnlen(b, size - 1 - la);

	memcpy(buf, a, la);
	memcpy(buf + la, b, lb);
	buf[la + lb] = '\0';
}

void
script_vars_add(struct script_vars *v, const char *name, const char *value)
{
	if (v->n < MAX_SCRIPT_VARS) {
		v->names[v->n] = name;
		v->values[v->n] = value;
		v->n++;
	}
}

const char *
script_vars_lookup(const char *name, void *userdata)
{
	const struct script_vars *v = userdata;

	/* The first byte tells most names apart without a call: a script has a dozen
	 * placeholders, each looked up among about twenty names. */
	for (size_t i = 0; i < v->n; i++)
		if (v->names[i][0] == name[0] && strcmp(v->names[i], name) == 0)
			return v->values[i];
	return NULL;
}

const char *
script_vars_node_lookup(const char *name, void *userdata)
{
	return strcmp(name, "node") == 0 ? userdata : NULL;
}

void
script_vars_node(struct script_vars *v, const char *server, const char *node, uint64_t poll_ms)
{
	u64_dec(v->poll, poll_ms / 1000);
	script_vars_add(v, "server", server);
	script_vars_add(v, "node", node);
	script_vars_add(v, "poll", v->poll);
}

void
script_vars_image(struct script_vars *v, const struct kind *k, const struct image_rec *img)
{
	size_t short_len = strnlen(img->id, sizeof(v->image_short) - 1);

	/* the id's first 12 hex digits, as people read it in logs and `nodectl image list` */
	memcpy(v->image_short, img->id, short_len);
	v->image_short[short_len] = '\0';
	script_vars_add(v, "image_id", img->id);
	script_vars_add(v, "image_name", img->name);
	script_vars_add(v, "image_short", v->image_short);
	script_vars_add(v, "cmdline", img->cmdline);
	/* The hypervisor's own command line (xen.ipxe); "" for a kind without one. */
	script_vars_add(v, "hypervisor_cmdline", img->hypervisor_cmdline);
	for (size_t i = 0; i < kind_n_roles(k); i++) {
		const char *role = k->roles[i].name;
		const struct image_file *f = image_rec_file(img, role);

		join(v->role_var[i][0], sizeof(v->role_var[i][0]), role, "_sha256");
		join(v->role_var[i][1], sizeof(v->role_var[i][1]), role, "_size");
		u64_dec(v->role_size[i], f ? f->size : 0);
		script_vars_add(v, v->role_var[i][0], image_rec_sha256(img, role));
		script_vars_add(v, v->role_var[i][1], v->role_size[i]);
	}
}

void
script_vars_san(struct script_vars *v, const char *target_iqn, const char *initiator_iqn,
    const char *portal, uint16_t port, const char *chap_user, const char *chap_secret,
    const char *mutual_user, const char *mutual_secret)
{
	(void)snprintf(v->port, sizeof(v->port), "%u", (unsigned)port);
	script_vars_add(v, "target_iqn", target_iqn);
	script_vars_add(v, "initiator_iqn", initiator_iqn);
	script_vars_add(v, "portal", portal);
	script_vars_add(v, "port", v->port);
	script_vars_add(v, "chap_user", chap_user);
	script_vars_add(v, "chap_secret", chap_secret);
	script_vars_add(v, "mutual_user", mutual_user);
	script_vars_add(v, "mutual_secret", mutual_secret);
}

void
script_vars_cfg(struct script_vars *v, const char *mac, const char *ip, const char *netmask,
    const char *gateway)
{
	script_vars_add(v, "mac", mac);
	script_vars_add(v, "ip", ip);
	script_vars_add(v, "netmask", netmask);
	script_vars_add(v, "gateway", gateway);
}
