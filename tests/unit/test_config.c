/* SPDX-License-Identifier: MIT */
/* bootsvc/config.c: every key with good and bad values, the file reader's "name:line: "
 * messages, and config_validate's cross-key checks. Vectors are written from
 * bootsvc/config.h and the key list in config_set(); each carries its __LINE__. */
#include <inttypes.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../bootsvc/config.h"
#include "conf.h"
#include "log.h"
#include "check_r.h"

/* Render one field of c as text so vectors can name what they expect. */
static void
field_str(const struct config *c, const char *field, char *buf, size_t size)
{
	if (streq(field, "state_dir"))
		snprintf(buf, size, "%s", c->state_dir);
	else if (streq(field, "store"))
		(void)snprintf(buf, size, "%.500s", c->store);
	else if (streq(field, "template_dir"))
		snprintf(buf, size, "%s", c->template_dir);
	else if (streq(field, "control_socket"))
		snprintf(buf, size, "%s", c->control_socket);
	else if (streq(field, "control_group"))
		snprintf(buf, size, "%s", c->control_group);
	else if (streq(field, "http"))
		snprintf(buf, size, "%s:%u", c->http_addr, c->http_port);
	else if (streq(field, "control_tcp"))
		snprintf(buf, size, "%s:%u", c->control_tcp_addr, c->control_tcp_port);
	else if (streq(field, "control_tls"))
		(void)!snprintf(buf, size, "%.80s %.80s %.80s", c->control_tls_cert,
		    c->control_tls_key, c->control_tls_ca);
	else if (streq(field, "tls_ca_dir"))
		snprintf(buf, size, "%s", c->tls_ca_dir);
	else if (streq(field, "leader_lease_ms"))
		snprintf(buf, size, "%llu", (unsigned long long)c->leader_lease_ms);
	else if (streq(field, "server_name"))
		snprintf(buf, size, "%s", c->server_name);
	else if (streq(field, "libvirt_pki_dir"))
		snprintf(buf, size, "%s", c->libvirt_pki_dir);
	else if (streq(field, "boot_url"))
		snprintf(buf, size, "%s", c->boot_url);
	else if (streq(field, "interface"))
		snprintf(buf, size, "%s", c->interface);
	else if (streq(field, "peers")) {
		buf[0] = '\0';
		for (unsigned i = 0; i < c->n_peers; i++)
			(void)!snprintf(buf + strlen(buf), size - strlen(buf), "%s%s",
			    i ? "|" : "", c->peers[i]);
	}
	else if (streq(field, "dhcp_mode"))
		snprintf(buf, size, "%d", (int)c->dhcp_mode);
	else if (streq(field, "dhcp_range"))
		snprintf(buf, size, "%s-%s", c->dhcp_range_start, c->dhcp_range_end);
	else if (streq(field, "node_ip_range"))
		snprintf(buf, size, "%s-%s", c->node_ip_start, c->node_ip_end);
	else if (streq(field, "proxy_subnet"))
		snprintf(buf, size, "%s", c->proxy_subnet);
	else if (streq(field, "dhcp_lease_s"))
		snprintf(buf, size, "%" PRIu64, c->dhcp_lease_s);
	else if (streq(field, "failed_retry_ms"))
		snprintf(buf, size, "%" PRIu64, c->failed_retry_ms);
	else if (streq(field, "ipv6_ra"))
		snprintf(buf, size, "%d", c->ipv6_ra);
	else if (streq(field, "discover"))
		snprintf(buf, size, "%d", c->discover);
	else if (streq(field, "dnsmasq"))
		snprintf(buf, size, "%s", c->dnsmasq);
	else if (streq(field, "ipxe_dir"))
		snprintf(buf, size, "%s", c->ipxe_dir);
	else if (streq(field, "uefi_binary"))
		snprintf(buf, size, "%s", c->uefi_binary);
	else if (streq(field, "bmc_protocol"))
		snprintf(buf, size, "%s", c->bmc_protocol);
	else if (streq(field, "redfish_ca_file"))
		snprintf(buf, size, "%s", c->redfish_ca_file);
	else if (streq(field, "idle_poweroff_ms"))
		snprintf(buf, size, "%" PRIu64, c->idle_poweroff_ms);
	else if (streq(field, "warm"))
		snprintf(buf, size, "%u:%s=%u", c->n_warm, c->warm[0].image, c->warm[0].count);
	else if (streq(field, "min_on"))
		snprintf(buf, size, "%u:%s:%s=%u", c->n_min_on, c->min_on[0].group,
		    c->min_on[0].hosts, c->min_on[0].count);
	else if (streq(field, "watts_off"))
		snprintf(buf, size, "%u", c->watts_off);
	else if (streq(field, "hold_poll_ms"))
		snprintf(buf, size, "%" PRIu64, c->hold_poll_ms);
	else if (streq(field, "http_sndbuf"))
		snprintf(buf, size, "%" PRIu64, c->http_sndbuf);
	else if (streq(field, "http_threads"))
		snprintf(buf, size, "%u", c->http_threads);
	else if (streq(field, "max_connections"))
		snprintf(buf, size, "%u", c->max_connections);
	else if (streq(field, "log_level"))
		snprintf(buf, size, "%d", c->log_level);
	else if (streq(field, "vm_cpu_ratio"))
		snprintf(buf, size, "%.1f", c->vm_cpu_ratio);
	else if (streq(field, "power_on_rate"))
		snprintf(buf, size, "%.1f", c->power_on_rate);
	else if (streq(field, "vm_thermal"))
		snprintf(buf, size, "%.1f %.1f", c->vm_thermal_hot, c->vm_thermal_cool);
	else if (streq(field, "vm_consolidate"))
		snprintf(buf, size, "%d", c->vm_consolidate);
	else
		snprintf(buf, size, "<no field %s>", field);
}

static void
check_err_at(const char *file, int line, const char *what, int r, const struct dl_err *e,
    int want_r, const char *want_msg)
{
	check_r_at(file, line, what, r, e, want_r, want_msg);
	if (want_msg)
		_assert_true(strstr(e->msg, want_msg) != NULL, "message", file, line);
	if (r < 0)
		_assert_int_equal(e->code, r, file, line);
}

#define LONG300 \
	"/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

/* config_set: key, value, then either the field that changed and its rendering, or an
 * error substring that must name the bad value (or the key for over-long values). */
static const struct {
	int line;
	const char *key, *value;
	const char *field, *want; /* success */
	const char *err;          /* NULL: success */
} set_vectors[] = {
	/* paths: absolute only */
	{ __LINE__, "state_dir", "/srv/diskless", "state_dir", "/srv/diskless", NULL },
	/* store: any target store_open() takes; a bad one is never quoted (a password) */
	{ __LINE__, "store", "postgresql://bootsvc:pw@db1/diskless", "store",
	    "postgresql://bootsvc:pw@db1/diskless", NULL },
	{ __LINE__, "store", "sqlite:/srv/x.db", "store", "sqlite:/srv/x.db", NULL },
	{ __LINE__, "store", "postgresql://u:pw\x01@h/d", NULL, NULL,
	    "store: a control character at offset 17" },
	{ __LINE__, "store", LONG300 LONG300 LONG300 LONG300, NULL, NULL,
	    "value for 'store' longer than 1023 bytes" },
	/* decimals with one digit after the point, in range (the VM layer, power_on_rate) */
	{ __LINE__, "vm_cpu_ratio", "1.5", "vm_cpu_ratio", "1.5", NULL },
	{ __LINE__, "vm_cpu_ratio", "16", "vm_cpu_ratio", "16.0", NULL },
	{ __LINE__, "vm_cpu_ratio", "0.5", NULL, NULL, "vm_cpu_ratio '0.5' is out of range 1..64" },
	{ __LINE__, "vm_cpu_ratio", "1.25", NULL, NULL, "vm_cpu_ratio '1.25' is not a number of vCPUs" },
	{ __LINE__, "vm_cpu_ratio", "x", NULL, NULL, "vm_cpu_ratio 'x' is not" },
	{ __LINE__, "power_on_rate", "0.5", "power_on_rate", "0.5", NULL },
	{ __LINE__, "power_on_rate", "-1", NULL, NULL, "power_on_rate '-1' is not a number" },
	{ __LINE__, "vm_thermal_hot", "80", "vm_thermal", "80.0 0.0", NULL },
	{ __LINE__, "vm_thermal_hot", "151", NULL, NULL, "out of range 0..150" },
	{ __LINE__, "vm_consolidate", "on", "vm_consolidate", "1", NULL },
	{ __LINE__, "state_dir", "srv/diskless", NULL, NULL, "'srv/diskless' for state_dir is not an absolute path" },
	{ __LINE__, "state_dir", "", NULL, NULL, "'' for state_dir" },
	{ __LINE__, "state_dir", LONG300, NULL, NULL, "value for 'state_dir' longer than 255 bytes" },
	{ __LINE__, "template_dir", "/t", "template_dir", "/t", NULL },
	{ __LINE__, "template_dir", "./t", NULL, NULL, "'./t' for template_dir" },
	{ __LINE__, "control_socket", "/run/x.sock", "control_socket", "/run/x.sock", NULL },
	{ __LINE__, "control_socket", "x.sock", NULL, NULL, "'x.sock' for control_socket" },
	{ __LINE__, "dnsmasq", "/usr/local/sbin/dnsmasq", "dnsmasq", "/usr/local/sbin/dnsmasq", NULL },
	{ __LINE__, "dnsmasq", "dnsmasq", NULL, NULL, "'dnsmasq' for dnsmasq is not an absolute path" },
	{ __LINE__, "ipxe_dir", "/usr/lib/ipxe", "ipxe_dir", "/usr/lib/ipxe", NULL },
	{ __LINE__, "ipxe_dir", "lib", NULL, NULL, "'lib' for ipxe_dir" },
	/* control_group: any name that fits */
	{ __LINE__, "control_group", "hpcadmin", "control_group", "hpcadmin", NULL },
	{ __LINE__, "control_group", LONG300, NULL, NULL, "value for 'control_group' longer than 63 bytes" },
	/* control_tcp: ipv4:port like http_listen; the TLS files are absolute paths */
	{ __LINE__, "control_tcp", "10.0.0.1:8443", "control_tcp", "10.0.0.1:8443", NULL },
	{ __LINE__, "control_tcp", "10.0.0.1", NULL, NULL, "'10.0.0.1' for control_tcp is not <ipv4>:<port>" },
	{ __LINE__, "control_tcp", "10.0.0.1:0", NULL, NULL, "control_tcp port" },
	{ __LINE__, "control_tls_cert", "/etc/diskless/tls/bootsvc.crt", "control_tls",
	  "/etc/diskless/tls/bootsvc.crt  ", NULL },
	{ __LINE__, "control_tls_key", "key.pem", NULL, NULL, "'key.pem' for control_tls_key is not an absolute path" },
	{ __LINE__, "control_tls_ca", "/ca.crt", "control_tls", "  /ca.crt", NULL },
	/* the web view's listener and files */
	{ __LINE__, "admin_listen", "127.0.0.1", NULL, NULL, "'127.0.0.1' for admin_listen is not <ipv4>:<port>" },
	{ __LINE__, "web_dir", "webui", NULL, NULL, "'webui' for web_dir is not an absolute path" },
	{ __LINE__, "admin_passwords", "web.passwd", NULL, NULL, "'web.passwd' for admin_passwords is not an absolute path" },
	/* http_listen: ipv4:port */
	{ __LINE__, "http_listen", "10.77.0.1:8081", "http", "10.77.0.1:8081", NULL },
	{ __LINE__, "http_listen", "0.0.0.0:65535", "http", "0.0.0.0:65535", NULL },
	{ __LINE__, "http_listen", "10.77.0.1", NULL, NULL, "'10.77.0.1' for http_listen is not <ipv4>:<port>" },
	{ __LINE__, "http_listen", "10.77.0.1:0", NULL, NULL, "http_listen port: number '0' is out of range" },
	{ __LINE__, "http_listen", "10.77.0.1:65536", NULL, NULL, "'65536'" },
	{ __LINE__, "http_listen", "10.77.0.1:-1", NULL, NULL, "'-1'" },
	{ __LINE__, "http_listen", "10.77.0.256:80", NULL, NULL, "http_listen: IPv4 address '10.77.0.256'" },
	{ __LINE__, "http_listen", ":80", NULL, NULL, "http_listen: IPv4 address ''" },
	{ __LINE__, "http_listen", "[::1]:80", NULL, NULL, "'[::1]'" },
	/* boot_url: http:// without characters a template could not carry; no trailing '/' */
	{ __LINE__, "boot_url", "http://10.77.0.1:8080", "boot_url", "http://10.77.0.1:8080", NULL },
	{ __LINE__, "boot_url", "http://10.77.0.1:8080/", "boot_url", "http://10.77.0.1:8080", NULL },
	{ __LINE__, "boot_url", "https://10.77.0.1", NULL, NULL, "'https://10.77.0.1' for boot_url is not an http:// URL" },
	{ __LINE__, "boot_url", "http://", NULL, NULL, "'http://' for boot_url" },
	{ __LINE__, "boot_url", "http://a b", NULL, NULL, "'http://a b' for boot_url" },
	{ __LINE__, "boot_url", "http://a\"b", NULL, NULL, "for boot_url is not an http:// URL" },
	{ __LINE__, "boot_url", "http://a{x}", NULL, NULL, "'http://a{x}'" },
	{ __LINE__, "boot_url", "http://a/${x}", NULL, NULL, "'http://a/${x}'" },
	/* peers: boot_urls of other service nodes, a list that replaces the one before */
	{ __LINE__, "peers", "http://10.77.0.2:8080", "peers", "http://10.77.0.2:8080", NULL },
	{ __LINE__, "peers", " http://a:1/ ,http://b:2,, ", "peers", "http://a:1|http://b:2", NULL },
	{ __LINE__, "peers", "http://a,ftp://b", NULL, NULL, "'ftp://b' for peers is not an http:// URL" },
	{ __LINE__, "peers", "http://a;chain x", NULL, NULL, "for peers is not an http:// URL" },
	{ __LINE__, "peers", "http://a\nchain", NULL, NULL, "peers: a control character at byte 8" },
	{ __LINE__, "boot_url", "http://a\r", NULL, NULL, "boot_url: a control character at byte 8" },
	{ __LINE__, "peers", "http://1,http://2,http://3,http://4,http://5,http://6,http://7,http://8,http://9", NULL, NULL, "peers: more than 8 peers" },
	/* interface: an interface name, at most IFNAMSIZ-1 */
	{ __LINE__, "interface", "br-pxe", "interface", "br-pxe", NULL },
	{ __LINE__, "interface", "enp0s31f6.100", "interface", "enp0s31f6.100", NULL },
	{ __LINE__, "interface", "0123456789abcdef", NULL, NULL, "'0123456789abcdef' is not an interface name" },
	{ __LINE__, "interface", "eth0:1", NULL, NULL, "'eth0:1' is not an interface name" },
	{ __LINE__, "interface", "a/b", NULL, NULL, "'a/b'" },
	{ __LINE__, "interface", "a b", NULL, NULL, "'a b'" },
	/* dhcp_mode */
	{ __LINE__, "dhcp_mode", "range", "dhcp_mode", "1", NULL },
	{ __LINE__, "dhcp_mode", "proxy", "dhcp_mode", "2", NULL },
	{ __LINE__, "dhcp_mode", "off", "dhcp_mode", "0", NULL },
	{ __LINE__, "dhcp_mode", "Range", NULL, NULL, "'Range' for dhcp_mode is not one of range, proxy, off" },
	{ __LINE__, "dhcp_mode", "", NULL, NULL, "'' for dhcp_mode" },
	/* ranges: start,end with start <= end */
	{ __LINE__, "dhcp_range", "10.77.0.100,10.77.0.200", "dhcp_range", "10.77.0.100-10.77.0.200", NULL },
	{ __LINE__, "dhcp_range", "10.77.0.5,10.77.0.5", "dhcp_range", "10.77.0.5-10.77.0.5", NULL },
	{ __LINE__, "dhcp_range", "10.77.0.200,10.77.0.100", NULL, NULL, "dhcp_range: start '10.77.0.200' is after end '10.77.0.100'" },
	{ __LINE__, "dhcp_range", "10.77.0.100", NULL, NULL, "'10.77.0.100' for dhcp_range is not <start-ip>,<end-ip>" },
	{ __LINE__, "dhcp_range", "10.77.0.100-10.77.0.200", NULL, NULL, "is not <start-ip>,<end-ip>" },
	{ __LINE__, "dhcp_range", "10.77.0.1,10.77.0.x", NULL, NULL, "dhcp_range: IPv4 address '10.77.0.x'" },
	{ __LINE__, "dhcp_range", "10.77.0.01,10.77.0.9", NULL, NULL, "'10.77.0.01'" },
	{ __LINE__, "dhcp_range", ",", NULL, NULL, "IPv4 address ''" },
	{ __LINE__, "node_ip_range", "10.77.0.10,10.77.0.99", "node_ip_range", "10.77.0.10-10.77.0.99", NULL },
	{ __LINE__, "node_ip_range", "10.77.1.0,10.77.0.255", NULL, NULL, "node_ip_range: start '10.77.1.0' is after end '10.77.0.255'" },
	{ __LINE__, "node_ip_range", "10.77.0.10,10.77.0.99,10.77.0.100", NULL, NULL, "'10.77.0.99,10.77.0.100'" },
	{ __LINE__, "proxy_subnet", "192.168.1.0", "proxy_subnet", "192.168.1.0", NULL },
	{ __LINE__, "proxy_subnet", "192.168.1.0/24", NULL, NULL, "proxy_subnet: IPv4 address '192.168.1.0/24'" },
	/* dhcp_lease: duration, at least dnsmasq's 2 minutes */
	{ __LINE__, "dhcp_lease", "2m", "dhcp_lease_s", "120", NULL },
	{ __LINE__, "dhcp_lease", "1h", "dhcp_lease_s", "3600", NULL },
	{ __LINE__, "dhcp_lease", "7200", "dhcp_lease_s", "7200", NULL },
	{ __LINE__, "dhcp_lease", "119s", NULL, NULL, "dhcp_lease '119s' is under dnsmasq's 2 minutes" },
	{ __LINE__, "dhcp_lease", "0", NULL, NULL, "dhcp_lease '0'" },
	{ __LINE__, "dhcp_lease", "1y", NULL, NULL, "dhcp_lease: duration '1y' has an unknown unit" },
	{ __LINE__, "dhcp_lease", "-5m", NULL, NULL, "dhcp_lease: duration '-5m'" },
	/* failed_retry: a duration, or off */
	{ __LINE__, "failed_retry", "10m", "failed_retry_ms", "600000", NULL },
	{ __LINE__, "failed_retry", "off", "failed_retry_ms", "0", NULL },
	{ __LINE__, "failed_retry", "soon", NULL, NULL, "failed_retry: duration 'soon'" },
	/* booleans */
	{ __LINE__, "ipv6_ra", "no", "ipv6_ra", "0", NULL },
	{ __LINE__, "ipv6_ra", "TRUE", "ipv6_ra", "1", NULL },
	{ __LINE__, "ipv6_ra", "maybe", NULL, NULL, "ipv6_ra: 'maybe' is not a boolean" },
	{ __LINE__, "discover", "off", "discover", "0", NULL },
	{ __LINE__, "discover", "2", NULL, NULL, "discover: '2' is not a boolean" },
	/* uefi_binary: one of Debian's two */
	{ __LINE__, "uefi_binary", "ipxe.efi", "uefi_binary", "ipxe.efi", NULL },
	{ __LINE__, "uefi_binary", "snponly.efi", "uefi_binary", "snponly.efi", NULL },
	{ __LINE__, "uefi_binary", "../../etc/passwd", NULL, NULL, "'../../etc/passwd' for uefi_binary" },
	/* bmc_protocol, redfish_ca_file (issue 17) */
	{ __LINE__, "bmc_protocol", "auto", "bmc_protocol", "auto", NULL },
	{ __LINE__, "bmc_protocol", "redfish", "bmc_protocol", "redfish", NULL },
	{ __LINE__, "bmc_protocol", "ipmi", "bmc_protocol", "ipmi", NULL },
	{ __LINE__, "bmc_protocol", "snmp", NULL, NULL, "'snmp' for bmc_protocol is not ipmi, redfish or auto" },
	{ __LINE__, "redfish_ca_file", "/etc/diskless/bmc-ca.pem", "redfish_ca_file",
	  "/etc/diskless/bmc-ca.pem", NULL },
	{ __LINE__, "redfish_ca_file", "bmc-ca.pem", NULL, NULL, "not an absolute path" },
	/* hold_poll: 1s..1h */
	{ __LINE__, "hold_poll", "1s", "hold_poll_ms", "1000", NULL },
	{ __LINE__, "hold_poll", "1h", "hold_poll_ms", "3600000", NULL },
	{ __LINE__, "hold_poll", "2500ms", "hold_poll_ms", "2500", NULL },
	{ __LINE__, "hold_poll", "999ms", NULL, NULL, "hold_poll '999ms' is not between 1s and 1h" },
	{ __LINE__, "hold_poll", "61m", NULL, NULL, "hold_poll '61m'" },
	{ __LINE__, "hold_poll", "soon", NULL, NULL, "hold_poll: duration 'soon'" },
	/* http_threads: 1..8 or auto (test_http_threads_auto) */
	{ __LINE__, "http_threads", "1", "http_threads", "1", NULL },
	{ __LINE__, "http_threads", "8", "http_threads", "8", NULL },
	{ __LINE__, "http_threads", "0", NULL, NULL, "http_threads: number '0' is out of range" },
	{ __LINE__, "http_threads", "9", NULL, NULL, "http_threads: number '9' is out of range" },
	{ __LINE__, "http_threads", "two", NULL, NULL, "http_threads: 'two'" },
	/* http_sndbuf: 0 (the kernel's) or 16k..64m, binary units */
	{ __LINE__, "http_sndbuf", "256k", "http_sndbuf", "262144", NULL },
	{ __LINE__, "http_sndbuf", "1M", "http_sndbuf", "1048576", NULL },
	{ __LINE__, "http_sndbuf", "16384", "http_sndbuf", "16384", NULL },
	{ __LINE__, "http_sndbuf", "64m", "http_sndbuf", "67108864", NULL },
	{ __LINE__, "http_sndbuf", "0", "http_sndbuf", "0", NULL },
	{ __LINE__, "http_sndbuf", "8k", NULL, NULL, "http_sndbuf '8k' is neither 0 (the kernel's) nor between 16k and 64m" },
	{ __LINE__, "http_sndbuf", "65m", NULL, NULL, "http_sndbuf '65m' is neither" },
	{ __LINE__, "http_sndbuf", "256kb", NULL, NULL, "http_sndbuf: size '256kb' has an unknown unit" },
	/* max_connections: 16..1000000 */
	{ __LINE__, "max_connections", "16", "max_connections", "16", NULL },
	{ __LINE__, "max_connections", "1000000", "max_connections", "1000000", NULL },
	{ __LINE__, "max_connections", "15", NULL, NULL, "max_connections: number '15' is out of range" },
	{ __LINE__, "max_connections", "1000001", NULL, NULL, "'1000001'" },
	{ __LINE__, "max_connections", "1e3", NULL, NULL, "max_connections: '1e3'" },
	/* log_level: lib/log.c's names */
	{ __LINE__, "log_level", "debug", "log_level", "7", NULL },
	{ __LINE__, "log_level", "err", "log_level", "3", NULL },
	{ __LINE__, "log_level", "verbose", NULL, NULL, "'verbose' for log_level is not" },
	{ __LINE__, "log_level", "DEBUG", NULL, NULL, "'DEBUG' for log_level" },
	/* green policy and energy (issue #7) */
	{ __LINE__, "idle_poweroff", "20s", "idle_poweroff_ms", "20000", NULL },
	{ __LINE__, "idle_poweroff", "off", "idle_poweroff_ms", "0", NULL },
	{ __LINE__, "idle_poweroff", "0s", NULL, NULL, "idle_poweroff '0s' is not between" },
	{ __LINE__, "warm", "compute=4", "warm", "1:compute=4", NULL },
	{ __LINE__, "warm", "compute", NULL, NULL, "warm 'compute' is not <image>=<count>" },
	{ __LINE__, "warm", "Compute=4", NULL, NULL, "image name 'Compute'" },
	{ __LINE__, "warm", "compute=many", NULL, NULL, "warm 'compute'" },
	{ __LINE__, "min_on", "rack1:n[01-08]=2", "min_on", "1:rack1:n[01-08]=2", NULL },
	{ __LINE__, "min_on", "rack1=2", NULL, NULL, "min_on 'rack1=2' is not <group>:<hostlist>=<count>" },
	{ __LINE__, "min_on", "rack1:n[08-01]=2", NULL, NULL, "min_on 'rack1'" },
	{ __LINE__, "min_on", "rack1:n[01-08]=-1", NULL, NULL, "min_on 'rack1'" },
	{ __LINE__, "watts_off", "0", "watts_off", "0", NULL },
	{ __LINE__, "watts_on", "0", NULL, NULL, "watts_on" },
	/* VM hosts' TLS (docs/security.md "Hypervisor TLS") */
	{ __LINE__, "tls_ca_dir", "/srv/pki", "tls_ca_dir", "/srv/pki", NULL },
	{ __LINE__, "tls_ca_dir", "pki", NULL, NULL, "'pki' for tls_ca_dir is not an absolute path" },
	{ __LINE__, "libvirt_pki_dir", "/run/dl/lv", "libvirt_pki_dir", "/run/dl/lv", NULL },
	{ __LINE__, "libvirt_pki_dir", "lv", NULL, NULL, "not an absolute path" },
	/* several bootsvc (issue 15) */
	{ __LINE__, "leader_lease", "30s", "leader_lease_ms", "30000", NULL },
	{ __LINE__, "leader_lease", "2s", NULL, NULL, "leader_lease '2s' is not between" },
	{ __LINE__, "leader_lease", "11m", NULL, NULL, "leader_lease '11m'" },
	{ __LINE__, "server_name", "sn-1.rack_2", "server_name", "sn-1.rack_2", NULL },
	{ __LINE__, "server_name", "sn 1", NULL, NULL, "server_name 'sn 1': only letters" },
	{ __LINE__, "server_name", "a\"b", NULL, NULL, "server_name 'a\"b'" },
	/* unknown keys */
	{ __LINE__, "http_port", "8080", NULL, NULL, "unknown key 'http_port'" },
	{ __LINE__, "", "x", NULL, NULL, "unknown key ''" },
};

static void
test_set(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(set_vectors); i++) {
		struct config c, before;
		struct dl_err e = { 0 };
		char got[512];
		int r;

		config_init(&c);
		before = c;
		r = config_set(&c, set_vectors[i].key, set_vectors[i].value, &e);
		check_err_at(__FILE__, set_vectors[i].line, set_vectors[i].key, r, &e,
		    set_vectors[i].err ? -EINVAL : 0, set_vectors[i].err);
		if (set_vectors[i].err) {
			/* a rejected value leaves the config as it was */
			_assert_true(memcmp(&c, &before, sizeof(c)) == 0, "config unchanged",
			    __FILE__, set_vectors[i].line);
			continue;
		}
		field_str(&c, set_vectors[i].field, got, sizeof(got));
		if (!streq(got, set_vectors[i].want))
			print_error("%s:%d: %s=%s gave '%s', want '%s'\n", __FILE__,
			    set_vectors[i].line, set_vectors[i].key, set_vectors[i].value, got,
			    set_vectors[i].want);
		_assert_string_equal(got, set_vectors[i].want, __FILE__, set_vectors[i].line);
	}
}

static void
test_defaults(void **state)
{
	struct config c;

	(void)state;
	config_init(&c);
	assert_string_equal(c.state_dir, "/var/lib/diskless");
	assert_string_equal(c.control_socket, "/run/diskless/control.sock");
	assert_int_equal(c.http_port, 8080);
	assert_int_equal(c.dhcp_mode, DHCP_MODE_RANGE);
	assert_int_equal(c.dhcp_lease_s, 3600);
	assert_true(c.discover);
	assert_string_equal(c.uefi_binary, "snponly.efi");
	assert_string_equal(c.interface, ""); /* never guessed */
	assert_string_equal(c.tls_ca_dir, "/etc/diskless/tls"); /* nodectl tls init's */
	assert_int_equal(c.http_sndbuf, 256 * 1024);
}

/* http_threads = auto (the default): the CPUs this process may run on, at most 8. */
static void
test_http_threads_auto(void **state)
{
	struct dl_err e = { 0 };
	cpu_set_t all, one;
	struct config c;
	unsigned want;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	want = CPU_COUNT(&all) > HTTP_MAX_THREADS ? HTTP_MAX_THREADS : (unsigned)CPU_COUNT(&all);
	config_init(&c);
	assert_int_equal(c.http_threads, want);
	assert_int_equal(config_set(&c, "http_threads", "1", &e), 0);
	assert_int_equal(c.http_threads, 1);
	assert_int_equal(config_set(&c, "http_threads", "auto", &e), 0);
	assert_int_equal(c.http_threads, want);
	/* a taskset or cpuset of one CPU: the loop alone */
	CPU_ZERO(&one);
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &all)) {
			CPU_SET(i, &one);
			break;
		}
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(config_http_threads_auto(), 1);
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
}

/* config_resolve: libvirt_pki_dir follows state_dir unless set; too long is an error. */
static void
test_resolve(void **state)
{
	struct config c;
	struct dl_err e = { 0 };
	char longdir[MAX_CONF_PATH];

	(void)state;
	config_init(&c);
	assert_string_equal(c.libvirt_pki_dir, "");
	assert_int_equal(config_set(&c, "state_dir", "/tmp/dl", &e), 0);
	assert_int_equal(config_resolve(&c, &e), 0);
	assert_string_equal(c.libvirt_pki_dir, "/tmp/dl/libvirt-pki");
	config_init(&c);
	assert_int_equal(config_set(&c, "libvirt_pki_dir", "/x/pki", &e), 0);
	assert_int_equal(config_resolve(&c, &e), 0);
	assert_string_equal(c.libvirt_pki_dir, "/x/pki");
	config_init(&c);
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 8] = '\0';
	assert_int_equal(config_set(&c, "state_dir", longdir, &e), 0);
	assert_int_equal(config_resolve(&c, &e), -ENAMETOOLONG);
	assert_non_null(strstr(e.msg, "set libvirt_pki_dir"));
	assert_string_equal(c.libvirt_pki_dir, "");
}

/* The thermal policy's hysteresis: cool defaults to hot - 10; cool >= hot is refused. */
static void
test_thermal_gap(void **state)
{
	struct config c;
	struct dl_err e = { 0 };

	(void)state;
	config_init(&c);
	assert_int_equal(config_set(&c, "dhcp_mode", "off", &e), 0);
	assert_int_equal(config_set(&c, "vm_thermal_hot", "75", &e), 0);
	assert_int_equal(config_resolve(&c, &e), 0);
	assert_true(c.vm_thermal_cool > 64.9 && c.vm_thermal_cool < 65.1);
	assert_int_equal(config_validate(&c, &e), 0);
	assert_int_equal(config_set(&c, "vm_thermal_cool", "75", &e), 0);
	assert_int_equal(config_validate(&c, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "vm_thermal_cool (75.0 C) must be below vm_thermal_hot"));
}

/* config_parse_buffer: the reader's syntax and "name:line: " on every error. */
static const struct {
	int line;
	const char *text;
	size_t len; /* 0: strlen(text) */
	int want_r;
	const char *err; /* NULL: success */
} file_vectors[] = {
	{ __LINE__, "", 0, 0, NULL },
	{ __LINE__, "# only a comment\n\n   \n\t# indented comment\n", 0, 0, NULL },
	{ __LINE__, "interface = br-pxe\nhttp_listen=10.77.0.1:8080\n", 0, 0, NULL },
	{ __LINE__, "interface=br-pxe", 0, 0, NULL },                  /* no final newline */
	{ __LINE__, "interface=br-pxe\r\nhold_poll=5s\r\n", 0, 0, NULL }, /* CRLF file */
	{ __LINE__, "interface=br-pxe   \t\n", 0, 0, NULL },             /* trailing blanks */
	{ __LINE__, "\n\nbogus=1\n", 0, -EINVAL, "test.conf:3: unknown key 'bogus'" },
	{ __LINE__, "interface=br-pxe\nhttp_listen=1.2.3.4\n", 0, -EINVAL,
	    "test.conf:2: '1.2.3.4' for http_listen is not <ipv4>:<port>" },
	{ __LINE__, "# c\nhold_poll=10\nhold_poll=0s\n", 0, -EINVAL, "test.conf:3: hold_poll '0s'" },
	{ __LINE__, "interface br-pxe\n", 0, -EINVAL, "test.conf:1: expected key=value" },
	{ __LINE__, "=br-pxe\n", 0, -EINVAL, "test.conf:1: empty key" },
	{ __LINE__, "Interface=br-pxe\n", 0, -EINVAL, "test.conf:1: bad character in key" },
	{ __LINE__, "inter face=br-pxe\n", 0, -EINVAL, "test.conf:1: bad character in key" },
	{ __LINE__, "dhcp_mode=proxy # comment\n", 0, -EINVAL,
	    "test.conf:1: 'proxy # comment' for dhcp_mode" }, /* comments are whole lines only */
	{ __LINE__, "a=b\0c\n", 6, -EINVAL, "test.conf:1: NUL byte in line" },	/* the hostlist's own code (E2BIG) comes through, not a generic EINVAL */
	{ __LINE__, "min_on=r:n[1-99999]=1\n", 0, -E2BIG,
	    "test.conf:1: min_on 'r': hostlist 'n[1-99999]'" },
	{ __LINE__, "warm=compute=100001\n", 0, -EINVAL, "test.conf:1: warm 'compute': number" },
};

static void
test_parse_buffer(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(file_vectors); i++) {
		struct config c;
		struct dl_err e = { 0 };
		const char *t = file_vectors[i].text;
		size_t len = file_vectors[i].len ? file_vectors[i].len : strlen(t);
		int r;

		config_init(&c);
		r = config_parse_buffer(&c, "test.conf", t, len, &e);
		check_err_at(__FILE__, file_vectors[i].line, "config_parse_buffer", r, &e,
		    file_vectors[i].want_r, file_vectors[i].err);
	}
}

/* Values land where they should, last one wins, the input need not be NUL-terminated. */
static void
test_parse_values(void **state)
{
	static const char text[] = "# bootsvc.conf\n"
				   "state_dir = /srv/dl\n"
				   "interface=br-pxe\n"
				   "boot_url=http://10.77.0.1:8080/\n"
				   "dhcp_range=10.77.0.100,10.77.0.200\n"
				   "node_ip_range=10.77.0.10,10.77.0.99\n"
				   "hold_poll=5s\n"
				   "hold_poll=7s\n"
				   "log_level=warning\n"
				   "discover=no";
	struct config c;
	struct dl_err e = { 0 };
	char *copy = malloc(sizeof(text) - 1); /* exact size: no NUL after it */

	(void)state;
	assert_non_null(copy);
	memcpy(copy, text, sizeof(text) - 1);
	config_init(&c);
	assert_int_equal(config_parse_buffer(&c, "b.conf", copy, sizeof(text) - 1, &e), 0);
	free(copy);
	assert_string_equal(c.state_dir, "/srv/dl");
	assert_string_equal(c.interface, "br-pxe");
	assert_string_equal(c.boot_url, "http://10.77.0.1:8080");
	assert_string_equal(c.dhcp_range_start, "10.77.0.100");
	assert_string_equal(c.node_ip_end, "10.77.0.99");
	assert_int_equal(c.hold_poll_ms, 7000);
	assert_int_equal(c.log_level, LOG_WARNING);
	assert_false(c.discover);
	assert_int_equal(config_validate(&c, &e), 0);
}

static void
test_long_line(void **state)
{
	size_t n = MAX_CONF_LINE + 20;
	char *buf = malloc(n);
	struct config c;
	struct dl_err e = { 0 };

	(void)state;
	assert_non_null(buf);
	memcpy(buf, "interface=br0\n", 14);
	memset(buf + 14, 'x', n - 14);
	config_init(&c);
	assert_int_equal(config_parse_buffer(&c, "big.conf", buf, n, &e), -E2BIG);
	assert_non_null(strstr(e.msg, "big.conf:2: line longer than 4096 bytes"));
	free(buf);
}

static void
test_parse_file(void **state)
{
	char dir[] = "/tmp/test_config.XXXXXX", path[64];
	struct config c;
	struct dl_err e = { 0 };
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bootsvc.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("interface=br-pxe\nmax_connections=9\n", f);
	fclose(f);
	config_init(&c);
	assert_int_equal(config_parse_file(&c, path, &e), -EINVAL);
	/* the file name in the message is the path, then the line */
	assert_non_null(strstr(e.msg, path));
	assert_non_null(strstr(e.msg, ":2: max_connections: number '9'"));
	unlink(path);
	config_init(&c);
	assert_true(config_parse_file(&c, path, &e) == -ENOENT);
	assert_non_null(strstr(e.msg, path));
	rmdir(dir);
}

/* config_validate: the cross-key checks of config.h. */
static const struct {
	int line;
	const char *text; /* applied over the defaults */
	const char *err;  /* NULL: valid */
} validate_vectors[] = {
	{ __LINE__, "dhcp_mode=off\n", NULL },
	{ __LINE__, "", "no interface is named" }, /* range is the default */
	{ __LINE__, "interface=br0\n", "boot_url" },
	{ __LINE__, "interface=br0\nboot_url=http://10.0.0.1:8080\n", "dhcp_mode=range needs dhcp_range" },
	{ __LINE__, "interface=br0\nboot_url=http://10.0.0.1:8080\ndhcp_range=10.0.0.100,10.0.0.200\n",
	    "dhcp_mode=range needs node_ip_range" },
	{ __LINE__, "interface=br0\nboot_url=http://10.0.0.1:8080\ndhcp_range=10.0.0.100,10.0.0.200\n"
		    "node_ip_range=10.0.0.10,10.0.0.99\n", NULL },
	{ __LINE__, "dhcp_mode=proxy\ninterface=br0\nboot_url=http://10.0.0.1:8080\n",
	    "dhcp_mode=proxy needs proxy_subnet" },
	{ __LINE__, "dhcp_mode=proxy\ninterface=br0\nboot_url=http://10.0.0.1:8080\nproxy_subnet=10.0.0.0\n", NULL },
	{ __LINE__, "dhcp_mode=proxy\nboot_url=http://10.0.0.1:8080\nproxy_subnet=10.0.0.0\n",
	    "no interface is named" },
	/* no plain-TCP control: control_tcp needs all three TLS files */
	{ __LINE__, "dhcp_mode=off\ncontrol_tcp=10.0.0.1:8443\n", "control_tcp needs control_tls_cert" },
	{ __LINE__, "dhcp_mode=off\ncontrol_tcp=10.0.0.1:8443\ncontrol_tls_cert=/c\ncontrol_tls_key=/k\n",
	    "there is no plain-TCP control" },
	{ __LINE__, "dhcp_mode=off\ncontrol_tcp=10.0.0.1:8443\ncontrol_tls_cert=/c\ncontrol_tls_key=/k\n"
		    "control_tls_ca=/a\n", NULL },
	{ __LINE__, "dhcp_mode=off\ncontrol_tls_cert=/c\n", NULL }, /* files alone: no listener */
	/* the web view: HTTPS only, and someone must be able to log in */
	{ __LINE__, "dhcp_mode=off\nadmin_listen=127.0.0.1:8443\n", "admin_listen needs admin_cert" },
	{ __LINE__, "dhcp_mode=off\nadmin_listen=127.0.0.1:8443\nadmin_cert=/c\nadmin_key=/k\n",
	    "nobody could log in" },
	{ __LINE__, "dhcp_mode=off\nadmin_listen=127.0.0.1:8443\nadmin_cert=/c\nadmin_key=/k\n"
		    "admin_passwords=/p\n", NULL },
	{ __LINE__, "dhcp_mode=off\nadmin_listen=127.0.0.1:8443\nadmin_cert=/c\nadmin_key=/k\n"
		    "control_tls_ca=/a\n", NULL },
	{ __LINE__, "dhcp_mode=off\nadmin_listen=127.0.0.1:8443\nadmin_cert=/c\nadmin_key=/k\n"
		    "admin_ca=/a\n", NULL },
};

static void
test_validate(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(validate_vectors); i++) {
		struct config c;
		struct dl_err e = { 0 };
		const char *t = validate_vectors[i].text;

		config_init(&c);
		_assert_int_equal(config_parse_buffer(&c, "v.conf", t, strlen(t), &e), 0, __FILE__,
		    validate_vectors[i].line);
		check_err_at(__FILE__, validate_vectors[i].line, "config_validate",
		    config_validate(&c, &e), &e, validate_vectors[i].err ? -EINVAL : 0,
		    validate_vectors[i].err);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_threads_auto),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_thermal_gap),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_parse_buffer),
		cmocka_unit_test(test_parse_values),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_validate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
