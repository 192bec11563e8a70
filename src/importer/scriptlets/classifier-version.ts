/**
 * Bumped whenever the classifier learns something (2: ln -s, cp, `: > f`,
 * touch, rmdir, rm -f of named paths; 3: systemd-hwdb update and journalctl --update-catalog as generators). A store records it per package, and `weld import` of a
 * package already in the store classifies its scriptlets again when older.
 * Its own module, so the linker can check it without loading the classifier.
 */
export const CLASSIFIER_VERSION = 3;
