# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_rdmsetup_global_optspecs
    string join \n h/help V/version
end

function __fish_rdmsetup_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_rdmsetup_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_rdmsetup_using_subcommand
    set -l cmd (__fish_rdmsetup_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -s V -l version -d 'Print version'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "create" -d 'Create a device, load its table (from --table or stdin) and resume it'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "load" -d 'Load a table into the device\'s inactive slot'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "reload" -d 'Load a table into the device\'s inactive slot'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "suspend" -d 'Suspend a device (hold its I/O)'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "resume" -d 'Resume a device, making an inactive table live'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "remove" -d 'Remove a device'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "remove_all" -d 'Remove every device that is not open (repeatedly, for stacks)'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "rename" -d 'Rename a device'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "clear" -d 'Drop the inactive table'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "table" -d 'Print tables (all devices when none is named)'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "status" -d 'Print target status (all devices when none is named)'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "ls" -d 'List devices as `name<TAB>(major:minor)`'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "info" -d 'Print device information (all devices when none is named)'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "message" -d 'Send a message to the target at SECTOR'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "mknodes" -d 'Create missing and remove stale /dev/mapper nodes'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "wait" -d 'Wait until the device\'s event counter passes EVENT_NR'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "version" -d 'Print the library and driver versions'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "targets" -d 'List targets and their versions'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "deps" -d 'Print the devices each device\'s table uses'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -l table -d 'One-line table instead of reading the table from stdin' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -s u -l uuid -d 'dm UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -l notable -d 'Create the device without a table'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -s r -l readonly -d 'Create the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -l table -d 'One-line table instead of reading the table from stdin' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -l table -d 'One-line table instead of reading the table from stdin' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand suspend" -l noflush -d 'Do not flush queued I/O'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand suspend" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand resume" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove" -s f -l force -d 'Replace the table with one that fails all I/O before removing'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove_all" -s f -l force -d 'Replace tables with error targets before removing'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove_all" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand rename" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand clear" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -l inactive -d 'The inactive table instead of the live one'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand status" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -l tree -d 'Draw the dependency tree (dmsetup\'s default tree options, ASCII)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -s o -l options -d 'Fields for -c: name,major,minor,attr,open,segments,events,uuid,devno' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -l separator -d 'Field separator (turns column alignment off)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -s c -l columns -d 'Columns, as dmsetup info -c'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -l noheadings -d 'No heading line (and \':\' between fields unless --separator)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand message" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand mknodes" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -l timeout -d 'Give up after this many seconds (exit 1)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand version" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand targets" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand deps" -s h -l help -d 'Print help'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "create" -d 'Create a device, load its table (from --table or stdin) and resume it'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "load" -d 'Load a table into the device\'s inactive slot'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "suspend" -d 'Suspend a device (hold its I/O)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "resume" -d 'Resume a device, making an inactive table live'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "remove" -d 'Remove a device'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "remove_all" -d 'Remove every device that is not open (repeatedly, for stacks)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "rename" -d 'Rename a device'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "clear" -d 'Drop the inactive table'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "table" -d 'Print tables (all devices when none is named)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "status" -d 'Print target status (all devices when none is named)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "ls" -d 'List devices as `name<TAB>(major:minor)`'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "info" -d 'Print device information (all devices when none is named)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "message" -d 'Send a message to the target at SECTOR'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "mknodes" -d 'Create missing and remove stale /dev/mapper nodes'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "wait" -d 'Wait until the device\'s event counter passes EVENT_NR'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "version" -d 'Print the library and driver versions'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "targets" -d 'List targets and their versions'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "deps" -d 'Print the devices each device\'s table uses'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
