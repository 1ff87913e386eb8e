// Package safepath walks paths that a less trusted user may shape, and
// opens files and folders there, without letting that user redirect the
// caller (usually root) anywhere else. It is the one walk from "/" in the
// project: the workers' log files, the master's event log and tail/clear
// use it leniently (file by file), the master's rundir and control socket
// folder under a Require rule.
//
// A path is resolved one component at a time from "/", each folder opened
// with O_PATH|O_NOFOLLOW and checked with fstat, so what is checked is what
// is used. Every folder gets a trust level:
//
//   - trusted: it and every folder above it can be changed only by root or
//     the caller (owned by one of them, not writable by group or others,
//     except a group-writable folder of group 0);
//   - sticky: as trusted, but others may write it with the sticky bit set
//     (/tmp): its entries owned by root or the caller are trusted, others'
//     entries are not, as the kernel's protected_symlinks decides;
//   - untrusted: anyone else may change its entries, and so everything
//     below it.
//
// Invariants:
//
//   - A symbolic link is followed only where its folder trusts it and it
//     belongs to root or the caller; once a folder is untrusted no link
//     below it is followed. The last component of a file is never
//     followed (that of a folder asked for is).
//   - Under a Require rule (Safe, Own) no folder on the way may be
//     untrusted: the walk stops at the first one, before looking at or
//     creating anything in it, with an *UntrustedError naming it, its
//     owner and why. The folder asked for is judged last, by the rule.
//   - A missing folder is created (Options.Create) only with mkdirat in
//     the folder the walk holds, mode 0700, and then opened and judged
//     like one found there.
//   - The file is opened with O_NOFOLLOW|O_NONBLOCK|O_NOCTTY|O_CLOEXEC, so
//     a FIFO, a device or a socket put where a file belongs never blocks
//     the caller or becomes its terminal; only a regular file is returned.
//   - A file created is created with O_EXCL and given to the Owner by fchown
//     on the descriptor; nothing is ever chowned or chmodded by path.
//   - An existing file in a folder that does not trust it must belong to
//     the Owner, and if the Owner is root or the caller it must have one
//     link: a hard link planted by another user is refused.
//   - Renames happen inside one resolved folder (renameat on its
//     descriptor), never through a path.
//
// The package does not decide what a path may be (the config does), nor
// word its refusals for a user (the caller does, from UntrustedError), and
// does not protect a user from their own links: when the caller has
// already dropped to the Owner, the Owner's own folders are trusted.
package safepath
