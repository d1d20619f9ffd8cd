complete -c rlvcreate -s i -l stripes -d 'Stripe over this many PVs (default: 1 for a new LV, as the last segment when extending)' -r
complete -c rlvcreate -s I -l stripesize -d 'Stripe size, a power of 2 of 4k or more (default unit KiB; default: 64k for a new LV, the last segment\'s when extending)' -r
complete -c rlvcreate -l alloc -d 'Allocation policy: contiguous, cling, normal (the default), anywhere, inherit' -r -f -a "contiguous\t''
cling\t''
cling_by_tags\t''
normal\t''
anywhere\t''
inherit\t''"
complete -c rlvcreate -s c -l chunksize -d 'Snapshot chunk size (default 4k): a power of 2 from 4k to 512k' -r
complete -c rlvcreate -s p -l permission -d 'Permission: rw (default) or r' -r -f -a "r\t''
rw\t''"
complete -c rlvcreate -s L -l size -d 'Size (default unit MiB), rounded up to whole extents' -r
complete -c rlvcreate -s l -l extents -d 'Size in extents, or N%FREE / N%VG / N%PVS / N%ORIGIN' -r
complete -c rlvcreate -s V -l virtualsize -d 'The virtual size of a sparse snapshot over a zero device (--type snapshot)' -r
complete -c rlvcreate -l type -d 'The segment type: linear (the default), striped (with -i) or snapshot' -r -f -a "linear\t''
striped\t''
snapshot\t''"
complete -c rlvcreate -s n -l name -d 'Name of the new LV (default lvolN)' -r
complete -c rlvcreate -s a -l activate -d 'Activate the new LV (y, the default; ay, ey, ly too) or not (n, an, en, ln)' -r -f -a "y\t''
n\t''
ay\t''
ey\t''
ly\t''
en\t''
ln\t''
an\t''"
complete -c rlvcreate -l addtag -d 'Add a tag to the new LV (repeatable)' -r
complete -c rlvcreate -s C -l contiguous -d 'Allocate the new LV contiguously (y) or by the VG\'s policy (n, the default)' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvcreate -s r -l readahead -d 'Read-ahead in sectors, auto (the default) or none' -r
complete -c rlvcreate -s M -l persistent -d 'Keep the minor number given by --minor across activations (y) or not (n)' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvcreate -l major -d 'The major number with -My (the kernel assigns majors: lvm2 records 0)' -r
complete -c rlvcreate -l minor -d 'The minor number to keep (implies -My)' -r
complete -c rlvcreate -s Z -l zero -d 'Zero the first 4 KiB of the new LV (y, the default) or not (n)' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvcreate -s W -l wipesignatures -d 'Wipe known signatures from the new LV (default: when zeroing)' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvcreate -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rlvcreate -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rlvcreate -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rlvcreate -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvcreate -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rlvcreate -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rlvcreate -l devicesfile -d 'A devices file other than the default' -r
complete -c rlvcreate -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rlvcreate -s A -l autobackup -d 'Back up the metadata after a change (y, the default) or not (n)' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvcreate -s s -l snapshot -d 'Create a snapshot of VG/ORIGIN (its COW gets the size given)'
complete -c rlvcreate -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rlvcreate -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rlvcreate -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rlvcreate -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rlvcreate -s y -l yes -d 'Answer yes to every prompt'
complete -c rlvcreate -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rlvcreate -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rlvcreate -l version -d 'Display version information (lvm2\'s layout)'
complete -c rlvcreate -l longhelp -d 'Display long help text'
complete -c rlvcreate -s f -l force -d 'Override various checks and confirmations; repeat (-ff) to force more'
complete -c rlvcreate -s h -l help -d 'Print help (see more with \'--help\')'
