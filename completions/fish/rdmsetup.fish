# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_rdmsetup_global_optspecs
    string join \n v/verbose y/yes f/force noudevsync verifyudev r/readonly noflush nolockfs j/major= m/minor= u/uuid= manglename= h/help V/version
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

complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -s V -l version -d 'Print version'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "create" -d 'Create a device, load its table (from --table or stdin) and resume it'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "load" -d 'Load a table into the device\'s inactive slot'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "reload" -d 'Load a table into the device\'s inactive slot'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "suspend" -d 'Suspend a device (hold its I/O)'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "resume" -d 'Resume a device, making an inactive table live'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "remove" -d 'Remove a device (-f: swap in an error table first)'
complete -c rdmsetup -n "__fish_rdmsetup_needs_command" -f -a "remove_all" -d 'Remove every device that is not open (repeatedly, for stacks; -f: error tables first)'
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
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -l notable -d 'Create the device without a table'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -l table -d 'One-line table instead of reading the table from stdin' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand load" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -l table -d 'One-line table instead of reading the table from stdin' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand reload" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand suspend" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand suspend" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand suspend" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand suspend" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand suspend" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand suspend" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand suspend" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand suspend" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand suspend" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand suspend" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand suspend" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand suspend" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand suspend" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand resume" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand resume" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand resume" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand resume" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand resume" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand resume" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand resume" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand resume" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand resume" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand resume" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand resume" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand resume" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove_all" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove_all" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove_all" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove_all" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove_all" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove_all" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove_all" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove_all" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove_all" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove_all" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove_all" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove_all" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand remove_all" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand rename" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand rename" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand rename" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand rename" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand rename" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand rename" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand rename" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand rename" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand rename" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand rename" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand rename" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand rename" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand rename" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand clear" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand clear" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand clear" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand clear" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand clear" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand clear" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand clear" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand clear" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand clear" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand clear" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand clear" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand clear" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand clear" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -l inactive -d 'The inactive table instead of the live one'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand table" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand status" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand status" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand status" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand status" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand status" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand status" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand status" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand status" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand status" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand status" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand status" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand status" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -l tree -d 'Draw the dependency tree (dmsetup\'s default tree options, ASCII)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -s o -l options -d 'Fields for -c: name,major,minor,attr,open,segments,events,uuid,devno' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -l separator -d 'Field separator (turns column alignment off)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -s c -l columns -d 'Columns, as dmsetup info -c'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -l noheadings -d 'No heading line (and \':\' between fields unless --separator)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand info" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand message" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand message" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand message" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand message" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand message" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand message" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand message" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand message" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand message" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand message" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand message" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand message" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand message" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand mknodes" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand mknodes" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand mknodes" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand mknodes" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand mknodes" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand mknodes" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand mknodes" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand mknodes" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand mknodes" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand mknodes" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand mknodes" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand mknodes" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand mknodes" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -l timeout -d 'Give up after this many seconds (exit 1)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand wait" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand version" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand version" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand version" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand version" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand version" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand version" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand version" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand version" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand version" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand version" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand version" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand version" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand version" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand targets" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand targets" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand targets" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand targets" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand targets" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand targets" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand targets" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand targets" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand targets" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand targets" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand targets" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand targets" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand targets" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand deps" -s j -l major -d 'create: the major number for the new device (with --minor)' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand deps" -s m -l minor -d 'create: the minor number for the new device' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand deps" -s u -l uuid -d 'create: the new device\'s dm UUID; other commands: the device, by UUID' -r
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand deps" -l manglename -d 'How names with characters outside udev\'s whitelist are given and shown: none, hex (\\xNN), or auto (hex unless already mangled)' -r -f -a "none\t'Names pass as given'
hex\t'Every character outside the whitelist as `\\xNN`'
auto\t'As hex, unless the name is mangled already (dmsetup\'s default)'"
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand deps" -s v -l verbose -d 'Print the device\'s information after create, load, suspend, resume, clear and wait, and before its lines in table and status (repeatable)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand deps" -s y -l yes -d 'Answer yes to every prompt'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand deps" -s f -l force -d 'remove, remove_all: replace the table with one that fails all I/O first'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand deps" -l noudevsync -d 'Do not synchronise with udev (rlvm creates its nodes itself and never waits for udev)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand deps" -l verifyudev -d 'Have the tool check the nodes udev should make (rlvm always makes them itself)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand deps" -s r -l readonly -d 'create: make the device read-only'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand deps" -l noflush -d 'suspend: do not flush queued I/O (and do not freeze the filesystem)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand deps" -l nolockfs -d 'suspend: do not freeze the filesystem on the device (lockfs)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand deps" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "create" -d 'Create a device, load its table (from --table or stdin) and resume it'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "load" -d 'Load a table into the device\'s inactive slot'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "suspend" -d 'Suspend a device (hold its I/O)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "resume" -d 'Resume a device, making an inactive table live'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "remove" -d 'Remove a device (-f: swap in an error table first)'
complete -c rdmsetup -n "__fish_rdmsetup_using_subcommand help; and not __fish_seen_subcommand_from create load suspend resume remove remove_all rename clear table status ls info message mknodes wait version targets deps help" -f -a "remove_all" -d 'Remove every device that is not open (repeatedly, for stacks; -f: error tables first)'
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
