# Dependencies come only through pkg-config; a missing one stops the build naming the
# Debian package to install (or run `make deps`).
PKG_DEBS := libmicrohttpd:libmicrohttpd-dev jansson:libjansson-dev sqlite3:libsqlite3-dev \
            libarchive:libarchive-dev libkmod:libkmod-dev cmocka:libcmocka-dev \
            libfreeipmi:libfreeipmi-dev libipmimonitoring:libipmimonitoring-dev

ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
$(foreach p,$(PKG_DEBS),$(if $(shell pkg-config --exists $(word 1,$(subst :, ,$(p))) && echo y),,\
  $(if $(filter check demo bench image fuzz fuzz-smoke,$(MAKECMDGOALS)),,\
  $(error missing $(word 1,$(subst :, ,$(p))): apt-get install $(word 2,$(subst :, ,$(p))) (or run make deps)))))
endif

pc = $(shell pkg-config $(1) $(2) 2>/dev/null)
DEP_CFLAGS      = $(call pc,--cflags,libmicrohttpd jansson sqlite3 libarchive libkmod cmocka libfreeipmi libipmimonitoring)
BOOTSVC_LIBS    = $(call pc,--libs,libmicrohttpd jansson sqlite3 libfreeipmi libipmimonitoring) -lpthread
NODECTL_LIBS    = $(call pc,--libs,jansson)
IMAGEBUILD_LIBS = $(call pc,--libs,libarchive libkmod jansson)
TEST_LINK       = $(call pc,--libs,libmicrohttpd jansson sqlite3 libarchive libkmod cmocka libfreeipmi libipmimonitoring) -lpthread
