# Installs rlvm the way Rust storage tools do (thin-provisioning-tools'
# Makefile installs pdata_tools and a symlink per tool; stratisd's Makefile
# installs its binaries, units and docs): cargo builds, make puts the files
# in their places, with PREFIX and DESTDIR as every packager expects.
#
#   make && sudo make install          # into /usr/local
#   make install PREFIX=/usr DESTDIR=/tmp/pkg
#   sudo make uninstall                # takes every installed file away
#
# One binary, rlvm, in SBINDIR, with a symlink to it per program (as lvm2's
# commands are links to lvm); its debug info is left out (stripped; the
# build tree's target/release/rlvm keeps its line tables). Man pages in
# share/man/man8, bash/zsh/fish completions in their standard directories,
# the systemd units with ExecStart pointing at SBINDIR. The program list is
# the registry's (`rlvm --list-programs`): a new program needs no change here.

PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
UNITDIR ?= $(PREFIX)/lib/systemd/system

CARGO ?= cargo
STRIP ?= strip
INSTALL ?= install
CARGO_TARGET_DIR ?= target
RLVM := $(CARGO_TARGET_DIR)/release/rlvm
UNITS := rdmd.service rlvmonitor.service

# Expanded when a recipe runs, after rlvm is built.
PROGRAMS = $(shell $(RLVM) --list-programs)
# What uninstall removes: the installed rlvm's list (it may be an older
# version's), else the build tree's.
INSTALLED_PROGRAMS = $(shell { $(DESTDIR)$(SBINDIR)/rlvm --list-programs || $(RLVM) --list-programs; } 2>/dev/null)

.PHONY: all build install uninstall deb

all: build

build:
	$(CARGO) build --release --locked -p rlvm-cmd --bin rlvm

# `make install` alone builds once; `make && sudo make install` builds as the
# user and installs as root without running cargo as root.
$(RLVM):
	$(CARGO) build --release --locked -p rlvm-cmd --bin rlvm

install: $(RLVM)
	@test -n "$(PROGRAMS)" || { echo "install: $(RLVM) --list-programs listed nothing" >&2; exit 1; }
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(UNITDIR)
	$(INSTALL) -m 0755 $(RLVM) $(DESTDIR)$(SBINDIR)/rlvm
	$(STRIP) --strip-debug $(DESTDIR)$(SBINDIR)/rlvm
	for p in $(PROGRAMS); do \
		ln -sfn rlvm $(DESTDIR)$(SBINDIR)/$$p && \
		$(INSTALL) -m 0644 man/$$p.8 $(DESTDIR)$(MANDIR)/man8/$$p.8 && \
		$(INSTALL) -m 0644 completions/bash/$$p $(DESTDIR)$(BASHCOMPDIR)/$$p && \
		$(INSTALL) -m 0644 completions/zsh/_$$p $(DESTDIR)$(ZSHCOMPDIR)/_$$p && \
		$(INSTALL) -m 0644 completions/fish/$$p.fish $(DESTDIR)$(FISHCOMPDIR)/$$p.fish || exit 1; \
	done
	for u in $(UNITS); do \
		sed 's|/usr/sbin/|$(SBINDIR)/|g' cmd/systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done

uninstall:
	for p in $(INSTALLED_PROGRAMS); do \
		rm -f $(DESTDIR)$(SBINDIR)/$$p $(DESTDIR)$(MANDIR)/man8/$$p.8 \
			$(DESTDIR)$(BASHCOMPDIR)/$$p $(DESTDIR)$(ZSHCOMPDIR)/_$$p \
			$(DESTDIR)$(FISHCOMPDIR)/$$p.fish; \
	done
	for u in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$$u; done
	rm -f $(DESTDIR)$(SBINDIR)/rlvm

# A Debian package of the same files (cargo install cargo-deb): the links
# are dangling PROGRAM -> rlvm symlinks in target/release/deb-links, which
# cmd/Cargo.toml's [package.metadata.deb] packages as symlinks.
deb: $(RLVM)
	rm -rf $(CARGO_TARGET_DIR)/release/deb-links
	mkdir -p $(CARGO_TARGET_DIR)/release/deb-links
	for p in $(PROGRAMS); do ln -s rlvm $(CARGO_TARGET_DIR)/release/deb-links/$$p || exit 1; done
	$(CARGO) deb -p rlvm-cmd --no-build
