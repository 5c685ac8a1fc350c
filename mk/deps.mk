# Dependencies come only through pkg-config; a missing one stops the build naming the
# Debian package to install (or run `make deps`).
PKG_DEBS := libmicrohttpd:libmicrohttpd-dev jansson:libjansson-dev sqlite3:libsqlite3-dev libpq:libpq-dev \
            libarchive:libarchive-dev libkmod:libkmod-dev cmocka:libcmocka-dev \
            libfreeipmi:libfreeipmi-dev libipmimonitoring:libipmimonitoring-dev \
            gnutls:libgnutls28-dev libvirt:libvirt-dev \
            libcurl:libcurl4-gnutls-dev

ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
$(foreach p,$(PKG_DEBS),$(if $(shell pkg-config --exists $(word 1,$(subst :, ,$(p))) && echo y),,\
  $(if $(filter check demo bench image fuzz fuzz-smoke,$(MAKECMDGOALS)),,\
  $(error missing $(word 1,$(subst :, ,$(p))): apt-get install $(word 2,$(subst :, ,$(p))) (or run make deps)))))
endif

pc = $(shell pkg-config $(1) $(2) 2>/dev/null)
# Each object gets the cflags of the libraries its directory uses, and no others, so a
# header of one library cannot leak into a part that does not link it.
CF_JANSSON := $(call pc,--cflags,jansson)
CF_MHD     := $(call pc,--cflags,libmicrohttpd)
CF_SQLITE  := $(call pc,--cflags,sqlite3)
# libpq for the store's PostgreSQL backend (bootsvc/store/store_pg*.c) only.
CF_PQ      := $(call pc,--cflags,libpq)
CF_IPMI    := $(call pc,--cflags,libfreeipmi libipmimonitoring)
CF_GNUTLS  := $(call pc,--cflags,gnutls)
# libvirt only for the vm room (bootsvc/vm/): nothing else sees its headers.
CF_VIRT    := $(call pc,--cflags,libvirt)
# libcurl only for the sync room (bootsvc/sync/): image versions fetched from peers.
CF_CURL    := $(call pc,--cflags,libcurl)
CF_IMGB    := $(call pc,--cflags,libarchive libkmod jansson)
CF_TEST    := $(call pc,--cflags,cmocka libmicrohttpd jansson sqlite3 libpq libarchive libkmod libfreeipmi libipmimonitoring gnutls libvirt libcurl)
$(BUILD)/obj/lib/%.o:                  OBJ_CFLAGS = $(CF_JANSSON)
# The CA code (nodectl tls, and bootsvc's certificates for VM hosts); only programs that
# link gnutls pull it out of the archive.
$(BUILD)/obj/lib/tls_pki.o:            OBJ_CFLAGS = $(CF_JANSSON) $(CF_GNUTLS)
$(BUILD)/obj/nodectl/%.o:              OBJ_CFLAGS = $(CF_JANSSON) $(CF_GNUTLS)
$(BUILD)/obj/imagebuild/%.o:           OBJ_CFLAGS = $(CF_IMGB)
$(BUILD)/obj/bootsvc/%.o:              OBJ_CFLAGS = $(CF_JANSSON)
$(BUILD)/obj/bootsvc/control/%.o:      OBJ_CFLAGS = $(CF_JANSSON) $(CF_GNUTLS)
$(BUILD)/obj/bootsvc/http/%.o:         OBJ_CFLAGS = $(CF_JANSSON) $(CF_MHD)
# The admin listener (bootsvc/web/): MHD with TLS, GnuTLS for client certificates.
$(BUILD)/obj/bootsvc/web/%.o:          OBJ_CFLAGS = $(CF_JANSSON) $(CF_MHD) $(CF_GNUTLS)
$(BUILD)/obj/bootsvc/store/%.o:        OBJ_CFLAGS = $(CF_SQLITE) $(CF_PQ)
# libcurl for the Redfish client (bootsvc/bmc/redfish.c) too.
$(BUILD)/obj/bootsvc/bmc/%.o:          OBJ_CFLAGS = $(CF_JANSSON) $(CF_IPMI) $(CF_CURL)
$(BUILD)/obj/bootsvc/vm/%.o:           OBJ_CFLAGS = $(CF_JANSSON) $(CF_VIRT)
# libpq also for the cluster room (bootsvc/cluster/): the leader lock, LISTEN, the registry.
$(BUILD)/obj/bootsvc/cluster/%.o:      OBJ_CFLAGS = $(CF_JANSSON) $(CF_PQ)
$(BUILD)/obj/bootsvc/sync/%.o:         OBJ_CFLAGS = $(CF_JANSSON) $(CF_CURL)
$(BUILD)/obj/tests/%.o:                OBJ_CFLAGS = $(CF_TEST)
$(BUILD)/obj/bench/%.o:                OBJ_CFLAGS = $(CF_TEST)
BOOTSVC_LIBS    = $(call pc,--libs,libmicrohttpd jansson sqlite3 libpq libfreeipmi libipmimonitoring gnutls libvirt libcurl) -lcrypt -lpthread -lm
NODECTL_LIBS    = $(call pc,--libs,jansson gnutls)
IMAGEBUILD_LIBS = $(call pc,--libs,libarchive libkmod jansson)
TEST_LINK       = $(call pc,--libs,libmicrohttpd jansson sqlite3 libpq libarchive libkmod cmocka libfreeipmi libipmimonitoring gnutls libvirt libcurl) -lcrypt -lpthread -lm
