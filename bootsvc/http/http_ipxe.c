/* SPDX-License-Identifier: MIT */
/* GET /ipxe/start and /ipxe/boot?mac=..&uuid=..&serial=..: the node's iPXE script;
 * GET /ipxe/<cfg>.cfg?mac=..: the configuration a kind's UEFI loader reads (xen.cfg); and
 * GET /ipxe/failed?mac=..&what=sanboot&errno=..: a sanboot kind's script reporting that
 * its sanboot failed (iscsi.ipxe). */
#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include "http/http_internal.h"
#include "kind.h"
#include "log.h"
#include "template.h"
#include "wallclock.h"
#include "boot/boot_decide.h"
#include "boot/boot_records.h"
#include "boot/nodes.h"
#include "boot/script_vars.h"
#include "boot/templates.h"
#include "boot/trust.h"
#include "dhcp/dnsmasq.h"
#include "dhcp/start_script.h"
#include "iscsi/disks.h"
#include "iscsi/san_report.h"
#include "sync/sync.h"
#include "store/store_rows.h"

/* How old a PXE DHCP exchange may be and still be the evidence of the reboot whose script
 * request this is: iPXE asks for its script seconds after its DHCP, TCG firmware in tens. */
#define PXE_SEEN_WITHIN_MS (5 * 60 * 1000)

/* Text that lands in an iPXE script must not be able to start a new command or expand
 * a setting: keep a conservative set of characters. */
static const char *
script_safe(char *buf, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr(" .,:_-=/@+", c);
		buf[i] = ok ? c : '_';
	}
	buf[i] = '\0';
	return buf;
}

/* t expanded with lookup over userdata, as the answer; an error is logged under name. */
static enum MHD_Result
render(struct MHD_Connection *c, struct req *r, const char *name, const struct template *t,
    template_lookup_fn lookup, void *userdata)
{
	struct dl_err err = { 0 };
	char *out = NULL;
	size_t len = 0;
	int rc;

	rc = template_expand(t, lookup, userdata, &out, &len, &err);
	if (rc < 0) {
		log_err("event=template_render template=%s msg=\"%s\"", name, err.msg);
		return http_respond_error(c, r, 500, rc, "cannot render the boot script");
	}
	return http_respond_owned(c, r, 200, "text/plain", out, len);
}

/* One of the loaded templates with the variables in v. */
static enum MHD_Result
render_vars(struct MHD_Connection *c, struct req *r, const struct tmpl *t,
    struct script_vars *v)
{
	return render(c, r, t->name, t->compiled, script_vars_lookup, v);
}

/* Kind k's script for node booting img: kept rendered per image version but for the
 * node's name (templates_kind_bound), so a request copies it and the name in. The loop's
 * scripts are kept in bs->tmpl_bound, a reader thread's in its own (http_ipxe_read). */
static enum MHD_Result
render_kind(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, const struct kind *k,
    const struct image_rec *img, const char *node)
{
	const struct template *t = NULL;
	struct dl_err err = { 0 };
	int rc;

	rc = templates_kind_bound(&bs->tmpl, &bs->tmpl_bound, k, img, bs->cfg.boot_url,
	    bs->cfg.hold_poll_ms, &t, &err);
	if (rc < 0) {
		log_err("event=template_render template=%s msg=\"%s\"", k->tmpl, err.msg);
		return http_respond_error(c, r, 500, rc, "cannot render the boot script");
	}
	return render(c, r, k->tmpl, t, script_vars_node_lookup, (void *)node);
}

static enum MHD_Result
hold(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, struct script_vars *v,
    const char *reason)
{
	script_vars_add(v, "reason", reason);
	return render_vars(c, r, templates_fixed(&bs->tmpl, TMPL_HOLD), v);
}

/* What the script request tells trust_script_decide about n, but for reboot_evidence
 * (trust_evidence_needed). */
static struct trust_script_in
trust_in_of(const struct req *r, const struct node_rec *n)
{
	bool managed = n->bmc[0] && n->bmc_creds[0] && n->want_power[0];

	return (struct trust_script_in){
		.fixed_ip = n->ip[0] != '\0',
		.from_registered = n->ip[0] && strcmp(r->client, n->ip) == 0,
		.ctrl_booting = strcmp(n->op, "booting") == 0,
		.op_idle = managed && n->op[0] == '\0',
		.armed = n->armed,
		.phase = trust_phase_of(n->phase),
	};
}

/* Whether the decision needs the evidence of a reboot: only for an up (or failed) node,
 * and only when the DHCP server is ours (docs/security.md); otherwise it counts as given. */
static bool
trust_evidence_needed(const struct bootsvc *bs, const struct trust_script_in *in)
{
	return bs->cfg.dhcp_mode == DHCP_MODE_RANGE &&
	    (in->phase == TP_UP || in->phase == TP_FAILED);
}

/* What the script request may do to n (boot/trust.h), in *ret; carries out the arming
 * and the self-boot op. false when the answer is the hold script (ret->why). */
static bool
trust_boot(struct bootsvc *bs, const struct req *r, struct node_rec *n,
    struct trust_script_verdict *ret)
{
	struct trust_script_in in = trust_in_of(r, n);
	int64_t seen;

	/* A reboot of an up (or failed) node shows as a PXE DHCP exchange after its phase
	 * began: one from before is its last boot's (a user on the node asks after), and one
	 * too old to be this boot's iPXE is no evidence either. */
	if (!trust_evidence_needed(bs, &in)) {
		in.reboot_evidence = true;
	} else {
		seen = dnsmasq_pxe_seen_at(bs->cfg.state_dir, n->mac);
		in.reboot_evidence = seen >= (n->phase_at + 1) * 1000 &&
		    wall_ms() / 1000 * 1000 - seen <= PXE_SEEN_WITHIN_MS;
	}
	const struct trust_script_verdict v = trust_script_decide(&in);

	*ret = v;
	if (v.event)
		http_observe(bs, r, n, v.serve == TS_BOOT ? "self-boot" : "script-observed", v.why);
	if (v.serve != TS_BOOT)
		return false;
	if (v.arm && nodes_arm(bs, n, in.ctrl_booting ? "controller" : "self", v.why) < 0)
		return false;
	if (v.self_op) {
		/* The op starts before the phase it watches: the FSM takes a phase older than
		 * its op for the previous boot's (ctrl_fsm.c, both compared in seconds). */
		strcpy(n->op, "self-boot");
		n->op_at_ms = wall_ms() / 1000 * 1000;
		n->attempts = 1;
		(void)store_node_update_ctrl(bs->store, n);
	}
	return true;
}

/* Remember the version served n: its receipt, or its clone's, is checked against it. A
 * script the store could not record (a PostgreSQL store reconnecting, issue 15) is not
 * served: its boot would be judged against the version before and failed, a second boot
 * for nothing; answered SERVED_UNRECORDED (503), iPXE asks again. 0 or the store's error. */
#define SERVED_UNRECORDED "cannot record the version served, try again"
static int
served_record(struct bootsvc *bs, struct node_rec *n, const char *id)
{
	bs->metrics.boot_scripts++; /* every image script served: a boot (re)started */
	if (strcmp(n->served_image, id) == 0)
		return 0;
	strcpy(n->served_image, id);
	return store_node_update(bs->store, n);
}

/* One reader's record, against the node's row now: the version served if it is not that
 * already, the phase if the node is not in it already (iPXE asking twice queues two). */
static void
record_write(struct bootsvc *bs, const struct boot_record *rec)
{
	struct node_rec n;
	int rc = store_node_get(bs->store, rec->node, &n);

	if (rc < 0) {
		/* removed since: nothing to record */
		log_info("event=boot_record node=%s msg=\"not written: %s\"", rec->node,
		    dl_errno_name(rc));
		return;
	}
	if (rec->served[0] && strcmp(n.served_image, rec->served) != 0) {
		memcpy(n.served_image, rec->served, sizeof(n.served_image));
		if ((rc = store_node_update(bs->store, &n)) < 0)
			log_err("event=boot_record node=%s served=%.12s msg=\"the version served "
			    "is not recorded: %s\"", n.name, rec->served, dl_errno_name(rc));
	}
	if (rec->phase && strcmp(n.phase, rec->phase) != 0)
		(void)nodes_set_phase_at(bs, n.name, rec->phase, "", rec->at);
}

/* Up to RECORDS_TURN records taken and written: how many. */
static size_t
records_write_some(struct bootsvc *bs, struct boot_records *q)
{
	struct boot_record recs[RECORDS_TURN];
	size_t n = boot_records_take(q, recs, ELEMENTSOF(recs));

	for (size_t i = 0; i < n; i++)
		record_write(bs, &recs[i]);
	return n;
}

void
http_records_write(struct bootsvc *bs)
{
	struct boot_records *q = http_records(bs);

	if (!q || !boot_records_queued(q))
		return;
	while (records_write_some(bs, q) > 0)
		;
}

void
http_records_write_turn(struct bootsvc *bs)
{
	struct boot_records *q = http_records(bs);

	if (q && boot_records_queued(q))
		(void)records_write_some(bs, q);
}

bool
http_records_before(struct bootsvc *bs, const char *node)
{
	struct boot_records *q = http_records(bs);

	if (!q || !boot_records_pending(q, node))
		return false;
	http_records_write(bs);
	return true;
}

/* A boot's record queued for the loop (boot/boot_records.h): the version served if n was
 * not served it, the phase if the boot moves it, dated now. true when queued or there is
 * nothing to record; false when the queue is full. */
static bool
record_push(struct boot_records *q, const struct node_rec *n, const char *served,
    const char *phase)
{
	struct boot_record rec = { .phase = phase, .at = (int64_t)time(NULL) };

	memcpy(rec.node, n->name, sizeof(rec.node));
	if (strcmp(n->served_image, served) != 0)
		memcpy(rec.served, served, sizeof(rec.served));
	else if (!phase)
		return true;
	return boot_records_push(q, &rec);
}

/* The loop's own first script of a boot, as a reader's (http_ipxe_read): its record
 * queued, written after the answers of this pass (the records' wake-up) or before a
 * request that decides on the node. false when there is no queue, the boot writes what
 * its answer depends on, or the queue is full: the caller writes the record now. */
static bool
record_later(struct bootsvc *bs, const struct trust_script_verdict *v,
    const struct node_rec *n, const char *served, const char *phase)
{
	struct boot_records *q = http_records(bs);

	return q && boot_record_only(v, false) && record_push(q, n, served, phase);
}

/* A sanboot kind's script (iscsi.ipxe): the node's own disk, its target and CHAP. The
 * secrets go only into the node's armed boot, as a linux node's credential does
 * (boot/trust.h): rendering them disarms the node, and a second request in the same boot
 * gets the hold script, evented. A disk not ready yet is the hold script too, whose poll
 * brings the node back. */
static enum MHD_Result
san_boot(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, struct node_rec *n,
    const struct kind *k, const struct image_rec *img, struct script_vars *v,
    const struct trust_script_verdict *verdict)
{
	char target[MAX_ISCSI_NAME], initiator[MAX_ISCSI_NAME], reason[MAX_REASON];
	const char *phase = kind_script_phase(k), *why = "";
	bool mutual = bs->cfg.iscsi_mutual_chap;
	struct disk_rec dr;
	enum disk_do act;
	enum MHD_Result ret;

	act = disks_for_boot(bs->disks, n, img, &dr, &why);
	/* A boot it is, disk or not: the phase moves, so the controller's timeouts count
	 * from the first request; a node that cannot have a disk at all stays where it is. */
	if (act != DD_REFUSE && boot_moves_phase(verdict, phase, n->phase))
		(void)nodes_set_phase(bs, n->name, phase, "");
	if (act != DD_KEEP) {
		if (act == DD_REFUSE || act == DD_FAILED)
			http_observe(bs, r, n, "disk-refused", why);
		return hold(bs, c, r, v, script_safe(reason, sizeof(reason), why));
	}
	if (!n->armed) {
		explicit_bzero(&dr, sizeof(dr));
		http_observe(bs, r, n, "disk-cred-refused",
		    "disk credentials asked for again in a boot that was handed them");
		return hold(bs, c, r, v, "this boot was handed its disk credentials already: "
		    "nodectl node arm NODE");
	}
	if (tgt_target_name(bs->cfg.iscsi_iqn, n->name, target, sizeof(target)) < 0 ||
	    tgt_initiator_name(bs->cfg.iscsi_iqn, n->name, initiator, sizeof(initiator)) < 0) {
		explicit_bzero(&dr, sizeof(dr));
		return hold(bs, c, r, v, "the node's iSCSI names are too long (iscsi_iqn)");
	}
	script_vars_san(v, target, initiator, bs->cfg.iscsi_portal, bs->cfg.iscsi_port,
	    dr.chap_user, dr.chap_secret, mutual ? dr.mutual_user : "",
	    mutual ? dr.mutual_secret : "");
	if (served_record(bs, n, img->id) < 0) {
		explicit_bzero(&dr, sizeof(dr));
		return http_respond_error(c, r, 503, -EIO, SERVED_UNRECORDED);
	}
	/* Disarm before answering: if the store cannot record it, nothing is handed out. */
	if (nodes_disarm(bs, n) < 0) {
		explicit_bzero(&dr, sizeof(dr));
		return http_respond_error(c, r, 500, -EIO, "cannot record the hand-out");
	}
	log_notice("event=disk_cred node=%s tid=%u msg=\"disk credentials handed out\"",
	    n->name, dr.tid);
	ret = render_vars(c, r, templates_kind(&bs->tmpl, k), v);
	explicit_bzero(&dr, sizeof(dr));
	return ret;
}

/* The node a request names by its MAC, which may ask only from its own (fixed) address.
 * True with *n; false once the answer is queued in *ret: 404 for an unknown node, 500,
 * or 403 with the refusal evented as event and why (http_observe's rate). */
static bool
node_at_own_address(struct bootsvc *bs, struct MHD_Connection *c, struct req *r,
    const char *mac, const char *event, const char *why, const char *msg,
    struct node_rec *n, enum MHD_Result *ret)
{
	int rc = store_node_get_by_mac(bs->store, mac, n);

	if (rc < 0) {
		*ret = http_respond_lookup_error(c, r, rc, "node");
		return false;
	}
	strcpy(r->node, n->name);
	if (!trust_source_ok(n->ip[0] != '\0', strcmp(r->client, n->ip) == 0)) {
		http_observe(bs, r, n, event, why);
		*ret = http_respond_error(c, r, 403, -EPERM, msg);
		return false;
	}
	return true;
}

/* GET /ipxe/failed?mac=..&what=sanboot&errno=..: the node's sanboot failed three times.
 * From the node's own address only, for a node just served a sanboot kind; a node that
 * is failed already is not written again (iPXE asks again each poll), and refusals are
 * evented under http_observe's rate. */
static enum MHD_Result
san_failed(struct bootsvc *bs, struct MHD_Connection *c, struct req *r)
{
	struct dl_err err = { 0 };
	char reason[MAX_REASON];
	struct boot_query q;
	struct image_rec img;
	struct node_rec n;
	const struct kind *k;
	enum MHD_Result ret;
	uint32_t e;
	int rc;

	rc = boot_query_parse(http_arg(c, r, "mac"),
	    NULL, NULL, &q, &err);
	if (rc < 0)
		return http_respond_error(c, r, 400, rc, err.msg);
	rc = san_report_parse(http_arg(c, r, "what"),
	    http_arg(c, r, "errno"), &e, &err);
	if (rc < 0)
		return http_respond_error(c, r, 400, rc, err.msg);
	if (!node_at_own_address(bs, c, r, q.mac_str, "report-refused",
	    "sanboot failure reported from an address other than the node's",
	    "this node's reports are taken from its own address only", &n, &ret))
		return ret;
	k = n.served_image[0] && store_image_get(bs->store, n.served_image, &img) == 0 ?
	    kind_find(img.kind) : NULL;
	if (!k || !kind_is_sanboot(k)) {
		http_observe(bs, r, &n, "report-refused",
		    "sanboot failure reported by a node not served a sanboot image");
		return http_respond_error(c, r, 409, -ENOENT,
		    "this node was not served an image that sanboots");
	}
	if (strcmp(n.phase, "failed") != 0) {
		(void)san_report_reason(e, reason, sizeof(reason));
		(void)nodes_set_phase(bs, n.name, "failed", reason);
	}
	return http_respond(c, r, 200, "text/plain", "recorded\n", 9);
}

/* What boot_gate_decide() needs to know of n, looked up in w; *img and *k when n has a
 * version of a known kind. Every lookup is made, whichever step ends the request: they
 * are cached rows and sync_have's cached answer, and one pure decision then orders them
 * for the loop and the reader threads alike (boot/boot_decide.h). */
static struct boot_gate_in
gate_in(struct bootsvc *bs, const struct rows *w, const struct req *r,
    const struct node_rec *n, struct image_rec *img, const struct kind **k)
{
	struct boot_gate_in g = {
		.source_ok = trust_source_ok(n->ip[0] != '\0', strcmp(r->client, n->ip) == 0),
		.discovered_unassigned = strcmp(n->phase, "discovered") == 0 && !n->image[0],
		.hold = n->hold,
		.have_version = rows_boot_image(w, n, img) == 0,
	};

	*k = g.have_version ? kind_find(img->kind) : NULL;
	g.kind_known = *k != NULL;
	g.files_here = *k && sync_have(bs->sync, img);
	return g;
}

static enum MHD_Result
boot_node(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, struct node_rec *n)
{
	const struct rows w = { .s = bs->store };
	char reason[MAX_REASON + 64], safe[MAX_REASON], kind_safe[MAX_KIND_NAME];
	struct trust_script_verdict verdict;
	struct script_vars v = { 0 };
	const struct kind *k;
	struct boot_gate_in g;
	struct image_rec img;
	const char *phase;

	script_vars_node(&v, bs->cfg.boot_url, n->name, bs->cfg.hold_poll_ms);
	strcpy(r->node, n->name);
	g = gate_in(bs, &w, r, n, &img, &k);
	switch (boot_gate_decide(&g)) {
	case BG_REFUSE:
		http_observe(bs, r, n, "script-refused",
		    "script asked for from an address other than the node's");
		return http_respond_error(c, r, 403, -EPERM,
		    "this node's script is served to its own address only");
	case BG_DISCOVER:
		return render_vars(c, r, templates_fixed(&bs->tmpl, TMPL_DISCOVER), &v);
	case BG_HOLD_ADMIN:
		(void)snprintf(reason, sizeof(reason), "admin hold: %s",
		    script_safe(safe, sizeof(safe), n->hold_reason));
		return hold(bs, c, r, &v, reason);
	case BG_HOLD_NO_VERSION:
		if (n->image[0])
			(void)snprintf(reason, sizeof(reason), "image %s has no version",
			    script_safe(safe, sizeof(safe), n->image));
		else
			strcpy(reason, "no image assigned");
		return hold(bs, c, r, &v, reason);
	case BG_HOLD_UNKNOWN_KIND:
		/* Registration refuses a kind this bootsvc does not know, so only a store
		 * written by a newer one gets here: the node waits rather than boot something
		 * half-known. */
		log_err("event=boot_script node=%s image=%s msg=\"unknown image kind '%s'\"",
		    n->name, img.id, log_safe(safe, sizeof(safe), img.kind));
		(void)snprintf(reason, sizeof(reason), "image %s has unknown kind %s",
		    script_safe(safe, sizeof(safe), img.name),
		    script_safe(kind_safe, sizeof(kind_safe), img.kind));
		return hold(bs, c, r, &v, reason);
	case BG_HOLD_NOT_HERE:
		/* Registered (another server added it to the shared store) but its files are
		 * not here yet: they are fetched from a peer (sync/sync.h) while the node waits
		 * on the hold script, which polls again; a script whose files 404 would send it
		 * to its firmware's "no bootable device" instead. */
		sync_on_demand(bs->sync, &img, n->name);
		(void)snprintf(reason, sizeof(reason), bs->cfg.n_peers ?
		    "image %s is being fetched from a peer" :
		    "image %s is not on this server, and it has no peers to fetch it from",
		    script_safe(safe, sizeof(safe), img.name));
		return hold(bs, c, r, &v, reason);
	case BG_TRUST:
		break;
	}
	if (!trust_boot(bs, r, n, &verdict))
		return hold(bs, c, r, &v, verdict.why);
	if (kind_is_sanboot(k)) {
		script_vars_image(&v, k, &img);
		return san_boot(bs, c, r, n, k, &img, &v, &verdict);
	}

	/* Only a change is written (boot_moves_phase): the request path of iPXE retrying does
	 * no store write (docs/benchmarks.md, per-node scripts). */
	phase = kind_script_phase(k);
	if (!boot_moves_phase(&verdict, phase, n->phase))
		phase = NULL;
	if (record_later(bs, &verdict, n, img.id, phase)) {
		bs->metrics.boot_scripts++;
		return render_kind(bs, c, r, k, &img, n->name);
	}
	if (served_record(bs, n, img.id) < 0)
		return http_respond_error(c, r, 503, -EIO, SERVED_UNRECORDED);
	if (phase)
		(void)nodes_set_phase(bs, n->name, phase, "");
	return render_kind(bs, c, r, k, &img, n->name);
}

/* The kind whose UEFI loader configuration url names ("/ipxe/xen.cfg"); NULL for none.
 * Compared in place: formatting each kind's path was a fiftieth of every script answer. */
static const struct kind *
cfg_kind(const char *url)
{
	size_t n = strlen(url);

	if (n <= 10 || strcmp(url + n - 4, ".cfg") != 0 || strncmp(url, "/ipxe/", 6) != 0)
		return NULL;
	for (size_t i = 0; i < kind_count(); i++) {
		const struct kind *k = kind_at(i);

		if (k->efi_cfg && strlen(k->efi_cfg) == n - 10 &&
		    strncmp(url + 6, k->efi_cfg, n - 10) == 0)
			return k;
	}
	return NULL;
}

/* An IPv4 address in dotted form, as iPXE writes ${ip}; "" allowed where optional (a
 * network without a gateway). */
static bool
ipv4_ok(const char *s, bool optional)
{
	struct in_addr a;

	if (!s || !*s)
		return optional && s;
	return strlen(s) < INET_ADDRSTRLEN && inet_pton(AF_INET, s, &a) == 1;
}

/* xen.efi reads its configuration as a file iPXE fetched by name, so iPXE cannot expand
 * ${ip} and the others in it as it does on the BIOS path's command lines: the script
 * passes them in the query, checked here, and the file is rendered from the same
 * variables as the script. Nothing changes: the script request moved the node and
 * armed it; this serves the version that request recorded, to the node's own address
 * only, and carries no secret. */
static enum MHD_Result
efi_cfg(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, const struct kind *want)
{
	const char *ip = http_arg(c, r, "ip");
	const char *mask = http_arg(c, r, "netmask");
	const char *gw = http_arg(c, r, "gateway");
	struct dl_err err = { 0 };
	struct script_vars v = { 0 };
	struct boot_query q;
	struct image_rec img;
	struct node_rec n;
	enum MHD_Result ret;
	int rc;

	rc = boot_query_parse(http_arg(c, r, "mac"),
	    NULL, NULL, &q, &err);
	if (rc < 0)
		return http_respond_error(c, r, 400, rc, err.msg);
	if (!ipv4_ok(ip, false) || !ipv4_ok(mask, false) || !ipv4_ok(gw ? gw : "", true))
		return http_respond_error(c, r, 400, -EINVAL,
		    "ip and netmask must be IPv4 addresses, gateway one or empty");
	if (!node_at_own_address(bs, c, r, q.mac_str, "script-refused",
	    "loader configuration asked for from an address other than the node's",
	    "this node's files are served to its own address only", &n, &ret))
		return ret;
	if (!n.served_image[0] || store_image_get(bs->store, n.served_image, &img) < 0 ||
	    kind_find(img.kind) != want)
		return http_respond_error(c, r, 409, -ENOENT,
		    "this node was not just served an image that reads this file");
	script_vars_node(&v, bs->cfg.boot_url, n.name, bs->cfg.hold_poll_ms);
	script_vars_image(&v, want, &img);
	script_vars_cfg(&v, q.mac_str, ip, mask, gw ? gw : "");
	return render_vars(c, r, templates_kind_cfg(&bs->tmpl, want), &v);
}

/* The start script as dnsmasq's TFTP serves it (dhcp/start_script.h), for an iPXE that
 * was pointed at our HTTP (another DHCP server, a menu of the site's own). */
static enum MHD_Result
start(struct bootsvc *bs, struct MHD_Connection *c, struct req *r)
{
	const struct tmpl *t = templates_fixed(&bs->tmpl, TMPL_START);
	struct dl_err err = { 0 };
	char *out = NULL;
	size_t len = 0;
	enum MHD_Result ret;
	int rc;

	/* Nothing to chain to (dhcp_mode = off without boot_url): no script, and no error
	 * line per request either, which anyone could make us write. */
	if (!bs->cfg.boot_url[0] && bs->cfg.n_peers == 0)
		return http_respond_error(c, r, 404, -ENOENT,
		    "no start script: boot_url and peers are not configured");
	rc = start_script_render(t->text, t->len, &bs->cfg, &out, &len, &err);
	if (rc < 0) {
		log_err("event=template_render template=%s msg=\"%s\"", t->name, err.msg);
		return http_respond_error(c, r, 500, rc, "cannot render the boot script");
	}
	ret = http_respond(c, r, 200, "text/plain", out, len);
	free(out);
	return ret;
}

/* The answer boot_node() gives a node booting the same image again (iPXE retrying, a
 * boot storm's every node but its first request), from a reader thread's view: the same
 * lookups (struct rows) and the same decisions (boot/boot_decide.h), answered here only
 * when boot_read_only() says the answer writes nothing, events nothing and needs neither
 * the clock nor DHCP's evidence. Everything else is false, for the loop to answer, so
 * every write stays the loop's and this path gives the answer the loop would have given
 * from the same committed rows. */
bool
http_ipxe_read(struct bootsvc *bs, struct http_view *v, struct MHD_Connection *c,
    struct req *r, const char *url, enum MHD_Result *ret)
{
	const struct rows w = { .rd = v->rd };
	const struct template *t = NULL;
	struct trust_script_verdict verdict;
	struct trust_script_in in;
	struct dl_err err = { 0 };
	const struct kind *k;
	struct boot_gate_in g;
	struct boot_query q;
	struct image_rec img;
	struct node_rec n;
	bool sanboot, served_same, moves, read_only;
	uint64_t e0;
	int rc;

	if (strcmp(url, "/ipxe/boot") != 0 ||
	    boot_query_parse(http_arg(c, r, "mac"),
	    http_arg(c, r, "uuid"),
	    http_arg(c, r, "serial"), &q, &err) < 0)
		return false;
	e0 = http_view_fresh(v);
	if (rows_node_by_mac(&w, q.mac_str, &n) < 0)
		return false;
	g = gate_in(bs, &w, r, &n, &img, &k);
	if (boot_gate_decide(&g) != BG_TRUST)
		return false;
	in = trust_in_of(r, &n);
	if (trust_evidence_needed(bs, &in))
		return false;
	in.reboot_evidence = true;
	verdict = trust_script_decide(&in);
	sanboot = kind_is_sanboot(k);
	served_same = strcmp(n.served_image, img.id) == 0;
	moves = boot_moves_phase(&verdict, kind_script_phase(k), n.phase);
	/* a record of the node's not committed, or committed while this decided: the rows
	 * read may be older than the loop's */
	if (!http_view_stands(v, n.name, e0))
		return false;
	read_only = boot_read_only(&verdict, sanboot, served_same, moves);
	if (!read_only && (!v->records || !boot_record_only(&verdict, sanboot)))
		return false;
	/* The kind's script bound from the templates and settings a reload changes
	 * (main.c), read under its lock; the result is this thread's own copy. Bound
	 * before a record is queued: a script the loop must render after all (it logs why
	 * it cannot) leaves no record behind for the loop's answer to queue again. */
	pthread_mutex_lock(&bs->reload_lock);
	rc = templates_kind_bound(&bs->tmpl, &v->bound, k, &img, bs->cfg.boot_url,
	    bs->cfg.hold_poll_ms, &t, &err);
	pthread_mutex_unlock(&bs->reload_lock);
	if (rc < 0)
		return false;
	/* A boot's first request: answered here, its record queued for the loop before the
	 * answer goes, so the node's next request finds it pending. A full queue: the loop
	 * answers, as before. */
	if (!read_only &&
	    !record_push(v->records, &n, img.id, moves ? kind_script_phase(k) : NULL))
		return false;
	strcpy(r->node, n.name);
	metric_add(&v->m.boot_scripts, 1);
	*ret = render(c, r, k->tmpl, t, script_vars_node_lookup, n.name);
	return true;
}

enum MHD_Result
http_ipxe(struct bootsvc *bs, struct MHD_Connection *c, struct req *r, const char *url)
{
	const struct kind *ck;
	struct dl_err err = { 0 };
	struct boot_query q;
	struct node_rec n;
	int rc;

	if (strcmp(url, "/ipxe/boot") != 0) {
		/* decided on the served version and phase: after every boot's record */
		http_records_write(bs);
		if (strcmp(url, "/ipxe/start") == 0)
			return start(bs, c, r);
		if ((ck = cfg_kind(url)))
			return efi_cfg(bs, c, r, ck);
		if (strcmp(url, "/ipxe/failed") == 0)
			return san_failed(bs, c, r);
		return http_respond_error(c, r, 404, -ENOENT, "no such script");
	}

	rc = boot_query_parse(http_arg(c, r, "mac"),
	    http_arg(c, r, "uuid"),
	    http_arg(c, r, "serial"), &q, &err);
	if (rc < 0)
		return http_respond_error(c, r, 400, rc, err.msg);

	rc = store_node_get_by_mac(bs->store, q.mac_str, &n);
	if (rc == 0 && http_records_before(bs, n.name))
		rc = store_node_get_by_mac(bs->store, q.mac_str, &n);
	if (rc == -ENOENT) {
		if (!bs->cfg.discover)
			return http_respond_error(c, r, 404, -ENOENT, "unknown node");
		rc = nodes_discover(bs, &q, r->client, &n);
		if (rc == -EAGAIN || rc == -ENOSPC)
			return http_respond_error(c, r, 503, rc, "discovery refused");
	}
	if (rc < 0)
		return http_respond_lookup_error(c, r, rc, "node");
	return boot_node(bs, c, r, &n);
}
