# SPDX-License-Identifier: LGPL-2.1-or-later
# fish completion for passthroughctl(1). Devices and VMs come from the
# service itself, through passthroughctl --raw --noheadings -o COLUMNS (as
# the bash completion does).

# The --address the command line names, if any.
function __passthroughctl_bus
    set -l tokens (commandline -opc)
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case --address
                set -l next (math $i + 1)
                test $next -le (count $tokens); and printf '%s\n' --address $tokens[$next]
            case '--address=*'
                printf '%s\n' $tokens[$i]
        end
    end
end

# passthroughctl --raw --noheadings ARGV: each row's cells separated by
# \x1f (empty cells kept), \x20 and the like decoded.
function __passthroughctl_rows
    passthroughctl (__passthroughctl_bus) --no-ask-password --raw --noheadings $argv 2>/dev/null |
        while read -l line
            set -l cells
            for cell in (string split ' ' -- $line)
                set -a cells (printf '%b' $cell)
            end
            string join \x1f -- $cells
        end
end

# __passthroughctl_where VALUE ARGV: the first cell of the rows whose second
# cell is VALUE.
function __passthroughctl_where
    __passthroughctl_rows $argv[2..-1] | while read -l -d \x1f first second
        test "$second" = "$argv[1]"; and printf '%s\n' $first
    end
end

function __passthroughctl_running_vms
    __passthroughctl_where running -o NAME,STATE domains
end
function __passthroughctl_all_vms
    __passthroughctl_rows -o NAME domains
end
function __passthroughctl_free_disks
    __passthroughctl_where free -o PATH,AVAIL disk-list
end
function __passthroughctl_vm_disks
    __passthroughctl_rows -o SOURCE disk-attached $argv[1]
end
function __passthroughctl_free_usb
    __passthroughctl_where free -o DEVICE-ID,AVAIL usb-list
end
function __passthroughctl_vm_usb
    __passthroughctl_where $argv[1] -o DEVICE-ID,VM usb-list
end
function __passthroughctl_assignments
    passthroughctl (__passthroughctl_bus) --no-ask-password --no-legend assignments 2>/dev/null |
        string replace -r ' .*' ''
end

# The verb and its arguments so far (options and their values left out).
function __passthroughctl_args
    set -l skip 0
    for t in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch $t
            case --address --target --timeout -o --output
                set skip 1
            case '-*'
            case '*'
                printf '%s\n' $t
        end
    end
end

# __passthroughctl_at N VERB...: the verb is one of VERB and N arguments
# come before the one completed.
function __passthroughctl_at
    set -l a (__passthroughctl_args)
    contains -- "$a[1]" $argv[2..-1]; and test (count $a) -eq (math $argv[1] + 1)
end

function __passthroughctl_arg
    set -l a (__passthroughctl_args)
    printf '%s\n' $a[(math $argv[1] + 1)]
end

function __passthroughctl_columns
    set -l verb (__passthroughctl_args)[1]
    test -n "$verb"; or set verb disk-list
    set -l token (commandline -ct)
    set -l head (string match -r '^.*,' -- $token)
    for name in (passthroughctl --list-columns $verb 2>/dev/null | string trim | string replace -r ' .*' '')
        printf '%s%s\n' "$head" $name
    end
end

set -l verbs disk-list disk-attached disk-attach disk-detach usb-list usb-attached usb-attach usb-detach \
    attached assign unassign assignments attach-all detach-all import-bbvirt domains monitor version help
set -l running_vm_verbs disk-attach usb-attach disk-detach usb-detach attached disk-attached usb-attached \
    attach-all detach-all

complete -c passthroughctl -f
complete -c passthroughctl -n "not __fish_seen_subcommand_from $verbs" -a "$verbs"

complete -c passthroughctl -s h -l help -d 'Show the help'
complete -c passthroughctl -l version -d 'Show the client version'
complete -c passthroughctl -s v -l verbose -d 'Show D-Bus error names'
complete -c passthroughctl -l json -d 'Print the bus records as JSON'
complete -c passthroughctl -l no-legend -d 'Omit table headers and hints'
complete -c passthroughctl -s n -l noheadings -d 'Omit table headers'
complete -c passthroughctl -s o -l output -x -a '(__passthroughctl_columns)' -d 'Columns of a listing'
complete -c passthroughctl -l list-columns -d 'List the columns of a listing'
complete -c passthroughctl -s r -l raw -d 'Raw table, as lsblk --raw'
complete -c passthroughctl -l no-ask-password -d 'Do not ask for a password'
complete -c passthroughctl -l address -x -d 'D-Bus address'
complete -c passthroughctl -n '__fish_seen_subcommand_from disk-attach' -l target -x -a 'vdb vdc vdd vde sda sdb sdc' -d 'Guest target'
complete -c passthroughctl -n '__fish_seen_subcommand_from disk-attach' -l readonly -d 'Attach read-only'
complete -c passthroughctl -n '__fish_seen_subcommand_from disk-attach' -l scsi -d 'On the virtio-scsi bus'
complete -c passthroughctl -n '__fish_seen_subcommand_from disk-attach' -l lun -d 'A SCSI disk as a LUN'
complete -c passthroughctl -n '__fish_seen_subcommand_from disk-attach' -l rawio -d 'The guest may send any command'
complete -c passthroughctl -n '__fish_seen_subcommand_from disk-attach' -l no-discard -d 'Guest TRIM stops at QEMU'
complete -c passthroughctl -n '__fish_seen_subcommand_from disk-detach usb-detach detach-all' -l timeout -x -d 'Seconds to wait for the guest'
complete -c passthroughctl -n '__fish_seen_subcommand_from disk-attach disk-detach usb-attach usb-detach attach-all detach-all import-bbvirt' -l dry-run -d 'Show what would be done'

complete -c passthroughctl -n "__passthroughctl_at 0 $running_vm_verbs" -a '(__passthroughctl_running_vms)'
complete -c passthroughctl -n '__passthroughctl_at 0 assign' -a '(__passthroughctl_all_vms)'
complete -c passthroughctl -n '__passthroughctl_at 1 disk-attach' -a '(__passthroughctl_free_disks)'
complete -c passthroughctl -n '__passthroughctl_at 1 disk-detach' -a '(__passthroughctl_vm_disks (__passthroughctl_arg 1))'
complete -c passthroughctl -n '__passthroughctl_at 1 usb-attach' -a '(__passthroughctl_free_usb)'
complete -c passthroughctl -n '__passthroughctl_at 1 usb-detach' -a '(__passthroughctl_vm_usb (__passthroughctl_arg 1))'
complete -c passthroughctl -n '__passthroughctl_at 1 assign' -a 'usb:serial= usb:id= usb:port= disk:wwn= disk:serial= disk:by-id= (__passthroughctl_free_usb) (__passthroughctl_free_disks)'
complete -c passthroughctl -n '__passthroughctl_at 0 unassign' -a '(__passthroughctl_assignments)'
complete -c passthroughctl -n '__passthroughctl_at 0 import-bbvirt' -F
