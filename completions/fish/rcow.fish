# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_rcow_global_optspecs
    string join \n h/help V/version
end

function __fish_rcow_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_rcow_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_rcow_using_subcommand
    set -l cmd (__fish_rcow_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c rcow -n "__fish_rcow_needs_command" -s h -l help -d 'Print help'
complete -c rcow -n "__fish_rcow_needs_command" -s V -l version -d 'Print version'
complete -c rcow -n "__fish_rcow_needs_command" -f -a "create" -d 'Write a fresh persistent store (header and zeroed first metadata area)'
complete -c rcow -n "__fish_rcow_needs_command" -f -a "dump" -d 'Print the header, geometry, usage and every exception in on-disk order'
complete -c rcow -n "__fish_rcow_needs_command" -f -a "check" -d 'Verify a store offline; exit 1 and list every problem if it is damaged'
complete -c rcow -n "__fish_rcow_needs_command" -f -a "cat" -d 'Write the snapshot\'s contents (origin plus exceptions) to stdout or a file'
complete -c rcow -n "__fish_rcow_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rcow -n "__fish_rcow_using_subcommand create" -s c -l chunk-size -d 'Chunk size, lvm2 syntax (default unit k): a power of 2 from 4k to 512k' -r
complete -c rcow -n "__fish_rcow_using_subcommand create" -s f -l force -d 'Overwrite a device that already holds a COW store'
complete -c rcow -n "__fish_rcow_using_subcommand create" -s h -l help -d 'Print help'
complete -c rcow -n "__fish_rcow_using_subcommand dump" -l json -d 'Print JSON instead of text'
complete -c rcow -n "__fish_rcow_using_subcommand dump" -s h -l help -d 'Print help'
complete -c rcow -n "__fish_rcow_using_subcommand check" -s h -l help -d 'Print help'
complete -c rcow -n "__fish_rcow_using_subcommand cat" -l origin -d 'The origin device or file the snapshot was taken of' -r -F
complete -c rcow -n "__fish_rcow_using_subcommand cat" -s o -l output -d 'Write here instead of stdout' -r -F
complete -c rcow -n "__fish_rcow_using_subcommand cat" -s h -l help -d 'Print help'
complete -c rcow -n "__fish_rcow_using_subcommand help; and not __fish_seen_subcommand_from create dump check cat help" -f -a "create" -d 'Write a fresh persistent store (header and zeroed first metadata area)'
complete -c rcow -n "__fish_rcow_using_subcommand help; and not __fish_seen_subcommand_from create dump check cat help" -f -a "dump" -d 'Print the header, geometry, usage and every exception in on-disk order'
complete -c rcow -n "__fish_rcow_using_subcommand help; and not __fish_seen_subcommand_from create dump check cat help" -f -a "check" -d 'Verify a store offline; exit 1 and list every problem if it is damaged'
complete -c rcow -n "__fish_rcow_using_subcommand help; and not __fish_seen_subcommand_from create dump check cat help" -f -a "cat" -d 'Write the snapshot\'s contents (origin plus exceptions) to stdout or a file'
complete -c rcow -n "__fish_rcow_using_subcommand help; and not __fish_seen_subcommand_from create dump check cat help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
