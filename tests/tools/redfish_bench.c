/* SPDX-License-Identifier: MIT */
/* redfish_bench: many Redfish BMCs in one process for make bench's power row (issue 17),
 * where tests/tools/redfish_sim.py cannot answer 190 TLS BMCs on two cores. It speaks only
 * what bootsvc's power status asks for, over TLS (libmicrohttpd with GnuTLS), one daemon
 * per address:
 *
 *   GET    /redfish/v1                              the service root (no credentials)
 *   POST   /redfish/v1/SessionService/Sessions      login: UserName/Password -> X-Auth-Token
 *   GET    /redfish/v1/Systems, /redfish/v1/Systems/1   (X-Auth-Token) PowerState
 *   DELETE /redfish/v1/SessionService/Sessions/N    logout
 *
 *   redfish_bench --cert PEM --key PEM --password P [--user U] [--port N]
 *                 [--hang ADDR]... ADDR...
 *
 * Each ADDR (IPv4, already on an interface) is one BMC; the Nth given is on when N is odd,
 * off when even (as the IPMI row's BMCs). A --hang ADDR is a BMC that accepts TCP and never
 * answers (a listening socket nobody accepts from: the kernel completes the handshake, the
 * TLS hello waits forever), as a wedged BMC does. Prints "ready N" once every address
 * listens; runs until SIGTERM or SIGINT. The nodectl power row in bench/run.sh is the
 * only user: the integration tests need redfish_sim.py's qemu control and faults. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "readfile.h"

/* Addresses one process serves: the bench's 200 BMCs and room to grow; each is a daemon
 * with its own thread and listening socket. */
#define MAX_BMCS 1024
/* Largest request body read (a login is under 100 bytes): more is refused. */
#define MAX_BODY 4096
/* Largest PEM file read (a certificate or key is 1-3 KiB). */
#define MAX_PEM (64 * 1024)
/* Queued connections on a hanging BMC's socket: more than a client opens in a bench. */
#define HANG_BACKLOG 64

#define ROOT "/redfish/v1"
#define SESSIONS ROOT "/SessionService/Sessions"
#define SYS ROOT "/Systems/1"

static const char *user = "admin", *password;
/* Tokens are this process's random prefix and a counter: one check, no table. */
static char token_prefix[17];
static unsigned long next_session;
static pthread_mutex_t session_lock = PTHREAD_MUTEX_INITIALIZER;

struct bmc {
	struct in_addr addr;
	bool on;
};

struct req {
	char body[MAX_BODY + 1];
	size_t len;
	bool too_big;
};

static enum MHD_Result
send_json(struct MHD_Connection *c, unsigned status, const char *hdr_name, const char *hdr_val,
    const char *fmt, ...)
{
	char buf[2048];
	struct MHD_Response *r;
	enum MHD_Result ret;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	r = MHD_create_response_from_buffer((size_t)n, buf, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	(void)MHD_add_response_header(r, "Content-Type", "application/json");
	(void)MHD_add_response_header(r, "OData-Version", "4.0");
	if (hdr_name)
		(void)MHD_add_response_header(r, hdr_name, hdr_val);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The login body's field as a JSON string, "" when missing (bootsvc sends plain
 * {"UserName":"..","Password":".."} from json_pack: no escapes in the bench's values). */
static void
field(const char *body, const char *name, char *ret, size_t size)
{
	char key[64];
	const char *p, *e;

	ret[0] = '\0';
	(void)snprintf(key, sizeof(key), "\"%s\":\"", name);
	if (!(p = strstr(body, key)))
		return;
	p += strlen(key);
	if (!(e = strchr(p, '"')) || (size_t)(e - p) >= size)
		return;
	memcpy(ret, p, (size_t)(e - p));
	ret[e - p] = '\0';
}

static bool
authed(struct MHD_Connection *c)
{
	const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Auth-Token");

	return tok && strncmp(tok, token_prefix, strlen(token_prefix)) == 0;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct bmc *b = cls;
	struct req *q = *con_cls;

	(void)version;
	if (!q) {
		if (!(q = calloc(1, sizeof(*q))))
			return MHD_NO;
		*con_cls = q;
		return MHD_YES;
	}
	if (*upload_size) {
		if (*upload_size > MAX_BODY - q->len)
			q->too_big = true;
		else {
			memcpy(q->body + q->len, upload, *upload_size);
			q->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	q->body[q->len] = '\0';
	if (strcmp(method, "GET") == 0 && strcmp(url, ROOT) == 0)
		return send_json(c, 200, NULL, NULL,
		    "{\"@odata.id\":\"" ROOT "\",\"@odata.type\":\"#ServiceRoot.v1_5_0.ServiceRoot\","
		    "\"Id\":\"RootService\",\"RedfishVersion\":\"1.8.0\","
		    "\"Systems\":{\"@odata.id\":\"" ROOT "/Systems\"},"
		    "\"SessionService\":{\"@odata.id\":\"" ROOT "/SessionService\"},"
		    "\"Links\":{\"Sessions\":{\"@odata.id\":\"" SESSIONS "\"}}}");
	if (strcmp(method, "POST") == 0 && strcmp(url, SESSIONS) == 0) {
		char u[64], p[64], tok[64], loc[128];
		unsigned long sid;

		field(q->body, "UserName", u, sizeof(u));
		field(q->body, "Password", p, sizeof(p));
		if (q->too_big || strcmp(u, user) != 0 || strcmp(p, password) != 0)
			return send_json(c, 401, NULL, NULL,
			    "{\"error\":{\"code\":\"Base.1.8.NoValidSession\"}}");
		pthread_mutex_lock(&session_lock);
		sid = ++next_session;
		pthread_mutex_unlock(&session_lock);
		(void)snprintf(tok, sizeof(tok), "%s%lx", token_prefix, sid);
		(void)snprintf(loc, sizeof(loc), SESSIONS "/%lu", sid);
		{
			struct MHD_Response *r;
			char buf[256];
			enum MHD_Result ret;
			int n = snprintf(buf, sizeof(buf),
			    "{\"@odata.id\":\"%s\",\"Id\":\"%lu\",\"UserName\":\"%s\"}", loc, sid, u);

			r = MHD_create_response_from_buffer((size_t)n, buf, MHD_RESPMEM_MUST_COPY);
			if (!r)
				return MHD_NO;
			(void)MHD_add_response_header(r, "Content-Type", "application/json");
			(void)MHD_add_response_header(r, "X-Auth-Token", tok);
			(void)MHD_add_response_header(r, "Location", loc);
			ret = MHD_queue_response(c, 201, r);
			MHD_destroy_response(r);
			return ret;
		}
	}
	if (!authed(c))
		return send_json(c, 401, NULL, NULL, "{\"error\":{\"code\":\"Base.1.8.NoValidSession\"}}");
	if (strcmp(method, "DELETE") == 0 && strncmp(url, SESSIONS "/", strlen(SESSIONS) + 1) == 0)
		return send_json(c, 200, NULL, NULL, "{}");
	if (strcmp(method, "GET") == 0 && strcmp(url, ROOT "/Systems") == 0)
		return send_json(c, 200, NULL, NULL,
		    "{\"@odata.id\":\"" ROOT "/Systems\",\"Members\":[{\"@odata.id\":\"" SYS "\"}],"
		    "\"Members@odata.count\":1}");
	if (strcmp(method, "GET") == 0 && strcmp(url, SYS) == 0)
		return send_json(c, 200, NULL, NULL,
		    "{\"@odata.id\":\"" SYS "\",\"@odata.type\":\"#ComputerSystem.v1_13_0.ComputerSystem\","
		    "\"Id\":\"1\",\"Name\":\"node\",\"PowerState\":\"%s\","
		    "\"Actions\":{\"#ComputerSystem.Reset\":{\"target\":\"" SYS
		    "/Actions/ComputerSystem.Reset\",\"ResetType@Redfish.AllowableValues\":"
		    "[\"On\",\"ForceOff\",\"ForceRestart\"]}}}",
		    b->on ? "On" : "Off");
	return send_json(c, 404, NULL, NULL, "{\"error\":{\"code\":\"Base.1.8.ResourceMissing\"}}");
}

static void
done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	(void)cls, (void)c, (void)t;
	free(*con_cls);
	*con_cls = NULL;
}

static int
hang_socket(struct in_addr a, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = a };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, HANG_BACKLOG) < 0)
		return -errno;
	return fd; /* never accepted from: a BMC that takes TCP and says nothing */
}

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: redfish_bench --cert PEM --key PEM --password P [--user U] [--port N] "
		   "[--hang ADDR]... ADDR...\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "user", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ "port", required_argument, NULL, 'P' },
		{ "hang", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct bmc bmcs[MAX_BMCS];
	const char *cert_path = NULL, *key_path = NULL, *hang[MAX_BMCS];
	char *cert = NULL, *key = NULL;
	size_t nhang = 0, nb = 0, nup = 0;
	unsigned long port = 443;
	struct dl_err e = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': cert_path = optarg; break;
		case 'k': key_path = optarg; break;
		case 'u': user = optarg; break;
		case 'p': password = optarg; break;
		case 'P':
			port = strtoul(optarg, NULL, 10);
			if (port == 0 || port > 65535)
				return usage(stderr), 2;
			break;
		case 'H':
			if (nhang == MAX_BMCS)
				return fprintf(stderr, "redfish_bench: over %d --hang\n", MAX_BMCS), 2;
			hang[nhang++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!cert_path || !key_path || !password || optind == argc)
		return usage(stderr), 2;
	if (argc - optind > MAX_BMCS)
		return fprintf(stderr, "redfish_bench: over %d addresses\n", MAX_BMCS), 2;
	if (read_file(cert_path, MAX_PEM, READ_FILE_REGULAR, &cert, NULL, &e) < 0 ||
	    read_file(key_path, MAX_PEM, READ_FILE_REGULAR, &key, NULL, &e) < 0)
		return fprintf(stderr, "redfish_bench: %s\n", e.msg), 1;
	{
		FILE *r = fopen("/dev/urandom", "re");
		unsigned char rnd[8];

		if (!r || fread(rnd, 1, sizeof(rnd), r) != sizeof(rnd))
			return fprintf(stderr, "redfish_bench: /dev/urandom\n"), 1;
		fclose(r);
		for (size_t i = 0; i < sizeof(rnd); i++)
			(void)snprintf(token_prefix + 2 * i, 3, "%02x", rnd[i]);
	}
	{
		/* Each daemon holds a listening socket, a wake-up pipe and its connections:
		 * 200 BMCs pass the usual soft limit of 1024 descriptors. */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	for (int i = optind; i < argc; i++, nb++) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		bool hung = false;

		if (inet_pton(AF_INET, argv[i], &sin.sin_addr) != 1)
			return fprintf(stderr, "redfish_bench: '%s' is no IPv4 address\n", argv[i]), 2;
		bmcs[nb] = (struct bmc){ .addr = sin.sin_addr, .on = (nb % 2) == 0 };
		for (size_t h = 0; h < nhang; h++)
			hung |= strcmp(hang[h], argv[i]) == 0;
		if (hung) {
			int fd = hang_socket(sin.sin_addr, (uint16_t)port);

			if (fd < 0)
				return fprintf(stderr, "redfish_bench: %s: %s\n", argv[i],
					   strerror(-fd)), 1;
		} else if (!MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD |
			       MHD_USE_TLS | MHD_USE_ERROR_LOG,
			       (uint16_t)port, NULL, NULL, handle, &bmcs[nb],
			       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
			       MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
			       MHD_OPTION_NOTIFY_COMPLETED, done, NULL,
			       MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END)) {
			return fprintf(stderr, "redfish_bench: %s:%lu: cannot serve\n", argv[i], port), 1;
		}
		nup++;
	}
	printf("ready %zu\n", nup);
	fflush(stdout);
	/* Daemons and hanging sockets live until the process ends: the kernel closes them. */
	while (!stop)
		pause();
	return 0;
}
