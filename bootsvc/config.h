/* SPDX-License-Identifier: MIT */
/* bootsvc's configuration: defaults, the key=value file, and --key=value overrides.
 * Every key is documented in docs/bootsvc.conf.md. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define MAX_CONF_PATH 256
/* Service nodes besides this one (config `peers`): a start script tries each in turn
 * while a node waits, so a long list is a long wait; xCAT's and MAAS's sites run a few
 * per rack row, not dozens per segment. */
#define MAX_PEERS 8
/* Job classes and health rules an admin names in the config; small fixed tables. */
#define MAX_CLASSES 16
#define MAX_CONF_HEALTH_RULES 32
#define MAX_RULE_TEXT 160
/* Green policy (issue #7): warm spares per image and floors per group, small tables an
 * admin writes by hand; 32 floors match green.h's bit mask. */
#define MAX_CONF_WARM 32
#define MAX_CONF_FLOORS 32
#define MAX_FLOOR_HOSTS 256

struct warm_spare {
	char image[64];
	unsigned count;
};

/* min_on = GROUP:HOSTLIST=N */
struct min_on_floor {
	char group[32];
	char hosts[MAX_FLOOR_HOSTS]; /* a hostlist: n[01-08] */
	unsigned count;
};

struct job_class {
	char name[32];
	bool allow_risky; /* may this class use risky nodes (doomed never) */
};

/* What happens to a node whose health turns risky or doomed. */
enum health_action_bits {
	HA_DRAIN = 1 << 0,    /* no new allocations */
	HA_POWEROFF = 1 << 1, /* desired power off (and out of its allocation) */
	HA_NOTIFY = 1 << 2,   /* run notify_hook NODE HEALTH REASONS */
	HA_EVACUATE = 1 << 3, /* VM hosts: drain, and move their VMs off (vm/vm_policy.h) */
};

enum dhcp_mode {
	DHCP_MODE_OFF,   /* no dnsmasq at all (another server does everything) */
	DHCP_MODE_RANGE, /* we are the DHCP server for dhcp_range */
	DHCP_MODE_PROXY, /* another DHCP server gives addresses; we answer PXE only */
};

/* How a node's disk is cloned from the golden one (docs/iscsi.md "Clones"). */
enum disk_clone {
	DISK_CLONE_AUTO,    /* reflink where disk_dir's file system has it, else qcow2
	                     * where qemu-storage-daemon is, else copy */
	DISK_CLONE_REFLINK, /* FICLONE (XFS, btrfs): O(1), no daemon */
	DISK_CLONE_QCOW2,   /* a qcow2 overlay exported by qemu-storage-daemon (FUSE) */
	DISK_CLONE_COPY,    /* a sparse copy: linear in the disk's data */
	_DISK_CLONE_MAX,
	_DISK_CLONE_INVALID = -EINVAL,
};
const char *disk_clone_to_string(enum disk_clone m);
enum disk_clone disk_clone_from_string(const char *s);

/* "iqn.2026-12.local.diskless": an iSCSI qualified name without the ":<node>" that
 * names each target (RFC 3720: 223 bytes in all; a node name is at most 63). */
#define MAX_ISCSI_IQN_PREFIX 128

/* The store target: a path, sqlite:PATH or a postgresql:// URL (libpq's, which may carry
 * a password and options); MAX_PG_URL in store_pg.h is the same bound. */
#define MAX_CONF_STORE 1024

/* http_threads' bound: the loop and up to seven reader threads. */
#define HTTP_MAX_THREADS 8
/* http_sndbuf's bounds, besides 0: a buffer below a few segments stalls a transfer, one
 * past 64 MiB bounds nothing. */
#define HTTP_SNDBUF_MIN (16 * 1024)
#define HTTP_SNDBUF_MAX (64 * 1024 * 1024)
/* http_threads = auto, the default: the CPUs this process may run on, 1..HTTP_MAX_THREADS. */
unsigned config_http_threads_auto(void);

struct config {
	char state_dir[MAX_CONF_PATH];
	/* "" = <state_dir>/diskless.db (SQLite); else store_open()'s target (issue 15). */
	char store[MAX_CONF_STORE];
	char template_dir[MAX_CONF_PATH];
	char control_socket[MAX_CONF_PATH];
	char control_group[64];
	/* Remote control over mutual TLS (control/control_tls.c): off while addr is "". */
	char control_tcp_addr[16];
	uint16_t control_tcp_port;
	char control_tls_cert[MAX_CONF_PATH];
	char control_tls_key[MAX_CONF_PATH];
	char control_tls_ca[MAX_CONF_PATH];
	/* The admin listener (web/, docs/web.md): off while admin_addr is "". admin_ca ""
	 * means control_tls_ca. */
	char admin_addr[16];
	uint16_t admin_port;
	char admin_cert[MAX_CONF_PATH];
	char admin_key[MAX_CONF_PATH];
	char admin_ca[MAX_CONF_PATH];
	char admin_passwords[MAX_CONF_PATH];
	char web_dir[MAX_CONF_PATH];
	char user[64];        /* started as root: the network-facing process runs as this */
	char bmc_creds_dir[MAX_CONF_PATH]; /* the only BMC credential files root reads for it */
	/* VM hosts' TLS (docs/security.md "Hypervisor TLS"): the CA 'nodectl tls init' made
	 * (ca.crt, ca.key: the only files root reads there for the child), and where bootsvc
	 * writes its own libvirt client certificate (cacert.pem, clientcert.pem,
	 * clientkey.pem: libvirt's ?pkipath=). libvirt_pki_dir is never "" once
	 * config_resolve() ran: its default is <state_dir>/libvirt-pki. */
	char tls_ca_dir[MAX_CONF_PATH];
	char libvirt_pki_dir[MAX_CONF_PATH];
	char http_addr[16];   /* IPv4 listen address */
	uint16_t http_port;
	char boot_url[128];   /* how nodes reach us: http://10.77.0.1:8080 */
	/* The other service nodes (issue 15, docs/scale-out.md): their boot_urls, the order
	 * a node's start script walks after ours, and where a missing image version is
	 * fetched from. Each is an http:// URL as boot_url is. */
	char peers[MAX_PEERS][128];
	unsigned n_peers;
	/* Several bootsvc (issue 15, docs/scale-out.md "The leader"): the PostgreSQL database
	 * they coordinate through ("" = alone, always the leader), this instance's name in
	 * its `servers` table (default: the hostname) and the leader's lease. */
	char server_name[64];
	uint64_t leader_lease_ms;
	char interface[16];   /* the only interface dnsmasq serves */
	enum dhcp_mode dhcp_mode;
	char dhcp_range_start[16], dhcp_range_end[16];
	char proxy_subnet[16];
	uint64_t dhcp_lease_s;
	char node_ip_start[16], node_ip_end[16]; /* fixed addresses handed to known nodes */
	bool ipv6_ra;
	char dnsmasq[MAX_CONF_PATH];
	char ipxe_dir[MAX_CONF_PATH];
	char uefi_binary[32];
	bool discover;
	unsigned discover_max;        /* nodes in phase discovered before discovery stops */
	unsigned discover_rate;       /* discoveries a minute per source address */
	uint64_t hold_poll_ms;
	unsigned max_connections;
	unsigned http_max_per_ip;         /* HTTP connections from one address at once */
	unsigned http_threads;            /* serving threads: the loop and readers (http.h) */
	uint64_t http_sndbuf;             /* SO_SNDBUF of each HTTP connection, 0 = the kernel's */
	uint64_t http_request_timeout_ms; /* a request's head and body must arrive within */
	uint64_t control_idle_timeout_ms; /* a control client silent this long is closed */
	int log_level;
	/* The controller (issue #4). */
	uint64_t bmc_timeout_ms;      /* an unreachable BMC fails after this */
	char bmc_protocol[8];         /* bare BMC addresses: "ipmi" (default), "redfish", "auto" */
	char redfish_ca_file[MAX_CONF_PATH]; /* Redfish BMCs' CA ("" = the system's) */
	bool redfish_tofu;            /* no pin and no CA vouches: trust the first key seen, pin it */
	double power_on_rate;         /* power-ons (and cycles) per second, 0 = unlimited */
	unsigned ipmi_concurrency;    /* BMC operations in flight at once */
	unsigned ipmi_workers;        /* worker threads for BMC operations; 0: ipmi_concurrency */
	uint64_t power_poll_ms;       /* observed power is polled this often */
	uint64_t timeout_pxe_ms;      /* power-on to the node's first script */
	uint64_t timeout_loading_ms;  /* script to kernel fetch */
	uint64_t timeout_imaging_ms;  /* kernel fetch to the init's first report */
	uint64_t timeout_up_ms;       /* init's first report to up */
	unsigned boot_attempts;       /* boots tried before a node is failed */
	uint64_t retry_backoff_ms;    /* first retry delay, doubled per attempt */
	uint64_t failed_retry_ms;     /* a failed node boots again after this; 0: never */
	/* Health and allocation (issue #5). */
	struct job_class classes[MAX_CLASSES];
	unsigned n_classes;
	char health_rules[MAX_CONF_HEALTH_RULES][MAX_RULE_TEXT];
	unsigned n_health_rules;
	unsigned on_risky;            /* enum health_action_bits */
	unsigned on_doomed;
	char notify_hook[MAX_CONF_PATH];
	uint64_t notify_hook_timeout_ms; /* a hook still running after this is killed */
	/* Site files for every node's overlay (docs/bootsvc.conf.md): slurm.conf, the munge
	 * key... read at each overlay request; "" = none. */
	char site_overlay[MAX_CONF_PATH];
	uint64_t health_poll_ms;      /* 0 = health is not read */
	/* VM hosts (issue 12, docs/vm.md): how often each host's libvirt is read. */
	uint64_t vm_poll_ms;
	/* The VM layer's policy (issue 13, docs/vm.md "Policy"). */
	double vm_cpu_ratio;          /* vCPUs per guest CPU; memory is never overcommitted */
	unsigned vm_warm_spares;      /* empty hosts consolidation leaves on */
	double vm_thermal_hot;        /* C: a host above sheds VMs; 0 = no thermal policy */
	double vm_thermal_cool;       /* C: only hosts below receive them (hysteresis) */
	double vm_thermal_c_per_cpu;  /* the model: C a host changes when load of all its guest
				       * CPUs moves (vCPUs moved / its guest CPUs of it) */
	unsigned vm_plan_max_steps;   /* migrations in one periodic or requested plan */
	uint64_t vm_balance_interval_ms; /* thermal and consolidation looked at; 0 = never */
	bool vm_consolidate;          /* pack VMs so emptied hosts power off (green) */
	/* The VM layer's executor (issue 13, docs/vm.md "Executor"): live migrations at once
	 * overall and per host (outgoing + incoming, Nova's default of one), whether a
	 * migration that stops converging may switch to post-copy, and its deadline per GiB
	 * of guest RAM before it is aborted. */
	unsigned vm_migrations_max;
	unsigned vm_migrations_per_host;
	bool vm_postcopy;
	unsigned vm_migrate_s_per_gib;
	/* iSCSI disks (issue 14, docs/iscsi.md): bootsvc supervises tgtd (iscsi = on), and
	 * gives each node of an iscsi image its own copy-on-write clone of the golden disk
	 * under disk_dir, exported as target <iscsi_iqn>:<node>, LUN 1, on iscsi_portal. */
	bool iscsi;
	char tgtd[MAX_CONF_PATH];
	char tgtadm[MAX_CONF_PATH];
	char qemu_img[MAX_CONF_PATH];
	char qemu_storage_daemon[MAX_CONF_PATH];
	char iscsi_portal[16];        /* IPv4; "" = boot_url's host (config_resolve) */
	uint16_t iscsi_port;
	char iscsi_iqn[MAX_ISCSI_IQN_PREFIX]; /* "iqn.2026-12.local.diskless" */
	char disk_dir[MAX_CONF_PATH]; /* "" = <state_dir>/disks (config_resolve) */
	enum disk_clone disk_clone;
	bool iscsi_mutual_chap;       /* the target proves itself to the node too */
	/* Green policy and energy (issue #7). */
	uint64_t idle_poweroff_ms;    /* idle longer than this: power off; 0 = never */
	struct warm_spare warm[MAX_CONF_WARM];
	unsigned n_warm;
	struct min_on_floor min_on[MAX_CONF_FLOORS];
	unsigned n_min_on;
	unsigned watts_on, watts_off, watts_booting; /* model when the BMC reports no draw */
	uint64_t energy_interval_ms;  /* energy is accounted (in memory) this often */
	uint64_t energy_flush_ms;     /* and written to the store this often */
	/* Retention (docs/store.md). */
	unsigned history_max_per_node; /* history rows kept per node, 0 = all */
	uint64_t history_max_age_ms;   /* history rows older than this go, 0 = never */
};

/* The class named name, or NULL. */
const struct job_class *config_class(const struct config *c, const char *name);

/* Fill c with the defaults. */
void config_init(struct config *c);

/* Apply one key=value; -EINVAL with reterr "unknown key 'x'" / "bad value 'v' for key: ...". */
int config_set(struct config *c, const char *key, const char *value, struct dl_err *reterr);

/* Parse a config file's contents over c (errors are "name:line: ..."). */
int config_parse_buffer(struct config *c, const char *name, const char *buf, size_t len,
    struct dl_err *reterr);
int config_parse_file(struct config *c, const char *path, struct dl_err *reterr);

/* Fill the keys whose default derives from another key once everything is applied:
 * libvirt_pki_dir "" becomes <state_dir>/libvirt-pki. -ENAMETOOLONG naming the key. */
int config_resolve(struct config *c, struct dl_err *reterr);

/* Whether this instance is one of several sharing a PostgreSQL database (its store is
 * one: the cluster needs the store's own history notifications and servers table):
 * then it leads only while it holds the lock, and serves DHCP to its own segment only. */
bool config_clustered(const struct config *c);

/* Cross-key checks after everything is applied (an interface, boot_url and ranges when
 * DHCP is on). */
int config_validate(const struct config *c, struct dl_err *reterr);
