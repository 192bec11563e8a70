/**
 * Bumped whenever the classifier learns something (2: ln -s, cp, `: > f`,
 * touch, rmdir, rm -f of named paths; 3: dpkg-statoverride, chown, chgrp and
 * chmod of packaged paths; 4: first-boot state: ssh-keygen, make-ssl-cert,
 * openssl req/genrsa, dbus-uuidgen --ensure, systemd-machine-id-setup; 5:
 * systemd-hwdb update and journalctl --update-catalog as generators; 6:
 * deb-systemd-helper enable is a preset, debian-installed and was-enabled
 * answer as on a first install, account steps name their tool; 7: issue 10's steps: rc links, a2enmod,
 * writes, mv, ucf, diversions, caps, first-boot datadirs, Python bytecode as a generator; 8: runit-helper's
 * enable link, base packages' leftovers typed as on a fresh install; 9: sed SCRIPT FILE > OUT,
 * stat -L of a shipped path as a like field, return N, flag-file guards). A store
 * records it per package, and `weld import` of a package already in the store
 * classifies its scriptlets again when older.
 * Its own module, so the linker can check it without loading the classifier.
 */
export const CLASSIFIER_VERSION = 9;
