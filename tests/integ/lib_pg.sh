# A real PostgreSQL server for a test (issue 15): Debian's postgresql, a cluster made by
# initdb in a temp dir of the test's own, started by pg_ctl as the postgres user (the
# server refuses to run as root), fsync off (a test's data need not survive the machine).
# It listens on a Unix socket in its dir and, when given an address, on TCP there too:
# inside the test's namespace when started with PG_NETNS set. Authentication is a
# password (scram-sha-256) for TCP and trust on the socket, so a URL with a password is
# what bootsvc gets, as a site would give it.
#
#   pg_start DIR [ADDR]    make and start a cluster in DIR (must not exist); sets PG_DIR,
#                          PG_SOCK (the socket dir), PG_PORT, PG_PID (the postmaster)
#   pg_url DB [HOST]       a postgresql:// URL for database DB as user diskless, over
#                          TCP to HOST or over the socket when HOST is empty
#   pg_createdb DB         a new empty database owned by diskless
#   pg_psql DB SQL         run SQL as the superuser, print the rows unaligned
#   pg_stop                stop it (fast shutdown), also when it is already gone
#   pg_kill                kill -9 the postmaster (a crash); pg_restart starts it again
# DIR's parents must be searchable by postgres (a test's DL_W is 0755). Cleanup: pg_stop is
# safe to call from an EXIT trap; the caller removes DIR.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_PORT=${PG_PORT:-5432}
PG_PASSWORD=dl-test-pw
PG_DIR= PG_SOCK= PG_PID= PG_ADDR=

# as_pg CMD...: CMD as the postgres user, in PG_NETNS when set.
as_pg() {
	if [[ -n ${PG_NETNS:-} ]]; then
		ip netns exec "$PG_NETNS" runuser -u postgres -- "$@"
	else
		runuser -u postgres -- "$@"
	fi
}

pg_start() {
	PG_DIR=$1 PG_ADDR=${2:-}
	PG_SOCK=$PG_DIR/sock
	[[ -x $PG_BIN/initdb ]] || { echo "lib_pg: no initdb under /usr/lib/postgresql: apt-get install postgresql" >&2; return 1; }
	mkdir -p "$PG_DIR" "$PG_SOCK"
	chown postgres: "$PG_DIR" "$PG_SOCK"
	chmod 755 "$PG_DIR" "$PG_SOCK"
	as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth-local=trust \
	    --auth-host=scram-sha-256 -E UTF8 --no-instructions >"$PG_DIR/initdb.log" 2>&1 ||
	    { cat "$PG_DIR/initdb.log" >&2; return 1; }
	cat >>"$PG_DIR/data/postgresql.conf" <<EOC
# tests/integ/lib_pg.sh
listen_addresses = '${PG_ADDR}'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 32MB
log_min_messages = warning
EOC
	echo "host all all 0.0.0.0/0 scram-sha-256" >>"$PG_DIR/data/pg_hba.conf"
	pg_restart || return 1
	pg_psql postgres "CREATE ROLE diskless LOGIN PASSWORD '$PG_PASSWORD'" >/dev/null
}

pg_restart() {
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 start \
	    >/dev/null || { tail -n 20 "$PG_DIR/server.log" >&2; return 1; }
	PG_PID=$(head -n 1 "$PG_DIR/data/postmaster.pid")
}

pg_url() {
	local db=$1 host=${2:-}
	if [[ -n $host ]]; then
		echo "postgresql://diskless:$PG_PASSWORD@$host:$PG_PORT/$db"
	else
		echo "postgresql://diskless@/$db?host=$PG_SOCK&port=$PG_PORT"
	fi
}

pg_psql() {
	as_pg "$PG_BIN/psql" -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d "$1" -X -q -At \
	    -v ON_ERROR_STOP=1 -c "$2"
}

pg_createdb() {
	pg_psql postgres "CREATE DATABASE \"$1\" OWNER diskless TEMPLATE template0" >/dev/null
}

pg_stop() {
	[[ -n $PG_DIR && -f $PG_DIR/data/postmaster.pid ]] || return 0
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
	    { [[ -n $PG_PID ]] && kill -9 "$PG_PID" 2>/dev/null; }
	return 0
}

pg_kill() {
	[[ -n $PG_PID ]] && kill -9 "$PG_PID" 2>/dev/null
	# its backends end once they see the postmaster gone; the pid file stays (a crash)
	for _ in $(seq 50); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
	return 0
}
