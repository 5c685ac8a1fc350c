# make install, uninstall, man, deb (docs/install.md). Included by the Makefile.
#
# Where things go, as a Debian admin expects (FHS, Debian policy §9.1):
#   $(PREFIX)/sbin           bootsvc, imagebuild: daemons and tools that need root
#                            (imagebuild runs debootstrap and chroot)
#   $(PREFIX)/bin            nodectl: any member of control_group, and Slurm's programs
#   $(PREFIX)/lib/diskless   what the programs run or copy but no one calls by hand: the
#                            node's static init (imagebuild's default), Slurm's programs
#   $(PREFIX)/share/diskless ipxe-scripts (template_dir's default), the image recipes, the
#                            web view's files (web_dir's default), the example Grafana
#                            dashboard and Prometheus rules (docs/metrics.md)
#   $(SYSCONFDIR)/diskless   bootsvc.conf, never overwritten once there
#   $(LOCALSTATEDIR)/lib/diskless   state_dir's default
#   $(UNITDIR)               bootsvc.service
# The tree's own paths keep working: bootsvc is given --template_dir, imagebuild finds
# build/init beside itself, `make image` names images/<name>.
PREFIX        ?= /usr
DESTDIR       ?=
SYSCONFDIR    ?= /etc
LOCALSTATEDIR ?= /var
UNITDIR       ?= /lib/systemd/system
MANDIR        ?= $(PREFIX)/share/man
BASHCOMPDIR   ?= $(PREFIX)/share/bash-completion/completions
VERSION       := $(shell sed -n 's/^\#define DISKLESS_VERSION "\(.*\)"/\1/p' lib/version.h)

MAN_PAGES = $(BUILD)/man/bootsvc.8 $(BUILD)/man/nodectl.8 $(BUILD)/man/imagebuild.8 \
            $(BUILD)/man/bootsvc.conf.5
SLURM_PROGS = scheduler/slurm-resume scheduler/slurm-suspend scheduler/slurm-resumefail \
	scheduler/slurm-resumewatch

.PHONY: man uninstall deb
man: $(MAN_PAGES)

# bootsvc.conf(5)'s keys come from docs/bootsvc.conf.md's table (mk/man-conf.sh).
$(BUILD)/man/bootsvc.conf.5: man/bootsvc.conf.5.in docs/bootsvc.conf.md mk/man-conf.sh lib/version.h
	@mkdir -p $(dir $@)
	./mk/man-conf.sh man/bootsvc.conf.5.in docs/bootsvc.conf.md | sed 's/@VERSION@/$(VERSION)/' > $@.tmp
	@mv $@.tmp $@
$(BUILD)/man/%.8: man/%.8 lib/version.h
	@mkdir -p $(dir $@)
	sed 's/@VERSION@/$(VERSION)/' $< > $@

install: all man
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/lib/diskless/slurm \
	    $(DESTDIR)$(PREFIX)/share/diskless/ipxe-scripts $(DESTDIR)$(PREFIX)/share/diskless/images \
	    $(DESTDIR)$(PREFIX)/share/diskless/web $(DESTDIR)$(PREFIX)/share/diskless/grafana \
	    $(DESTDIR)$(PREFIX)/share/diskless/prometheus \
	    $(DESTDIR)$(SYSCONFDIR)/diskless $(DESTDIR)$(LOCALSTATEDIR)/lib/diskless \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(BUILD)/bootsvc $(DESTDIR)$(PREFIX)/sbin/bootsvc
	install -m 0755 $(BUILD)/imagebuild $(DESTDIR)$(PREFIX)/sbin/imagebuild
	install -m 0755 $(BUILD)/nodectl $(DESTDIR)$(PREFIX)/bin/nodectl
	install -m 0755 $(BUILD)/init $(DESTDIR)$(PREFIX)/lib/diskless/init
	install -m 0755 $(SLURM_PROGS) $(DESTDIR)$(PREFIX)/lib/diskless/slurm/
	install -m 0644 scheduler/slurm-common.sh scheduler/diskless-slurm.conf.example \
	    $(DESTDIR)$(PREFIX)/lib/diskless/slurm/
	install -m 0644 ipxe-scripts/*.ipxe ipxe-scripts/*.cfg \
	    $(DESTDIR)$(PREFIX)/share/diskless/ipxe-scripts/
	cp -R --no-preserve=ownership images/. $(DESTDIR)$(PREFIX)/share/diskless/images/
	install -m 0644 webui/* $(DESTDIR)$(PREFIX)/share/diskless/web/
	install -m 0644 dist/grafana/*.json $(DESTDIR)$(PREFIX)/share/diskless/grafana/
	install -m 0644 dist/prometheus/*.yml $(DESTDIR)$(PREFIX)/share/diskless/prometheus/
	chmod -R u=rwX,go=rX $(DESTDIR)$(PREFIX)/share/diskless/images
	sed 's|/usr/sbin/bootsvc|$(PREFIX)/sbin/bootsvc|g; s|/etc/diskless|$(SYSCONFDIR)/diskless|g; s|/var/lib/diskless|$(LOCALSTATEDIR)/lib/diskless|g' \
	    dist/bootsvc.service > $(DESTDIR)$(UNITDIR)/bootsvc.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/bootsvc.service
	@# An admin's edited config is never replaced (the package's conffile logic does
	@# the same for .deb upgrades). 0640: a store URL may hold a password.
	if [ ! -e $(DESTDIR)$(SYSCONFDIR)/diskless/bootsvc.conf ]; then \
	    sed 's|/usr/share/diskless|$(PREFIX)/share/diskless|g; s|/var/lib/diskless|$(LOCALSTATEDIR)/lib/diskless|g' \
	        etc/bootsvc.conf > $(DESTDIR)$(SYSCONFDIR)/diskless/bootsvc.conf; \
	    chmod 0640 $(DESTDIR)$(SYSCONFDIR)/diskless/bootsvc.conf; fi
	install -m 0644 $(BUILD)/man/bootsvc.8 $(BUILD)/man/nodectl.8 $(BUILD)/man/imagebuild.8 \
	    $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(BUILD)/man/bootsvc.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 completion/nodectl $(DESTDIR)$(BASHCOMPDIR)/nodectl
	if [ -z "$(DESTDIR)" ]; then ./mk/add-user.sh; fi

# The programs and everything shipped; the config, the state and the user stay (they are
# the admin's: a .deb's purge removes them, docs/install.md).
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/bootsvc $(DESTDIR)$(PREFIX)/sbin/imagebuild \
	    $(DESTDIR)$(PREFIX)/bin/nodectl $(DESTDIR)$(UNITDIR)/bootsvc.service \
	    $(DESTDIR)$(MANDIR)/man8/bootsvc.8 $(DESTDIR)$(MANDIR)/man8/nodectl.8 \
	    $(DESTDIR)$(MANDIR)/man8/imagebuild.8 $(DESTDIR)$(MANDIR)/man5/bootsvc.conf.5 \
	    $(DESTDIR)$(BASHCOMPDIR)/nodectl
	rm -rf $(DESTDIR)$(PREFIX)/lib/diskless $(DESTDIR)$(PREFIX)/share/diskless

# build/diskless_<version>_<arch>.deb from a DESTDIR staging (mk/deb.sh says why).
deb: all man
	./mk/deb.sh $(BUILD) $(VERSION)
