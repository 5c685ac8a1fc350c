# Simulated BMCs for the integration tests (issue #4 item 4): one OpenIPMI ipmi_sim per
# node, on its own address on the test bridge br0, whose power really starts and stops a
# PXE-booting qemu node. With BMC_PROTO=redfish (issue 17) each BMC is a Redfish one
# instead: tests/tools/redfish_sim.py on IP:443 over TLS, driving the same qemu through the
# same chassis-control program; tests then name the BMC by dl_bmc_addr. Source it after
# lib.sh and dl_setup; then
#   dl_bmc NAME IP MAC bios|uefi [MEM]   start NAME's BMC at IP (node off, console $DL_W/NAME.log)
#   dl_bmc_pid NAME                      the ipmi_sim pid (kill -STOP/-CONT it: unreachable BMC)
#   dl_bmc_cmd NAME "CMD" ...            ipmi_sim console commands; fails on '**' errors
#   dl_bmc_power_count NAME              how many times NAME's qemu was started
#   dl_bmc_reset_count NAME              how many hard resets reached the running qemu
#   dl_bmc_booted_from NAME              boot device of the last power-on: pxe, default, ...
#   dl_bmc_qemu_pid NAME                 pid of NAME's running qemu, or nothing
#   dl_bmc_pass NAME                     the admin password (also in $DL_W/NAME.creds);
#                                        DL_BMC_LONG_PASS=1 dl_bmc ...: 100 bytes (Redfish)
#   dl_bmc_addr NAME                     the BMC as a node's --bmc names it: IP, or
#                                        redfish://IP for a Redfish BMC
#   (BMC_PROTO=ipmi dl_bmc ... in a Redfish run, or the reverse, makes a mixed fleet)
#   dl_bmc_fault NAME 503|hang|garbage|cert|""  Redfish only: inject a fault (none: "")
#   dl_bmc_sensor NAME temp|fan|power VALUE     a reading, on either kind of BMC
#   dl_bmc_sel NAME ecc_correctable|ecc_uncorrectable [deassert]  a log entry, either kind
#   dl_bmc_sel_clear NAME                       the log emptied, either kind
# Credentials: $DL_W/NAME.creds (user admin, Administrator) and $DL_W/NAME-viewer.creds
# (user viewer, User privilege only), both root-owned 0600 as bmc_creds_load() demands.
# A Redfish BMC's credentials carry its key pin (pin=); $DL_W/NAME-ca.creds has none, for
# checking the certificate against the test CA $DL_W/bmc-ca.pem instead.
#
# Power goes through a chassis_control program (lab doc "Boot device"): ipmi_sim runs it
# for every power, reset and boot-option request, and only that path implements Set System
# Boot Options. The program starts qemu in ipmi_sim's process group, so killing the group
# (each ipmi_sim leads its own, via setsid) ends the BMC and its node together.

BMC_PROTO=${BMC_PROTO:-ipmi}
[[ $BMC_PROTO == ipmi || $BMC_PROTO == redfish ]] ||
    { echo "BMC_PROTO must be ipmi or redfish, not '$BMC_PROTO'" >&2; exit 1; }
DL_BMC_NAMES=()
DL_BMC_PGIDS=()
DL_BMC_N=0
# Ports on the namespace's loopback: ipmi_sim console and qemu's HMP monitor, per BMC.
DL_BMC_CON_BASE=9100
DL_BMC_MON_BASE=9300

# The EXIT trap of lib.sh's dl_setup ends only the pids in DL_PIDS, one by one; a BMC is
# a process group (ipmi_sim + the qemu its chassis_control program started, which is not
# our child). So wrap the trap: our groups die first, then dl_cleanup runs as before and
# still sees the test's exit status.
dl_bmc_cleanup() {
	local pg t alive
	((${#DL_BMC_PGIDS[@]})) || return 0
	for pg in "${DL_BMC_PGIDS[@]}"; do
		kill -TERM -- "-$pg" 2>/dev/null
		kill -CONT -- "-$pg" 2>/dev/null # a SIGSTOPped ipmi_sim cannot act on TERM
	done
	for t in $(seq 50); do
		alive=$(ps -e -o pgid=,stat= | awk -v gs="${DL_BMC_PGIDS[*]}" \
		    'BEGIN { n = split(gs, a, " "); for (i = 1; i <= n; i++) G[a[i]] = 1 }
		     ($1 in G) && $2 !~ /^Z/ { c++ } END { print c + 0 }')
		((alive == 0)) && break
		sleep 0.1
	done
	if ((alive)); then
		for pg in "${DL_BMC_PGIDS[@]}"; do kill -KILL -- "-$pg" 2>/dev/null; done
	fi
	for pg in "${DL_BMC_PGIDS[@]}"; do wait "$pg" 2>/dev/null; done
	DL_BMC_PGIDS=()
}

_dl_bmc_exit() {
	local rc=$?
	set +e
	dl_bmc_cleanup
	(exit "$rc")
	dl_cleanup
}

_dl_bmc_dir() { echo "$DL_W/bmc-$1"; }

# The emulated BMC (mc 0x20) with a SEL and four sensors for health and energy tests:
# 1 CPU Temp (threshold, raw = degrees C, UNC 75 UC 85 UNR 95), 2 Fan1 (RPM = raw * 60,
# LNC 1800 LC 1200), 3 DIMM ECC (memory, offset 0 correctable, 1 uncorrectable), 4 Pwr
# Consumption (watts = raw * 2, 120 W; no thresholds). Sensors 1-3 as in the lab's
# ipmi-bmc.sh; SDRs must be added before sensor_add reads them (lab doc).
_dl_bmc_emu() {
	[[ -f $DL_W/bmc.emu ]] && return 0
	cat > "$DL_W/bmc.sdrs" <<'EOF'
sdr type 18
	device_slave_address	0x20
	device_channel_number	0
	chassis			true
	ipmb_event_gen		true
	ipmb_event_recv		true
	fru_inventory		false
	sel			true
	sdr			true
	sensor			true
	entity_id		system_board
	entity_instance		1
	id_string		"diskless-bmc"
endsdr
sdr type 3
	sensor_owner_id		0x20
	sensor_owner_lun	0
	channel_number		0
	sensor_number		0
	entity_id		system_board
	entity_instance		1
	sensor_type		Watchdog_2
	event_reading_type_code	0x6f
	id_string		"Watchdog"
endsdr
sdr type 1
	sensor_owner_id		0x20
	sensor_owner_lun	0
	channel_number		0
	sensor_number		1
	entity_id		processor
	entity_instance		1
	init_scanning		true
	init_events		true
	init_thresholds		true
	init_hysteresis		true
	init_sensor_type	true
	default_event_gen_on	true
	default_sensor_scan_on	true
	sensor_auto_rearm	true
	sensor_hysteresis	readable
	sensor_threshold_access	settable
	sensor_event_msg_ctrl	per_state
	sensor_type		Temperature
	event_reading_type_code	1
	assert_uncgh		true
	assert_ucgh		true
	assert_unrgh		true
	deassert_uncgh		true
	deassert_ucgh		true
	deassert_unrgh		true
	return_unc		true
	return_uc		true
	return_unr		true
	unc_thrsh_readable	true
	uc_thrsh_readable	true
	unr_thrsh_readable	true
	unc_thrsh_settable	true
	uc_thrsh_settable	true
	unr_thrsh_settable	true
	analog_data_format	unsigned
	rate_unit		none
	modifier_unit		none
	percentage		false
	base_unit		degrees_C
	modifier_unit_code	unspecified
	linearization		linear
	m			1
	tolerance		0
	b			0
	accuracy		1
	accuracy_exp		0
	sensor_direction	input
	r_exp			0
	b_exp			0
	sensor_maximum		255
	sensor_minimum		0
	unr_thresh		95
	uc_thresh		85
	unc_thresh		75
	positive_hysteresis	2
	negative_hysteresis	2
	id_string		"CPU Temp"
endsdr
sdr type 1
	sensor_owner_id		0x20
	sensor_owner_lun	0
	channel_number		0
	sensor_number		2
	entity_id		fan_cooling_device
	entity_instance		1
	init_scanning		true
	init_events		true
	init_thresholds		true
	init_hysteresis		true
	init_sensor_type	true
	default_event_gen_on	true
	default_sensor_scan_on	true
	sensor_auto_rearm	true
	sensor_hysteresis	readable
	sensor_threshold_access	settable
	sensor_event_msg_ctrl	per_state
	sensor_type		Fan
	event_reading_type_code	1
	assert_lncgl		true
	assert_lcgl		true
	deassert_lncgl		true
	deassert_lcgl		true
	return_lnc		true
	return_lc		true
	lnc_thrsh_readable	true
	lc_thrsh_readable	true
	lnc_thrsh_settable	true
	lc_thrsh_settable	true
	analog_data_format	unsigned
	rate_unit		none
	modifier_unit		none
	percentage		false
	base_unit		RPM
	modifier_unit_code	unspecified
	linearization		linear
	m			60
	tolerance		0
	b			0
	accuracy		1
	accuracy_exp		0
	sensor_direction	input
	r_exp			0
	b_exp			0
	sensor_maximum		255
	sensor_minimum		0
	lc_thresh		20
	lnc_thresh		30
	positive_hysteresis	1
	negative_hysteresis	1
	id_string		"Fan1"
endsdr
sdr type 2
	sensor_owner_id		0x20
	sensor_owner_lun	0
	channel_number		0
	sensor_number		3
	entity_id		memory_module
	entity_instance		1
	init_scanning		true
	init_events		true
	init_sensor_type	true
	default_event_gen_on	true
	default_sensor_scan_on	true
	sensor_event_msg_ctrl	per_state
	sensor_type		Memory
	event_reading_type_code	0x6f
	assert_event0		true
	assert_event1		true
	deassert_event0		true
	deassert_event1		true
	event0_state_ret	true
	event1_state_ret	true
	id_string		"DIMM ECC"
endsdr
sdr type 1
	sensor_owner_id		0x20
	sensor_owner_lun	0
	channel_number		0
	sensor_number		4
	entity_id		power_supply
	entity_instance		1
	init_scanning		true
	init_sensor_type	true
	default_sensor_scan_on	true
	sensor_type		Power_Supply
	event_reading_type_code	1
	analog_data_format	unsigned
	rate_unit		none
	modifier_unit		none
	percentage		false
	base_unit		Watts
	modifier_unit_code	unspecified
	linearization		linear
	m			2
	tolerance		0
	b			0
	accuracy		1
	accuracy_exp		0
	sensor_direction	input
	r_exp			0
	b_exp			0
	sensor_maximum		255
	sensor_minimum		0
	id_string		"Pwr Consumption"
endsdr
EOF
	# -8: 8-bit ASCII names (sdrcomp packs all-upper-case names as 6-bit otherwise)
	sdrcomp -r -8 -o "$DL_W/bmc.bsdr" "$DL_W/bmc.sdrs" || fail "sdrcomp of the BMC's SDRs"
	{
		echo 'mc_setbmc 0x20'
		echo 'mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02'
		echo 'sel_enable 0x20 1000 0x0a'
		od -An -v -tu1 "$DL_W/bmc.bsdr" | awk '{ for (i = 1; i <= NF; i++) b[n++] = $i }
		    END { for (p = 0; p < n; p += len) { len = b[p + 4] + 5; s = "main_sdr_add 0x20"
			for (i = p; i < p + len; i++) s = s sprintf(" 0x%02x", b[i]); print s } }'
		echo 'sensor_add 0x20 0 0 0x23 0x6f event-only'
		echo 'sensor_add 0x20 0 1 0x01 0x01'
		echo 'sensor_set_value 0x20 0 1 40 0'
		echo 'sensor_add 0x20 0 2 0x04 0x01'
		echo 'sensor_set_value 0x20 0 2 80 0'
		echo 'sensor_add 0x20 0 3 0x0c 0x6f'
		echo 'sensor_add 0x20 0 4 0x08 0x01'
		echo 'sensor_set_value 0x20 0 4 60 0'
		echo 'mc_enable 0x20'
	} > "$DL_W/bmc.emu"
}

# _dl_bmc_chassis_control DIR MONPORT QEMU-ARGS...: write DIR/chassis-control, the program
# ipmi_sim runs as `chassis-control get power boot`, `set power 0|1`, `set boot pxe`,
# `set reset 1`. ipmi_sim waits for it (popen) and reads "key:value" lines from its stdout,
# so qemu gets its own stdio and the program returns at once.
_dl_bmc_chassis_control() {
	local d=$1 mon=$2
	shift 2
	{
		echo '#!/bin/bash'
		echo "# ipmi_sim chassis_control program, generated by tests/integ/lib_bmc.sh"
		printf 'd=%q mon=%q\n' "$d" "$mon"
		printf 'qemu=('; printf '%q ' "$@"; printf ')\n'
		cat <<'EOC'
op=$1
shift
pid() { cat "$d/qemu.pid" 2>/dev/null; }
# a pid file alone is not proof: the qemu may have exited and its pid been reused
running() { local p; p=$(pid) && [[ -n $p ]] && grep -qa qemu-system "/proc/$p/cmdline" 2>/dev/null; }
power_on() {
	running && return 0
	local boot
	boot=$(cat "$d/boot" 2>/dev/null || echo default)
	# the boot flag is valid for the next boot only (IPMI 2.0 §28.13)
	echo default > "$d/boot"
	echo "$boot" >> "$d/power-ons"
	"${qemu[@]}" </dev/null >>"$d/console" 2>&1 &
	echo $! > "$d/qemu.pid"
}
power_off() {
	local p i
	running || { rm -f "$d/qemu.pid"; return 0; }
	p=$(pid)
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 50); do running || break; sleep 0.1; done
	running && kill -KILL "$p" 2>/dev/null
	rm -f "$d/qemu.pid"
}
# hard reset: the guest reboots inside the same qemu (HMP system_reset), as on hardware
reset() {
	running || { power_on; return 0; }
	exec 3<>"/dev/tcp/127.0.0.1/$mon" || return 1
	printf 'system_reset\n' >&3
	sleep 0.2
	exec 3>&-
	echo reset >> "$d/resets"
}
case $op in
get)
	for k in "$@"; do
		case $k in
		power) if running; then echo power:1; else echo power:0; fi ;;
		boot) echo "boot:$(cat "$d/boot" 2>/dev/null || echo default)" ;;
		esac
	done ;;
set)
	# a BMC slow once (a test writes seconds to $d/slow): it answers the next request
	# later than the client's retransmission interval, so that request arrives twice
	if [[ -s $d/slow ]]; then s=$(cat "$d/slow"); rm -f "$d/slow"; sleep "$s"; fi
	while (($# >= 2)); do
		case $1 in
		power) if [[ $2 == 1 ]]; then power_on; else power_off; fi ;;
		boot) echo "$2" > "$d/boot" ;;
		reset) reset ;;
		esac
		shift 2
	done ;;
esac
exit 0
EOC
	} > "$d/chassis-control"
	chmod 755 "$d/chassis-control"
}

# _dl_bmc_lan NAME IP: the start of an ipmi_sim config (lan.conf) for BMC NAME: its LAN
# channel on IP:623 with the lab's authentication settings (shared/lab/ipmi-bmc.md); the
# caller appends its power control and users. Also bench/run.sh's.
_dl_bmc_lan() {
	cat <<EOF
name "$1"
set_working_mc 0x20
  startlan 1
    addr $2 623
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
EOF
}

# dl_bmc NAME IP MAC bios|uefi [MEM]
dl_bmc() {
	local name=$1 ip=$2 mac=$3 fw=$4 mem=${5:-768}
	local d con mon pass args tool
	[[ -n $DL_NS && -n $DL_W ]] || fail "dl_bmc: call dl_setup first"
	for tool in ipmi_sim sdrcomp; do
		[[ $BMC_PROTO == redfish ]] && break
		command -v $tool >/dev/null || fail "missing tool '$tool': apt-get install openipmi"
	done
	if [[ $BMC_PROTO == redfish ]]; then
		command -v python3 >/dev/null || fail "missing python3: apt-get install python3"
		command -v openssl >/dev/null || fail "missing openssl: apt-get install openssl"
	fi
	((DL_BMC_N == 0)) && trap _dl_bmc_exit EXIT
	[[ $BMC_PROTO == ipmi ]] && _dl_bmc_emu
	d=$(_dl_bmc_dir "$name")
	con=$((DL_BMC_CON_BASE + DL_BMC_N))
	mon=$((DL_BMC_MON_BASE + DL_BMC_N))
	DL_BMC_N=$((DL_BMC_N + 1))
	mkdir -p "$d/state"
	# per BMC, so a test may mix them: BMC_PROTO=ipmi dl_bmc ... in a Redfish run
	echo "$BMC_PROTO" > "$d/proto"
	# a password per BMC (IPMI 2.0: at most 20 bytes), so crossed credentials fail;
	# DL_BMC_LONG_PASS=1 gives a Redfish BMC one of 100 bytes (bootsvc takes up to 128
	# for Redfish, power.h MAX_BMC_PASS)
	pass="pw-$name-$RANDOM"
	pass=${pass:0:20}
	if [[ ${DL_BMC_LONG_PASS:-0} == 1 && $BMC_PROTO == redfish ]]; then
		pass="$pass-$(openssl rand -hex 60)"
		pass=${pass:0:100}
	fi

	# the node, exactly like dl_qemu but without -no-reboot (a BMC hard reset must reboot
	# the guest, not end qemu). -nographic is what makes SeaBIOS and iPXE print on the
	# serial port (sercon); its stdio is the console file, not ipmi_sim's (lab pitfall 8).
	args=(qemu-system-x86_64 -accel tcg -m "$mem" -nographic -boot n
		-monitor "tcp:127.0.0.1:$mon,server=on,wait=off"
		-netdev "tap,id=n0,ifname=$name,script=no,downscript=no")
	dl_qemu_fw args "$name" "$fw" "$mac"
	dl_tap "$name"
	# the console accumulates over power-ons (qemu appends to $d/console); NAME.log
	# is a link so dl_console_has and dl_cleanup's failure dump find it
	: > "$d/console"
	ln -sf "$d/console" "$DL_W/$name.log"
	_dl_bmc_chassis_control "$d" "$mon" "${args[@]}"

	{ _dl_bmc_lan "$name" "$ip"; cat <<EOF; } > "$d/lan.conf"
  chassis_control "$d/chassis-control"
  user 2 true "admin" "$pass" admin 10 md5
  user 3 true "viewer" "$pass" user 10 md5
console 127.0.0.1 $con
EOF
	(umask 077
	 printf 'user=admin\npassword=%s\ncipher=3\n' "$pass" > "$DL_W/$name.creds"
	 printf 'user=viewer\npassword=%s\n' "$pass" > "$DL_W/$name-viewer.creds")
	echo "$pass" > "$d/pass"
	echo "$ip" > "$d/ip"
	echo "$con" > "$d/con"

	ip -n "$DL_NS" addr add "$ip/24" dev br0
	if [[ $BMC_PROTO == redfish ]]; then
		_dl_bmc_redfish "$name" "$ip" "$d" "$pass"
		return
	fi
	# setsid execs in place here (a background subshell is no group leader), so $! is
	# ipmi_sim itself and leads a new process group that its qemu will share
	(cd "$d" && exec setsid ip netns exec "$DL_NS" ipmi_sim -n -c "$d/lan.conf" \
	    -f "$DL_W/bmc.emu" -s "$d/state" </dev/null >>"$DL_W/$name-bmc.log" 2>&1) &
	echo $! > "$d/pid"
	DL_BMC_PGIDS+=("$!")
	DL_BMC_NAMES+=("$name")
	_dl_bmc_up() {
		dl_ns ss -Hlun "src $1:623" | grep -q . &&
		    dl_ns ss -Hltn "sport = :$2" | grep -q .
	}
	dl_wait 10 "BMC $name listening on $ip:623" _dl_bmc_up "$ip" "$con"
}

# _dl_bmc_redfish NAME IP DIR PASS: NAME's BMC as tests/tools/redfish_sim.py on IP:443,
# with a certificate for IP from the test CA, a second self-signed one for the "cert"
# fault, and the key pin in NAME.creds.
_dl_bmc_redfish() {
	local name=$1 ip=$2 d=$3 pass=$4 pin
	if [[ ! -f $DL_W/bmc-ca.pem ]]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		    -subj "/CN=diskless test BMC CA" -keyout "$DL_W/bmc-ca.key" \
		    -out "$DL_W/bmc-ca.pem" 2>/dev/null || fail "openssl: test BMC CA"
	fi
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$ip" \
	    -keyout "$d/key.pem" -out "$d/req.pem" 2>/dev/null || fail "openssl: $name key"
	printf 'subjectAltName=IP:%s\n' "$ip" > "$d/ext"
	openssl x509 -req -in "$d/req.pem" -CA "$DL_W/bmc-ca.pem" -CAkey "$DL_W/bmc-ca.key" \
	    -CAcreateserial -days 2 -extfile "$d/ext" -out "$d/cert.pem" 2>/dev/null ||
	    fail "openssl: $name certificate"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	    -subj "/CN=$ip" -addext "subjectAltName=IP:$ip" -keyout "$d/alt-key.pem" \
	    -out "$d/alt-cert.pem" 2>/dev/null || fail "openssl: $name second certificate"
	pin=$(openssl x509 -in "$d/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	    openssl dgst -sha256 -binary | base64)
	(umask 077
	 printf 'user=admin\npassword=%s\npin=sha256//%s\n' "$pass" "$pin" > "$DL_W/$name.creds"
	 printf 'user=viewer\npassword=%s\npin=sha256//%s\n' "$pass" "$pin" > "$DL_W/$name-viewer.creds"
	 printf 'user=admin\npassword=%s\n' "$pass" > "$DL_W/$name-ca.creds")
	: > "$d/fault"
	(cd "$d" && exec setsid ip netns exec "$DL_NS" python3 "$REPO/tests/tools/redfish_sim.py" \
	    --addr "$ip" --port 443 --cert "$d/cert.pem" --key "$d/key.pem" \
	    --alt-cert "$d/alt-cert.pem" --alt-key "$d/alt-key.pem" --user admin \
	    --password "$pass" --chassis-control "$d/chassis-control" --dir "$d" \
	    ${DL_BMC_REDFISH_ARGS:-} </dev/null >>"$DL_W/$name-bmc.log" 2>&1) &
	echo $! > "$d/pid"
	DL_BMC_PGIDS+=("$!")
	DL_BMC_NAMES+=("$name")
	_dl_bmc_rf_up() { dl_ns ss -Hltn "src $1:443" | grep -q .; }
	dl_wait 20 "Redfish BMC $name listening on $ip:443" _dl_bmc_rf_up "$ip"
}

_dl_bmc_proto() { cat "$(_dl_bmc_dir "$1")/proto"; }
dl_bmc_addr() { if [[ $(_dl_bmc_proto "$1") == redfish ]]; then echo "redfish://$(dl_bmc_ip "$1")"; else dl_bmc_ip "$1"; fi; }
dl_bmc_fault() {
	[[ $(_dl_bmc_proto "$1") == redfish ]] || fail "dl_bmc_fault: Redfish BMCs only"
	printf '%s\n' "$2" > "$(_dl_bmc_dir "$1")/fault"
}
# dl_bmc_sensor NAME temp|fan|power VALUE: degrees C, RPM, watts, on either kind of BMC
# (ipmi_sim takes raw values: the SDRs' factors are 1, 60 and 2)
dl_bmc_sensor() {
	local name=$1 what=$2 v=$3 rf num raw
	case $what in
	temp) rf="CPU Temp" num=1 raw=$v ;;
	fan) rf="Fan1" num=2 raw=$((v / 60)) ;;
	power) rf="Pwr Consumption" num=4 raw=$((v / 2)) ;;
	*) fail "dl_bmc_sensor: unknown sensor '$what'" ;;
	esac
	if [[ $(_dl_bmc_proto "$name") == redfish ]]; then
		local f
		f="$(_dl_bmc_dir "$name")/sensors"
		{ grep -v "^$rf " "$f" 2>/dev/null; echo "$rf $v"; } > "$f.new" && mv "$f.new" "$f"
	else
		dl_bmc_cmd "$name" "sensor_set_value 0x20 0 $num $raw 1" >/dev/null
	fi
}
# dl_bmc_sel NAME ecc_correctable|ecc_uncorrectable [deassert]: one memory event in the
# BMC's log, as a real BMC logs it (IPMI: a SEL record; Redfish: a LogEntry of type SEL)
dl_bmc_sel() {
	local name=$1 cls=$2 dir=${3:-assert} off key msg sev
	case $cls in
	ecc_correctable) off=0x00 key=MemoryECCCorrectable msg="Correctable ECC" sev=Warning ;;
	ecc_uncorrectable) off=0x01 key=MemoryECCUncorrectable msg="Uncorrectable ECC" sev=Critical ;;
	*) fail "dl_bmc_sel: unknown class '$cls'" ;;
	esac
	if [[ $(_dl_bmc_proto "$name") == redfish ]]; then
		local code=Assert
		[[ $dir == deassert ]] && code=Deassert
		printf '{"Name":"DIMM ECC","SensorType":"Memory","EntryCode":"%s","MessageId":"OpenBMC.0.1.%s","Severity":"%s","Message":"%s"}\n' \
		    "$code" "$key" "$sev" "$msg" >> "$(_dl_bmc_dir "$name")/log"
	else
		local ed=0x6f
		[[ $dir == deassert ]] && ed=0xef
		dl_bmc_cmd "$name" "sel_add 0x20 0x02 0 0 0 0 0x20 0x00 0x04 0x0c 0x03 $ed $off 0xff 0xff" >/dev/null
	fi
}

# dl_bmc_sel_clear NAME: empty the BMC's event log (IPMI: Clear SEL; Redfish: the log
# starts again at id 1, as ClearLog does)
dl_bmc_sel_clear() {
	if [[ $(_dl_bmc_proto "$1") == redfish ]]; then
		: > "$(_dl_bmc_dir "$1")/log"
	else
		mkdir -p "$DL_W/sdr-ref"
		dl_bmc_fi ipmi-sel "$1" --sdr-cache-directory="$DL_W/sdr-ref" --quiet-cache --clear >/dev/null
	fi
}

dl_bmc_pid() { cat "$(_dl_bmc_dir "$1")/pid"; }
# dl_bmc_fi TOOL NAME ARGS...: FreeIPMI's TOOL (ipmipower, ipmi-config, ipmi-sensors, ...)
# on NAME as admin over IPMI 2.0, cipher 3, with opensesspriv (ipmi_sim's session
# privilege quirk), in the test netns.
dl_bmc_fi() {
	dl_ns "$1" -D LAN_2_0 -I 3 -W opensesspriv -u admin -p "$(dl_bmc_pass "$2")" \
	    -h "$(dl_bmc_ip "$2")" "${@:3}"
}
dl_bmc_pass() { cat "$(_dl_bmc_dir "$1")/pass"; }
dl_bmc_ip() { cat "$(_dl_bmc_dir "$1")/ip"; }
dl_bmc_power_count() { local f; f="$(_dl_bmc_dir "$1")/power-ons"; [[ -f $f ]] && wc -l <"$f" || echo 0; }
dl_bmc_reset_count() { local f; f="$(_dl_bmc_dir "$1")/resets"; [[ -f $f ]] && wc -l <"$f" || echo 0; }
dl_bmc_booted_from() { tail -n 1 "$(_dl_bmc_dir "$1")/power-ons" 2>/dev/null; }
dl_bmc_qemu_pid() {
	local p
	p=$(cat "$(_dl_bmc_dir "$1")/qemu.pid" 2>/dev/null) || return 0
	grep -qa qemu-system "/proc/$p/cmdline" 2>/dev/null && echo "$p"
	return 0
}

# dl_bmc_cmd NAME CMD...: emulator commands on NAME's ipmi_sim console (ipmi_sim_cmd(5)),
# e.g. "sensor_set_value 0x20 0 1 90 1". Prints the answers; fails if one starts with '**'
# (the console's only error signal, lab pitfall 12). Never send "quit": it ends ipmi_sim.
dl_bmc_cmd() {
	local name=$1 out
	shift
	out=$(dl_ns bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$(cat "$(_dl_bmc_dir "$name")/con")"' || exit 1
	    { echo noecho; for c in "$@"; do printf "%s\n" "$c"; done; } >&3
	    while IFS= read -r -t 0.5 l <&3; do printf "%s\n" "$l"; done' dl_bmc_cmd "$@" |
	    LC_ALL=C tr -d '\000-\011\013-\037\200-\377' | sed 's/^\(> \)*//; /^noecho$/d; /^$/d') ||
	    return 1
	[[ -n $out ]] && printf '%s\n' "$out"
	! grep -q '^\*\*' <<<"$out"
}
