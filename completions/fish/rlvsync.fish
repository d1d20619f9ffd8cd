# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_rlvsync_global_optspecs
    string join \n h/help
end

function __fish_rlvsync_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_rlvsync_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_rlvsync_using_subcommand
    set -l cmd (__fish_rlvsync_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c rlvsync -n "__fish_rlvsync_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rlvsync -n "__fish_rlvsync_needs_command" -f -a "export" -d 'The chunks in OLD\'s exception list, read through NEW: the volume as of NEW'
complete -c rlvsync -n "__fish_rlvsync_needs_command" -f -a "full" -d 'The whole volume as of a snapshot, for the first copy'
complete -c rlvsync -n "__fish_rlvsync_needs_command" -f -a "apply" -d 'Write a stream to a file, block device, rlvm LV (VG/LV) or nbd+unix:// URI'
complete -c rlvsync -n "__fish_rlvsync_needs_command" -f -a "verify" -d 'Check a stream and that TARGET holds every record of it'
complete -c rlvsync -n "__fish_rlvsync_needs_command" -f -a "info" -d 'Print a stream\'s header, counts, bytes, source and digest (checking it whole)'
complete -c rlvsync -n "__fish_rlvsync_needs_command" -f -a "progress" -d 'Print TARGET\'s progress file: what export --resume-from needs to send only the rest of a round'
complete -c rlvsync -n "__fish_rlvsync_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l since -d 'OLD: the snapshot whose exception list says what changed' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l at -d 'NEW: an existing snapshot to read through, or the name to take it under (default ORIGIN_syncN)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l cow -d 'Offline: OLD\'s COW image (with --origin: the origin image, read as it is)' -r -F
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l origin -d 'Offline: the origin image the COW belongs to' -r -F
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -s o -l output -d 'Write the stream here ("-": stdout, the default)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -s L -l size -d 'COW size of a NEW taken by rlvsync (as rlvcreate -L; default: as big as OLD\'s)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -s l -l extents -d 'COW size of a NEW taken by rlvsync in extents, or N%ORIGIN / N%FREE / N%VG' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -s c -l chunksize -d 'Chunk size of a NEW taken by rlvsync (default: OLD\'s)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l from-chunk -d 'Only the chunks from this one on: the rest of an interrupted round (see apply --resume)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l resume-from -d 'Only what the target lacks: the rest of the round its progress file (as `rlvsync progress` prints it; "-": stdin) records' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l devicesfile -d 'A devices file other than the default' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -s y -l yes -d 'Answer yes to every prompt'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l version -d 'Display version information (lvm2\'s layout)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -l longhelp -d 'Display long help text'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -s o -l output -d 'Write the stream here ("-": stdout, the default)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -l from-chunk -d 'Only the chunks from this one on: the rest of an interrupted round' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -l resume-from -d 'Only what the target lacks: the rest of the round its progress file (as `rlvsync progress` prints it; "-": stdin) records' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -l devicesfile -d 'A devices file other than the default' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -s y -l yes -d 'Answer yes to every prompt'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -l version -d 'Display version information (lvm2\'s layout)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -l longhelp -d 'Display long help text'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand full" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l snapback -d 'First save TARGET\'s old bytes of every chunk overwritten, as a stream that undoes this round' -r -F
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l progress-file -d 'The progress file (default: .TARGET.rlvsync beside a file, $RLVM_DIR/sync/ otherwise)' -r -F
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l checkpoint -d 'Data between progress-file updates, each a flush of the target (default 256m)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l devicesfile -d 'A devices file other than the default' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l resume -d 'Continue an interrupted apply from its progress file; records already applied are not rewritten'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -s f -l force -d 'Apply even a stream of another volume, size or round, over an existing snapback file'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -s y -l yes -d 'Answer yes to every prompt'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l version -d 'Display version information (lvm2\'s layout)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -l longhelp -d 'Display long help text'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -l devicesfile -d 'A devices file other than the default' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -s y -l yes -d 'Answer yes to every prompt'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -l version -d 'Display version information (lvm2\'s layout)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -l longhelp -d 'Display long help text'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -l devicesfile -d 'A devices file other than the default' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -l json -d 'Print JSON'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -s y -l yes -d 'Answer yes to every prompt'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -l version -d 'Display version information (lvm2\'s layout)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -l longhelp -d 'Display long help text'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand info" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -l progress-file -d 'The progress file (default: as apply finds it)' -r -F
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -l config -d 'Configuration in lvm.conf syntax applied over the configuration file (repeatable)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -l commandprofile -d 'A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -l profile -d 'A metadata or command profile (accepted; rlvm has no profile directory yet)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -l driverloaded -d 'Whether the device-mapper driver is used: n limits the command to metadata' -r -f -a "y\t'Yes'
n\t'No'"
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -l lockopt -d 'Lock options for lvmlockd (accepted; rlvm uses local file locks)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -l devices -d 'Restrict the command to these devices (repeatable, or comma-separated)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -l devicesfile -d 'A devices file other than the default' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -l journal -d 'Journal options (accepted; rlvm logs to stderr and syslog)' -r
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -s d -l debug -d 'Set debug level; repeat for more (-dddddd at most)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -s q -l quiet -d 'Suppress output and log messages; repeat (-qq) to also answer prompts with no'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -s v -l verbose -d 'Set verbose level; repeat for more detail on stderr'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -s t -l test -d 'Run in test mode: no metadata is written and no device is (de)activated'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -s y -l yes -d 'Answer yes to every prompt'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -l nolocking -d 'Take no locks (lvm2: only for emergencies)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -l nohints -d 'Do not use the hints file to limit the devices scanned'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -l version -d 'Display version information (lvm2\'s layout)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -l longhelp -d 'Display long help text'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand progress" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand help; and not __fish_seen_subcommand_from export full apply verify info progress help" -f -a "export" -d 'The chunks in OLD\'s exception list, read through NEW: the volume as of NEW'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand help; and not __fish_seen_subcommand_from export full apply verify info progress help" -f -a "full" -d 'The whole volume as of a snapshot, for the first copy'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand help; and not __fish_seen_subcommand_from export full apply verify info progress help" -f -a "apply" -d 'Write a stream to a file, block device, rlvm LV (VG/LV) or nbd+unix:// URI'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand help; and not __fish_seen_subcommand_from export full apply verify info progress help" -f -a "verify" -d 'Check a stream and that TARGET holds every record of it'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand help; and not __fish_seen_subcommand_from export full apply verify info progress help" -f -a "info" -d 'Print a stream\'s header, counts, bytes, source and digest (checking it whole)'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand help; and not __fish_seen_subcommand_from export full apply verify info progress help" -f -a "progress" -d 'Print TARGET\'s progress file: what export --resume-from needs to send only the rest of a round'
complete -c rlvsync -n "__fish_rlvsync_using_subcommand help; and not __fish_seen_subcommand_from export full apply verify info progress help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
