//! NBD exports on a unix socket: every device of a [`DeviceSet`] is an export
//! named by its dm name, so qemu, nbdcopy and other libnbd clients can reach
//! the userspace engine's devices where no kernel device-mapper exists.
//!
//! The server speaks the fixed newstyle handshake, structured replies and
//! the `base:allocation` meta context (`NBD_CMD_BLOCK_STATUS`, so nbdcopy
//! and `qemu-img convert` skip holes). Each connection has up to
//! [`MAX_IN_FLIGHT`] workers (started as the queue deepens, kept for the
//! connection's life) that take turns reading a request and serve the one
//! they read: requests are served concurrently and answered as they
//! complete, in any order, as the protocol allows. A client that keeps one
//! read in flight at a time has it served by the reader alone, as no other
//! worker's wake-up would help it (`Pace`). A flush
//! makes every completed write of the device durable, whichever connection
//! wrote it, so the export advertises `NBD_FLAG_CAN_MULTI_CONN`.
//!
//! Open/close accounting lives in one place: the device is opened when the
//! client picks its export ([`handshake`]) and held by the connection's
//! [`Conn`], dropped once every worker is done, so the
//! engine's open count follows the clients.
//!
//! Everything a client sends is bounded before it is believed: option
//! lengths, request lengths and ranges. A client that breaks the framing
//! loses its own connection and nothing else.

use super::{DeviceSet, OpenDevice};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, IoSlice, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

// Handshake.
const NBDMAGIC: u64 = 0x4e42_444d_4147_4943;
const IHAVEOPT: u64 = 0x4948_4156_454f_5054;
const OPT_REPLY_MAGIC: u64 = 0x0003_e889_0455_65a9;
const FLAG_FIXED_NEWSTYLE: u16 = 1 << 0;
const FLAG_NO_ZEROES: u16 = 1 << 1;
const CLIENT_FIXED_NEWSTYLE: u32 = 1 << 0;
const CLIENT_NO_ZEROES: u32 = 1 << 1;

// Options.
const OPT_EXPORT_NAME: u32 = 1;
const OPT_ABORT: u32 = 2;
const OPT_LIST: u32 = 3;
const OPT_INFO: u32 = 6;
const OPT_GO: u32 = 7;
const OPT_STRUCTURED_REPLY: u32 = 8;
const OPT_LIST_META_CONTEXT: u32 = 9;
const OPT_SET_META_CONTEXT: u32 = 10;

// Option replies.
const REP_ACK: u32 = 1;
const REP_SERVER: u32 = 2;
const REP_INFO: u32 = 3;
const REP_META_CONTEXT: u32 = 4;
const REP_ERR_UNSUP: u32 = (1 << 31) | 1;
const REP_ERR_POLICY: u32 = (1 << 31) | 2;
const REP_ERR_INVALID: u32 = (1 << 31) | 3;
const REP_ERR_UNKNOWN: u32 = (1 << 31) | 6;
const REP_ERR_TOO_BIG: u32 = (1 << 31) | 9;

// Information items of NBD_OPT_INFO and NBD_OPT_GO.
const INFO_EXPORT: u16 = 0;
const INFO_NAME: u16 = 1;
const INFO_BLOCK_SIZE: u16 = 3;

// Transmission flags.
const TFLAG_HAS_FLAGS: u16 = 1 << 0;
const TFLAG_READ_ONLY: u16 = 1 << 1;
const TFLAG_SEND_FLUSH: u16 = 1 << 2;
const TFLAG_SEND_FUA: u16 = 1 << 3;
const TFLAG_SEND_TRIM: u16 = 1 << 5;
const TFLAG_SEND_WRITE_ZEROES: u16 = 1 << 6;
const TFLAG_CAN_MULTI_CONN: u16 = 1 << 8;

// Transmission.
const REQUEST_MAGIC: u32 = 0x2560_9513;
const SIMPLE_REPLY_MAGIC: u32 = 0x6744_6698;
const CMD_READ: u16 = 0;
const CMD_WRITE: u16 = 1;
const CMD_DISC: u16 = 2;
const CMD_FLUSH: u16 = 3;
const CMD_TRIM: u16 = 4;
const CMD_WRITE_ZEROES: u16 = 6;
const CMD_BLOCK_STATUS: u16 = 7;
const CMD_FLAG_FUA: u16 = 1 << 0;
const CMD_FLAG_NO_HOLE: u16 = 1 << 1;
const CMD_FLAG_DF: u16 = 1 << 2;
const CMD_FLAG_REQ_ONE: u16 = 1 << 3;
const CMD_FLAGS_KNOWN: u16 = CMD_FLAG_FUA | CMD_FLAG_NO_HOLE | CMD_FLAG_DF | CMD_FLAG_REQ_ONE;

// Structured replies.
const STRUCTURED_REPLY_MAGIC: u32 = 0x668e_33ef;
const REPLY_FLAG_DONE: u16 = 1 << 0;
const REPLY_TYPE_OFFSET_DATA: u16 = 1;
const REPLY_TYPE_BLOCK_STATUS: u16 = 5;
const REPLY_TYPE_ERROR: u16 = (1 << 15) + 1;

// The one meta context we serve.
const ALLOCATION_CONTEXT: &str = "base:allocation";
const ALLOCATION_CONTEXT_ID: u32 = 1;
const STATE_HOLE: u32 = 1 << 0;
const STATE_ZERO: u32 = 1 << 1;

// NBD error numbers are the protocol's own, fixed whatever the host's errno values.
const NBD_EPERM: u32 = 1;
const NBD_EIO: u32 = 5;
const NBD_ENOMEM: u32 = 12;
const NBD_EINVAL: u32 = 22;
const NBD_ENOSPC: u32 = 28;
const NBD_EOVERFLOW: u32 = 75;
const NBD_ENOTSUP: u32 = 95;
const NBD_ESHUTDOWN: u32 = 108;

/// Largest read or write payload served, as advertised in NBD_INFO_BLOCK_SIZE.
const MAX_PAYLOAD: u32 = 32 << 20;
/// Block size the server prefers clients to use, as advertised.
const PREFERRED_BLOCK: u32 = 4096;
/// Longest option payload read: a 4096-byte name plus its info requests fits,
/// and a client's length field never sizes an allocation beyond this.
const MAX_OPTION_LEN: u32 = 16 << 10;
/// Chunk in which WRITE_ZEROES is written and oversized payloads are skipped.
const ZERO_CHUNK: usize = 1 << 20;
/// Requests a connection serves at once (and workers it may start); the
/// reader stops reading while this many are queued or running.
pub const MAX_IN_FLIGHT: usize = 32;

/// Piece in which a large read served alone is read and sent (see
/// `Conn::read_in_pieces`): small enough that the client's copy of one
/// overlaps the read of the next, large enough to cost few syscalls.
const READ_PIECE: usize = 256 << 10;

/// Largest buffer a worker keeps between requests (nbdcopy's and qemu's
/// requests fit; a rare larger one gets a buffer of its own).
const KEPT_BUFFER: usize = 4 << 20;

/// Send buffer of a connection: a whole 1 MiB read reply (and then some)
/// is queued in one `writev`, so a worker never waits on the client in the
/// middle of a reply while holding the connection's output.
const SEND_BUFFER: usize = 4 << 20;

/// Streams of the live connections, so that shutdown can end them.
type Connections = Arc<Mutex<HashMap<u64, UnixStream>>>;

/// A running NBD server; dropping it (or [`NbdServer::shutdown`]) stops it.
pub struct NbdServer {
    path: PathBuf,
    /// Device and inode of the socket we bound, so we never remove a successor's.
    socket_id: (u64, u64),
    /// Closing our end wakes the accept thread out of `poll`.
    wake: Option<UnixStream>,
    acceptor: Option<JoinHandle<Vec<JoinHandle<()>>>>,
    connections: Connections,
}

/// Serve every device of `devices` over NBD on a unix socket at `socket_path`.
///
/// A stale socket file at the path is replaced; a live one (something accepts
/// on it) is left alone and the call fails with `AddrInUse`.
pub fn serve(devices: Arc<dyn DeviceSet>, socket_path: &Path) -> io::Result<NbdServer> {
    remove_stale_socket(socket_path)?;
    let listener = UnixListener::bind(socket_path)?;
    let started = start(devices, socket_path, listener);
    if started.is_err() {
        // Leave no socket behind that nobody will ever accept on.
        let _ = std::fs::remove_file(socket_path);
    }
    started
}

fn start(
    devices: Arc<dyn DeviceSet>,
    socket_path: &Path,
    listener: UnixListener,
) -> io::Result<NbdServer> {
    // The devices are raw block access: only the owner may connect. Binding
    // first and narrowing after leaves a short window, which the runtime
    // directory's own permissions close.
    std::fs::set_permissions(socket_path, std::fs::Permissions::from_mode(0o600))?;
    let meta = std::fs::symlink_metadata(socket_path)?;
    // Non-blocking so that an accept after `poll` cannot hang on a client
    // that went away in between.
    listener.set_nonblocking(true)?;
    let (wake, wake_rx) = UnixStream::pair()?;
    let connections: Connections = Arc::default();
    let conns = connections.clone();
    let acceptor = std::thread::Builder::new()
        .name("nbd-accept".into())
        .spawn(move || accept_loop(listener, wake_rx, devices, conns))?;
    Ok(NbdServer {
        path: socket_path.to_path_buf(),
        socket_id: (meta.dev(), meta.ino()),
        wake: Some(wake),
        acceptor: Some(acceptor),
        connections,
    })
}

impl NbdServer {
    /// Where clients connect (`nbd+unix:///NAME?socket=PATH`).
    pub fn socket_path(&self) -> &Path {
        &self.path
    }

    /// Stop accepting, end every live connection (dropping its device) and
    /// remove the socket; returns once all connection threads are gone.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(acceptor) = self.acceptor.take() else {
            return;
        };
        // First the name, so no new client finds us while we wind down.
        if let Ok(meta) = std::fs::symlink_metadata(&self.path) {
            if (meta.dev(), meta.ino()) == self.socket_id {
                let _ = std::fs::remove_file(&self.path);
            }
        }
        drop(self.wake.take());
        let workers = acceptor.join().unwrap_or_default();
        // The acceptor is gone, so the set of connections is final.
        if let Ok(conns) = self.connections.lock() {
            for stream in conns.values() {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        for worker in workers {
            let _ = worker.join();
        }
    }
}

impl Drop for NbdServer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for NbdServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NbdServer")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn remove_stale_socket(path: &Path) -> io::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a socket", path.display()),
        ));
    }
    if UnixStream::connect(path).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("{}: another server is listening", path.display()),
        ));
    }
    std::fs::remove_file(path)
}

fn accept_loop(
    listener: UnixListener,
    wake: UnixStream,
    devices: Arc<dyn DeviceSet>,
    connections: Connections,
) -> Vec<JoinHandle<()>> {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    let mut next_id = 0u64;
    loop {
        let mut fds = [
            PollFd::new(listener.as_fd(), PollFlags::POLLIN),
            PollFd::new(wake.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => break,
        }
        if fds[1].revents().is_some_and(|r| !r.is_empty()) {
            break;
        }
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(_) => {
                // Out of descriptors or memory: back off rather than spin.
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        workers.retain(|w| !w.is_finished());
        let id = next_id;
        next_id += 1;
        if stream.set_nonblocking(false).is_err() {
            continue;
        }
        let Ok(registered) = stream.try_clone() else {
            continue;
        };
        if let Ok(mut conns) = connections.lock() {
            conns.insert(id, registered);
        }
        let devices = devices.clone();
        let conns = connections.clone();
        let spawned = std::thread::Builder::new()
            .name("nbd-conn".into())
            .spawn(move || {
                let _registration = Registration {
                    id,
                    connections: conns,
                };
                let _ = serve_connection(&*devices, stream);
            });
        match spawned {
            Ok(worker) => workers.push(worker),
            Err(_) => {
                if let Ok(mut conns) = connections.lock() {
                    conns.remove(&id);
                }
            }
        }
    }
    workers
}

/// Takes a connection out of the live set however its thread ends, panics included.
struct Registration {
    id: u64,
    connections: Connections,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut conns) = self.connections.lock() {
            conns.remove(&self.id);
        }
    }
}

fn serve_connection(devices: &dyn DeviceSet, stream: UnixStream) -> io::Result<()> {
    // Best effort: the kernel caps it at net.core.wmem_max, and the default works too.
    let _ = nix::sys::socket::setsockopt(&stream, nix::sys::socket::sockopt::SndBuf, &SEND_BUFFER);
    let mut reader = BufReader::with_capacity(64 << 10, stream.try_clone()?);
    let mut writer = stream;
    let mut session = Session::default();
    let Some(device) = handshake(devices, &mut reader, &mut writer, &mut session)? else {
        return Ok(());
    };
    let watch = writer.try_clone()?;
    transmission(device, session, reader, writer, watch);
    Ok(())
}

/// What the handshake settled for transmission.
#[derive(Debug, Clone, Copy, Default)]
struct Session {
    /// The client asked for structured replies.
    structured: bool,
    /// The client selected `base:allocation`.
    allocation: bool,
}

/// An `NBD_OPT_{LIST,SET}_META_CONTEXT` payload: export name and queries.
fn parse_meta_request(data: &[u8]) -> Option<(&str, Vec<&str>)> {
    let word = |at: usize| -> Option<usize> {
        usize::try_from(u32::from_be_bytes(
            data.get(at..at.checked_add(4)?)?.try_into().ok()?,
        ))
        .ok()
    };
    let name_len = word(0)?;
    let name_end = 4usize.checked_add(name_len)?;
    let name = std::str::from_utf8(data.get(4..name_end)?).ok()?;
    let count = word(name_end)?;
    let mut at = name_end + 4;
    let mut queries = Vec::new();
    for _ in 0..count {
        let len = word(at)?;
        let end = (at + 4).checked_add(len)?;
        queries.push(std::str::from_utf8(data.get(at + 4..end)?).ok()?);
        at = end;
    }
    (at == data.len()).then_some((name, queries))
}

/// Answer a meta context option; `Some(selected)` for a valid SET.
fn meta_context(
    devices: &dyn DeviceSet,
    w: &mut impl Write,
    option: u32,
    data: &[u8],
    session: &Session,
) -> io::Result<Option<bool>> {
    if !session.structured {
        option_reply(
            w,
            option,
            REP_ERR_INVALID,
            b"structured replies not negotiated",
        )?;
        return Ok(None);
    }
    let Some((name, queries)) = parse_meta_request(data) else {
        option_reply(
            w,
            option,
            REP_ERR_INVALID,
            b"malformed meta context request",
        )?;
        return Ok(None);
    };
    if !devices.devices().iter().any(|d| d.name == name) {
        let msg = format!("no export named {name:?}");
        option_reply(w, option, REP_ERR_UNKNOWN, msg.as_bytes())?;
        return Ok(None);
    }
    let listing = option == OPT_LIST_META_CONTEXT;
    let wanted = if listing {
        queries.is_empty()
            || queries
                .iter()
                .any(|q| *q == "base:" || *q == ALLOCATION_CONTEXT)
    } else {
        queries.contains(&ALLOCATION_CONTEXT)
    };
    if wanted {
        // A LIST reply's id means nothing; 0, as the protocol suggests.
        let id = if listing { 0 } else { ALLOCATION_CONTEXT_ID };
        let mut reply = Vec::with_capacity(4 + ALLOCATION_CONTEXT.len());
        reply.extend_from_slice(&id.to_be_bytes());
        reply.extend_from_slice(ALLOCATION_CONTEXT.as_bytes());
        option_reply(w, option, REP_META_CONTEXT, &reply)?;
    }
    option_reply(w, option, REP_ACK, &[])?;
    Ok((!listing).then_some(wanted))
}

fn read_u32(r: &mut impl Read) -> io::Result<u32> {
    let mut b = [0; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_be_bytes(b))
}

fn read_u64(r: &mut impl Read) -> io::Result<u64> {
    let mut b = [0; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_be_bytes(b))
}

fn option_reply(w: &mut impl Write, option: u32, reply: u32, data: &[u8]) -> io::Result<()> {
    let len =
        u32::try_from(data.len()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut msg = Vec::with_capacity(20 + data.len());
    msg.extend_from_slice(&OPT_REPLY_MAGIC.to_be_bytes());
    msg.extend_from_slice(&option.to_be_bytes());
    msg.extend_from_slice(&reply.to_be_bytes());
    msg.extend_from_slice(&len.to_be_bytes());
    msg.extend_from_slice(data);
    w.write_all(&msg)
}

fn transmission_flags(read_only: bool) -> u16 {
    let flags = TFLAG_HAS_FLAGS
        | TFLAG_SEND_FLUSH
        | TFLAG_SEND_FUA
        | TFLAG_SEND_TRIM
        | TFLAG_SEND_WRITE_ZEROES
        | TFLAG_CAN_MULTI_CONN;
    if read_only {
        flags | TFLAG_READ_ONLY
    } else {
        flags
    }
}

/// Open `name` for writing if it allows, else read-only.
fn open_export(devices: &dyn DeviceSet, name: &str) -> io::Result<Arc<dyn OpenDevice>> {
    match devices.open(name, true) {
        Err(e) if e.raw_os_error() == Some(libc::EROFS) => devices.open(name, false),
        other => other,
    }
}

/// The error reply an export that cannot be opened earns.
fn open_error_reply(name: &str, e: &io::Error) -> (u32, String) {
    if e.raw_os_error() == Some(libc::ENOENT) {
        (REP_ERR_UNKNOWN, format!("no export named {name:?}"))
    } else {
        (
            REP_ERR_POLICY,
            format!("export {name:?} cannot be opened: {e}"),
        )
    }
}

/// An NBD_OPT_INFO / NBD_OPT_GO payload: export name and requested info items.
fn parse_info_request(data: &[u8]) -> Option<(&str, Vec<u16>)> {
    let name_len = usize::try_from(u32::from_be_bytes(data.get(..4)?.try_into().ok()?)).ok()?;
    let name_end = 4usize.checked_add(name_len)?;
    let name = std::str::from_utf8(data.get(4..name_end)?).ok()?;
    let count_end = name_end.checked_add(2)?;
    let count = u16::from_be_bytes(data.get(name_end..count_end)?.try_into().ok()?);
    let requests = data.get(count_end..)?;
    if requests.len() != usize::from(count) * 2 {
        return None;
    }
    let requests = requests
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    Some((name, requests))
}

fn send_export_info(
    w: &mut impl Write,
    option: u32,
    name: &str,
    size: u64,
    read_only: bool,
    requests: &[u16],
) -> io::Result<()> {
    let mut export = Vec::with_capacity(12);
    export.extend_from_slice(&INFO_EXPORT.to_be_bytes());
    export.extend_from_slice(&size.to_be_bytes());
    export.extend_from_slice(&transmission_flags(read_only).to_be_bytes());
    option_reply(w, option, REP_INFO, &export)?;
    // A minimum of 1 imposes nothing, so sending it unasked is harmless.
    let mut block = Vec::with_capacity(14);
    block.extend_from_slice(&INFO_BLOCK_SIZE.to_be_bytes());
    block.extend_from_slice(&1u32.to_be_bytes());
    block.extend_from_slice(&PREFERRED_BLOCK.to_be_bytes());
    block.extend_from_slice(&MAX_PAYLOAD.to_be_bytes());
    option_reply(w, option, REP_INFO, &block)?;
    if requests.contains(&INFO_NAME) {
        let mut info = Vec::with_capacity(2 + name.len());
        info.extend_from_slice(&INFO_NAME.to_be_bytes());
        info.extend_from_slice(name.as_bytes());
        option_reply(w, option, REP_INFO, &info)?;
    }
    option_reply(w, option, REP_ACK, &[])
}

/// Option haggling; `Some` carries the device the client chose for transmission.
fn handshake(
    devices: &dyn DeviceSet,
    r: &mut impl Read,
    w: &mut impl Write,
    session: &mut Session,
) -> io::Result<Option<Arc<dyn OpenDevice>>> {
    let mut hello = [0u8; 18];
    hello[..8].copy_from_slice(&NBDMAGIC.to_be_bytes());
    hello[8..16].copy_from_slice(&IHAVEOPT.to_be_bytes());
    hello[16..].copy_from_slice(&(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES).to_be_bytes());
    w.write_all(&hello)?;
    let client_flags = read_u32(r)?;
    // The protocol requires hanging up on flags we do not know.
    if client_flags & !(CLIENT_FIXED_NEWSTYLE | CLIENT_NO_ZEROES) != 0 {
        return Ok(None);
    }
    let no_zeroes = client_flags & CLIENT_NO_ZEROES != 0;
    loop {
        if read_u64(r)? != IHAVEOPT {
            return Ok(None);
        }
        let option = read_u32(r)?;
        let len = read_u32(r)?;
        if len > MAX_OPTION_LEN {
            // Skipping would mean reading as much as the client claims; say
            // why and hang up instead.
            option_reply(w, option, REP_ERR_TOO_BIG, b"option payload too long")?;
            return Ok(None);
        }
        let mut data = vec![0u8; len as usize];
        r.read_exact(&mut data)?;
        match option {
            OPT_EXPORT_NAME => {
                // Old-style selection has no error reply: an unknown name can
                // only be answered by hanging up.
                let Ok(name) = std::str::from_utf8(&data) else {
                    return Ok(None);
                };
                let Ok(device) = open_export(devices, name) else {
                    return Ok(None);
                };
                let mut reply = Vec::with_capacity(134);
                reply.extend_from_slice(&device.size_bytes().to_be_bytes());
                reply.extend_from_slice(&transmission_flags(device.read_only()).to_be_bytes());
                if !no_zeroes {
                    reply.extend_from_slice(&[0u8; 124]);
                }
                w.write_all(&reply)?;
                return Ok(Some(device));
            }
            OPT_ABORT => {
                let _ = option_reply(w, option, REP_ACK, &[]);
                return Ok(None);
            }
            OPT_LIST => {
                if !data.is_empty() {
                    option_reply(w, option, REP_ERR_INVALID, b"NBD_OPT_LIST takes no data")?;
                    continue;
                }
                for export in devices.devices() {
                    let Ok(name_len) = u32::try_from(export.name.len()) else {
                        continue;
                    };
                    let mut server = Vec::with_capacity(4 + export.name.len());
                    server.extend_from_slice(&name_len.to_be_bytes());
                    server.extend_from_slice(export.name.as_bytes());
                    option_reply(w, option, REP_SERVER, &server)?;
                }
                option_reply(w, option, REP_ACK, &[])?;
            }
            OPT_INFO | OPT_GO => {
                let Some((name, requests)) = parse_info_request(&data) else {
                    option_reply(w, option, REP_ERR_INVALID, b"malformed info request")?;
                    continue;
                };
                if option == OPT_INFO {
                    match devices.devices().into_iter().find(|d| d.name == name) {
                        Some(info) => send_export_info(
                            w,
                            option,
                            name,
                            info.size_bytes,
                            info.read_only,
                            &requests,
                        )?,
                        None => {
                            let msg = format!("no export named {name:?}");
                            option_reply(w, option, REP_ERR_UNKNOWN, msg.as_bytes())?;
                        }
                    }
                    continue;
                }
                match open_export(devices, name) {
                    Ok(device) => {
                        let (size, ro) = (device.size_bytes(), device.read_only());
                        send_export_info(w, option, name, size, ro, &requests)?;
                        return Ok(Some(device));
                    }
                    Err(e) => {
                        let (reply, msg) = open_error_reply(name, &e);
                        option_reply(w, option, reply, msg.as_bytes())?;
                    }
                }
            }
            OPT_STRUCTURED_REPLY => {
                if !data.is_empty() {
                    option_reply(w, option, REP_ERR_INVALID, b"option takes no data")?;
                } else {
                    session.structured = true;
                    option_reply(w, option, REP_ACK, &[])?;
                }
            }
            OPT_LIST_META_CONTEXT | OPT_SET_META_CONTEXT => {
                if option == OPT_SET_META_CONTEXT {
                    session.allocation = false;
                }
                if let Some(selected) = meta_context(devices, w, option, &data, session)? {
                    session.allocation = selected;
                }
            }
            // TLS, extended headers and the rest: clients must get along
            // without them.
            _ => option_reply(w, option, REP_ERR_UNSUP, b"option not supported")?,
        }
    }
}

/// The NBD error number for an I/O error from the device.
fn nbd_errno(e: &io::Error) -> u32 {
    match e.raw_os_error() {
        Some(libc::EPERM | libc::EROFS | libc::EACCES) => NBD_EPERM,
        Some(libc::EIO) => NBD_EIO,
        Some(libc::ENOMEM) => NBD_ENOMEM,
        Some(libc::EINVAL) => NBD_EINVAL,
        Some(libc::ENOSPC | libc::EDQUOT | libc::EFBIG) => NBD_ENOSPC,
        Some(libc::EOVERFLOW) => NBD_EOVERFLOW,
        Some(libc::EOPNOTSUPP) => NBD_ENOTSUP,
        Some(libc::ESHUTDOWN) => NBD_ESHUTDOWN,
        Some(_) => NBD_EIO,
        None => match e.kind() {
            io::ErrorKind::OutOfMemory => NBD_ENOMEM,
            io::ErrorKind::InvalidInput => NBD_EINVAL,
            _ => NBD_EIO,
        },
    }
}

fn simple_reply_header(error: u32, cookie: u64) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[..4].copy_from_slice(&SIMPLE_REPLY_MAGIC.to_be_bytes());
    h[4..8].copy_from_slice(&error.to_be_bytes());
    h[8..].copy_from_slice(&cookie.to_be_bytes());
    h
}

/// Read a request header; `false` when the client hung up between requests.
fn read_request(r: &mut impl Read, hdr: &mut [u8; 28]) -> io::Result<bool> {
    let mut got = 0;
    while got < hdr.len() {
        match r.read(&mut hdr[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Fill `buf` from the connection: what the reader has buffered first, the
/// rest straight from the socket into `buf` with `MSG_WAITALL`, so a large
/// payload costs one copy and few wake-ups.
fn read_payload(r: &mut BufReader<UnixStream>, buf: &mut [u8]) -> io::Result<()> {
    let buffered = r.buffer();
    let take = buffered.len().min(buf.len());
    buf[..take].copy_from_slice(&buffered[..take]);
    r.consume(take);
    let mut got = take;
    let fd = r.get_ref().as_raw_fd();
    while got < buf.len() {
        let rest = &mut buf[got..];
        // SAFETY: recv into the unfilled part of `buf`, which we own and
        // whose length bounds the call.
        let n = unsafe { libc::recv(fd, rest.as_mut_ptr().cast(), rest.len(), libc::MSG_WAITALL) };
        match n {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n if n > 0 => got += n as usize,
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
    Ok(())
}

/// Write every part in order with as few `writev`s as the socket allows.
fn write_all_vectored(w: &mut impl Write, parts: &[&[u8]]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| IoSlice::new(p))
        .collect();
    let mut bufs = &mut slices[..];
    while !bufs.is_empty() {
        match w.write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Read and drop `len` bytes of a payload we will not use, keeping the stream in step.
fn skip(r: &mut impl Read, len: u64) -> io::Result<()> {
    let copied = io::copy(&mut r.take(len), &mut io::sink())?;
    if copied == len {
        Ok(())
    } else {
        Err(io::ErrorKind::UnexpectedEof.into())
    }
}

/// Whether `offset..offset+len` lies inside the device.
fn in_range(device: &dyn OpenDevice, offset: u64, len: u32) -> bool {
    offset
        .checked_add(u64::from(len))
        .is_some_and(|end| end <= device.size_bytes())
}

fn status(result: io::Result<()>) -> u32 {
    match result {
        Ok(()) => 0,
        Err(e) => nbd_errno(&e),
    }
}

/// Flush after a successful write the client marked FUA.
fn fua(device: &dyn OpenDevice, flags: u16, result: io::Result<()>) -> io::Result<()> {
    result?;
    if flags & CMD_FLAG_FUA != 0 {
        device.flush()?;
    }
    Ok(())
}

/// One request, its write payload (when it was short enough to take) read
/// already into the serving worker's buffer.
struct Request {
    flags: u16,
    kind: u16,
    cookie: u64,
    offset: u64,
    len: u32,
}

/// The reading side of a connection: whichever worker holds it reads the
/// next request (payload included), then lets go and serves it.
struct Input {
    reader: BufReader<UnixStream>,
    /// The client hung up, sent DISC or broke the framing: no more requests.
    done: bool,
}

/// A connection in transmission: the device it opened, its two directions
/// and the workers serving its requests (leader/follower: the worker that
/// reads a request serves it, and a deeper queue keeps up to
/// [`MAX_IN_FLIGHT`] workers busy; at queue depth 1 the reader serves every
/// request itself and no other worker wakes, see [`Pace`]).
struct Conn {
    device: Arc<dyn OpenDevice>,
    session: Session,
    input: Mutex<Input>,
    /// Replies are written whole under this lock, in completion order.
    out: Mutex<UnixStream>,
    /// The same socket again, polled for waiting requests without either lock.
    watch: UnixStream,
    /// Workers started, and how many of them are serving a request (not
    /// reading or waiting to read): counters, not a lock, as every request
    /// touches them.
    started: AtomicUsize,
    serving: AtomicUsize,
    pace: Pace,
    handles: Mutex<Vec<JoinHandle<()>>>,
}

/// Requests in a row that come alone (none other in flight or buffered)
/// before the reader serves such requests itself ([`Pace`]).
const QUIET_RUN: u32 = 32;
/// How often the watcher looks at a request the reader serves itself: a
/// request sent behind it waits two looks (after an idle spell, up to about
/// [`WATCH_WAKE`]) before a spare worker reads it.
const WATCH_TICK: Duration = Duration::from_millis(1);
/// A request served alone for less than this replies without looking (a
/// `poll`) for requests sent behind it: one that waited, waited less than
/// this, and a page-cache hit does not pay a syscall for nothing.
const WATCH_SHORT: Duration = Duration::from_micros(30);
/// The watcher's longest sleep while the reader serves nothing (an idle
/// connection costs a wake-up this often, not every millisecond).
const WATCH_IDLE: Duration = Duration::from_millis(64);
/// From this sleep on, the reader wakes the watcher when it starts serving;
/// below it, a request behind one served alone waits at most about this
/// long before the watcher looks (flagging sooner woke the watcher every
/// millisecond at queue depth 1).
const WATCH_WAKE: Duration = Duration::from_millis(8);

/// Who reads the next request while one is served.
///
/// Handing the input to another worker before serving lets a deeper queue
/// run concurrently, but at queue depth 1 it costs every request a second
/// thread's wake-up (the follower blocked on the input takes it and goes
/// back to sleep in `recv`): measured 2026-12-04 with fio's nbd engine, 4 KiB
/// cold random reads on one connection ran at 10.0-10.6k IOPS that way and
/// 15.0-15.2k with a single worker (nbdkit: 11.9-12.6k). So once
/// [`QUIET_RUN`] requests in a row came alone, the reader keeps serving alone
/// requests itself while the spare workers wait here, off the input's lock.
/// Only reads: writes measured the other way round (4 KiB QD1, a single
/// worker 74-76 MiB/s, two taking turns 93-100), so any other request is
/// handed on as before, to a parked spare if none waits for the input.
/// A request that arrives while the reader serves one ends that: the reader
/// sees it before it replies (having served [`WATCH_SHORT`] or more), or, if
/// serving takes longer than a tick, the watcher (one spare, polling the
/// socket) sees it and reads it itself.
struct Pace {
    /// Requests in a row that came alone, up to [`QUIET_RUN`].
    quiet: AtomicU32,
    /// The number of the request the reader is serving itself, 0 when none.
    serving_alone: AtomicU64,
    /// Numbers the requests served alone.
    numbered: AtomicU64,
    /// When the reader began serving alone, in nanoseconds from `born`.
    alone_since: AtomicU64,
    born: std::time::Instant,
    /// The watcher sleeps longer than [`WATCH_TICK`]: wake it when the
    /// reader starts serving.
    watcher_idle: AtomicBool,
    /// The requests ended: every spare leaves.
    ended: AtomicBool,
    /// A request was handed on while the spares were parked: one of them
    /// reads the next.
    wanted: AtomicBool,
    /// Workers waiting for the input's lock, not parked.
    waiting: AtomicUsize,
    /// A spare is the watcher.
    watched: Mutex<bool>,
    /// The reader stopped serving alone requests, the watcher is wanted or
    /// the requests ended.
    wake: Condvar,
}

impl Pace {
    fn new() -> Self {
        Self {
            // A new connection is taken for queue depth 1 until it shows otherwise.
            quiet: AtomicU32::new(QUIET_RUN),
            serving_alone: AtomicU64::new(0),
            numbered: AtomicU64::new(0),
            alone_since: AtomicU64::new(0),
            born: std::time::Instant::now(),
            watcher_idle: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            wanted: AtomicBool::new(false),
            waiting: AtomicUsize::new(0),
            watched: Mutex::new(false),
            wake: Condvar::new(),
        }
    }

    /// Whether the reader serves a request that came alone itself.
    fn quiet(&self) -> bool {
        self.quiet.load(Ordering::Relaxed) >= QUIET_RUN
    }

    /// A request was handed on: count it towards (or break) a quiet run.
    fn handed_on(&self, alone: bool) {
        let quiet = self.quiet.load(Ordering::Relaxed);
        let next = if alone { (quiet + 1).min(QUIET_RUN) } else { 0 };
        if next != quiet {
            self.quiet.store(next, Ordering::Relaxed);
        }
    }

    /// The reader starts serving a request itself.
    fn begin_alone(&self) {
        let number = self.numbered.fetch_add(1, Ordering::Relaxed) + 1;
        self.alone_since.store(self.nanos(), Ordering::Relaxed);
        self.serving_alone.store(number, Ordering::SeqCst);
        if self.watcher_idle.load(Ordering::Relaxed) {
            let _watched = lock(&self.watched);
            self.wake.notify_all();
        }
    }

    fn end_alone(&self) {
        self.serving_alone.store(0, Ordering::SeqCst);
    }

    fn nanos(&self) -> u64 {
        u64::try_from(self.born.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The reader has served its request alone for [`WATCH_SHORT`] or more:
    /// whether a request waits behind it is worth a look.
    fn served_long(&self) -> bool {
        self.serving_alone.load(Ordering::SeqCst) != 0
            && self
                .nanos()
                .saturating_sub(self.alone_since.load(Ordering::Relaxed))
                >= WATCH_SHORT.as_nanos() as u64
    }

    /// A spare is wanted to read the next request.
    fn want_reader(&self) {
        let _watched = lock(&self.watched);
        self.wanted.store(true, Ordering::SeqCst);
        self.wake.notify_all();
    }

    /// Requests came while one was served alone: hand them on again.
    fn crowded(&self) {
        let _watched = lock(&self.watched);
        self.quiet.store(0, Ordering::Relaxed);
        self.wake.notify_all();
    }

    /// No more requests: the spares leave.
    fn end(&self) {
        let _watched = lock(&self.watched);
        self.ended.store(true, Ordering::SeqCst);
        self.wake.notify_all();
    }

    /// Wait as a spare while the reader serves alone requests itself (one
    /// spare watches the socket meanwhile); `false` once the requests ended.
    fn park(&self, socket: &UnixStream) -> bool {
        let mut watched = lock(&self.watched);
        let watcher = !*watched;
        *watched = true;
        let (mut tick, mut seen) = (WATCH_TICK, 0);
        let go_on = loop {
            if self.ended.load(Ordering::SeqCst) {
                break false;
            }
            if !self.quiet() || self.wanted.swap(false, Ordering::SeqCst) {
                break true;
            }
            if !watcher {
                watched = self.wake.wait(watched).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            let (guard, timeout) = self
                .wake
                .wait_timeout(watched, tick)
                .unwrap_or_else(|p| p.into_inner());
            watched = guard;
            if !timeout.timed_out() {
                (tick, seen) = (WATCH_TICK, 0);
                self.watcher_idle.store(false, Ordering::Relaxed);
                continue;
            }
            let now = self.serving_alone.load(Ordering::SeqCst);
            if now == 0 {
                tick = (tick * 2).min(WATCH_IDLE);
                // Flagged only after a few idle looks: a reader between
                // requests is no reason to cost its next one a wake-up.
                self.watcher_idle
                    .store(tick >= WATCH_WAKE, Ordering::Relaxed);
                seen = 0;
            } else if now == seen && readable(socket) {
                // A request has waited a whole tick behind one served alone.
                self.quiet.store(0, Ordering::Relaxed);
                self.wake.notify_all();
                break true;
            } else {
                (tick, seen) = (WATCH_TICK, now);
                self.watcher_idle.store(false, Ordering::Relaxed);
            }
        };
        if watcher {
            *watched = false;
            self.watcher_idle.store(false, Ordering::Relaxed);
        }
        go_on
    }
}

/// Whether bytes wait on `socket` (a request, or the client hanging up).
fn readable(socket: &UnixStream) -> bool {
    let mut fds = [PollFd::new(socket.as_fd(), PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// At least `len` bytes of `buf` (contents unspecified): a worker's buffer
/// is grown once and never zeroed again.
fn room(buf: &mut Vec<u8>, len: usize) -> &mut [u8] {
    if buf.len() < len {
        buf.resize(len, 0);
    }
    &mut buf[..len]
}

impl Conn {
    /// The input, to read the next request with; `None` once there are no
    /// more. While the reader serves alone requests itself, this worker
    /// waits as a spare ([`Pace::park`]) instead.
    fn take_input(&self) -> Option<MutexGuard<'_, Input>> {
        loop {
            self.pace.waiting.fetch_add(1, Ordering::SeqCst);
            let input = lock(&self.input);
            self.pace.waiting.fetch_sub(1, Ordering::SeqCst);
            if input.done {
                return None;
            }
            if self.pace.serving_alone.load(Ordering::SeqCst) == 0 || !self.pace.quiet() {
                return Some(input);
            }
            drop(input);
            if !self.pace.park(&self.watch) {
                return None;
            }
        }
    }

    /// The next request (a write's payload read into `buf`), or `None` once
    /// there are no more.
    fn next_request(&self, input: &mut Input, buf: &mut Vec<u8>) -> Option<Request> {
        if input.done {
            return None;
        }
        match self.read_one(&mut input.reader, buf) {
            Ok(Some(request)) => Some(request),
            Ok(None) | Err(_) => {
                input.done = true;
                self.pace.end();
                None
            }
        }
    }

    /// Read one request; `None` at a hang-up, DISC or lost framing.
    fn read_one(
        &self,
        r: &mut BufReader<UnixStream>,
        buf: &mut Vec<u8>,
    ) -> io::Result<Option<Request>> {
        let mut hdr = [0u8; 28];
        if !read_request(r, &mut hdr)? {
            return Ok(None);
        }
        let magic = u32::from_be_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
        if magic != REQUEST_MAGIC {
            // Framing is lost; nothing after this can be trusted.
            return Ok(None);
        }
        let kind = u16::from_be_bytes([hdr[6], hdr[7]]);
        let len = u32::from_be_bytes([hdr[24], hdr[25], hdr[26], hdr[27]]);
        if kind == CMD_DISC {
            return Ok(None);
        }
        if kind == CMD_WRITE {
            if len > MAX_PAYLOAD {
                skip(r, u64::from(len))?;
            } else {
                read_payload(r, room(buf, len as usize))?;
            }
        }
        Ok(Some(Request {
            flags: u16::from_be_bytes([hdr[4], hdr[5]]),
            kind,
            cookie: u64::from_be_bytes(hdr[8..16].try_into().unwrap_or_default()),
            offset: u64::from_be_bytes(hdr[16..24].try_into().unwrap_or_default()),
            len,
        }))
    }

    /// Read a request, serve it, again, until the requests end.
    fn work_loop(self: &Arc<Self>) {
        // This worker's payload buffer: the worker that reads a request
        // serves it, so nothing is handed between threads.
        let mut buf = Vec::new();
        // The input, kept by a reader that served its request itself.
        let mut kept = None;
        loop {
            let Some(mut input) = kept.take().or_else(|| self.take_input()) else {
                break;
            };
            let Some(request) = self.next_request(&mut input, &mut buf) else {
                break;
            };
            let alone = self.serving.fetch_add(1, Ordering::SeqCst) == 0
                && input.reader.buffer().is_empty();
            if alone && request.kind == CMD_READ && self.pace.quiet() {
                // Marked before the input is let go, so that a worker
                // waiting for it parks instead of reading.
                self.pace.begin_alone();
                drop(input);
                if self.started.load(Ordering::SeqCst) == 1 {
                    self.start_worker(1); // the watcher
                }
                self.serve(request, &mut buf);
                self.pace.end_alone();
                self.serving.fetch_sub(1, Ordering::SeqCst);
                kept = Some(lock(&self.input));
            } else {
                self.pace.handed_on(alone);
                drop(input);
                if self.pace.quiet() && self.pace.waiting.load(Ordering::SeqCst) == 0 {
                    // The spares are parked: one reads the next request.
                    self.pace.want_reader();
                }
                let serving = self.serving.load(Ordering::SeqCst);
                let started = self.started.load(Ordering::SeqCst);
                if serving >= started && started < MAX_IN_FLIGHT {
                    self.start_worker(started);
                }
                self.serve(request, &mut buf);
                self.serving.fetch_sub(1, Ordering::SeqCst);
            }
            if buf.len() > KEPT_BUFFER {
                // One huge request does not pin its buffer for the connection's life.
                buf = Vec::new();
            }
        }
    }

    /// Start another worker if `started` are all there are (of two workers
    /// that try at once, one starts it: the other's exchange fails as
    /// `started` moved on).
    fn start_worker(self: &Arc<Self>, started: usize) {
        if self
            .started
            .compare_exchange(started, started + 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return;
        }
        let conn = self.clone();
        let spawned = std::thread::Builder::new()
            .name("nbd-io".into())
            .spawn(move || conn.work_loop());
        match spawned {
            Ok(handle) => lock(&self.handles).push(handle),
            Err(_) => {
                self.started.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// Send one whole reply; a client that cannot take it loses the connection.
    fn send(&self, parts: &[&[u8]]) {
        if self.pace.served_long() && readable(&self.watch) {
            // A request came before the reply to the one served alone: the
            // client keeps requests in flight, so hand them on again. (After
            // the reply, a waiting request proves nothing: a quick client
            // answers within the microseconds before we look.)
            self.pace.crowded();
        }
        let mut out = lock(&self.out);
        if write_all_vectored(&mut *out, parts).is_err() {
            let _ = out.shutdown(Shutdown::Both);
        }
    }

    fn reply(&self, error: u32, cookie: u64) {
        self.send(&[&simple_reply_header(error, cookie)]);
    }

    /// The last chunk of a structured reply: `error`, with no message.
    fn send_error_chunk(&self, error: u32, cookie: u64) {
        let mut payload = [0u8; 6];
        payload[..4].copy_from_slice(&error.to_be_bytes());
        self.send(&[&structured_header(REPLY_TYPE_ERROR, cookie, 6), &payload]);
    }

    /// An error reply: structured for the commands that must have one.
    fn reply_error(&self, request: &Request, error: u32) {
        let structured =
            self.session.structured && matches!(request.kind, CMD_READ | CMD_BLOCK_STATUS);
        if structured {
            self.send_error_chunk(error, request.cookie);
        } else {
            self.reply(error, request.cookie);
        }
    }

    fn serve(&self, request: Request, buf: &mut Vec<u8>) {
        let device = &*self.device;
        let Request {
            flags,
            kind,
            cookie,
            offset,
            len,
        } = request;
        let bad_flags = flags & !CMD_FLAGS_KNOWN != 0;
        let error = match kind {
            CMD_READ => {
                if bad_flags || len > MAX_PAYLOAD || !in_range(device, offset, len) {
                    NBD_EINVAL
                } else if len as usize >= 2 * READ_PIECE
                    && self.serving.load(Ordering::SeqCst) == 1
                    // DF (don't fragment): the client wants the data in one chunk.
                    && !(self.session.structured && flags & CMD_FLAG_DF != 0)
                {
                    match self.read_in_pieces(cookie, offset, room(buf, len as usize)) {
                        Ok(()) => return,
                        Err(e) => nbd_errno(&e),
                    }
                } else {
                    let data = room(buf, len as usize);
                    let result = device.read_at(data, offset);
                    let error = match result {
                        Ok(()) if self.session.structured => {
                            let header = structured_header(REPLY_TYPE_OFFSET_DATA, cookie, 8 + len);
                            self.send(&[&header, &offset.to_be_bytes(), data]);
                            0
                        }
                        Ok(()) => {
                            self.send(&[&simple_reply_header(0, cookie), data]);
                            0
                        }
                        Err(e) => nbd_errno(&e),
                    };
                    if error == 0 {
                        return;
                    }
                    error
                }
            }
            CMD_WRITE => {
                if len > MAX_PAYLOAD || bad_flags {
                    NBD_EINVAL
                } else if device.read_only() {
                    NBD_EPERM
                } else if !in_range(device, offset, len) {
                    NBD_ENOSPC
                } else {
                    let data = &buf[..len as usize];
                    status(fua(device, flags, device.write_at(data, offset)))
                }
            }
            CMD_FLUSH => status(device.flush()),
            CMD_TRIM => {
                if bad_flags || !in_range(device, offset, len) {
                    NBD_EINVAL
                } else if device.read_only() {
                    NBD_EPERM
                } else {
                    let result = device.discard(offset, u64::from(len));
                    status(fua(device, flags, result))
                }
            }
            CMD_WRITE_ZEROES => {
                if bad_flags {
                    NBD_EINVAL
                } else if device.read_only() {
                    NBD_EPERM
                } else if !in_range(device, offset, len) {
                    NBD_ENOSPC
                } else {
                    let result = write_zeroes(device, offset, u64::from(len));
                    status(fua(device, flags, result))
                }
            }
            CMD_BLOCK_STATUS => {
                if bad_flags
                    || !self.session.allocation
                    || len == 0
                    || !in_range(device, offset, len)
                {
                    NBD_EINVAL
                } else {
                    match device.allocation(offset, u64::from(len)) {
                        Ok(extents) => {
                            self.block_status(cookie, flags, len, &extents);
                            return;
                        }
                        Err(e) => nbd_errno(&e),
                    }
                }
            }
            _ => NBD_EINVAL,
        };
        if error == 0 {
            self.reply(0, cookie);
        } else {
            self.reply_error(&request, error);
        }
    }

    /// Serve a large read alone on the connection piece by piece, each
    /// piece sent as soon as it is read, so the client copies one piece
    /// out of the socket while the next is read from the device (at queue
    /// depth 1 the reply's copies overlap the read instead of following
    /// it). `Err` only while nothing is sent yet; a later failure ends the
    /// reply with an error chunk (structured) or, as a simple reply cannot
    /// take one back, the connection.
    ///
    /// Structured chunks take the connection's output one at a time, so
    /// the replies of other requests may come between them (the protocol
    /// allows it) instead of waiting on this read's device reads; a simple
    /// reply is one header and its bytes, with nothing between, so it
    /// keeps the output to the end.
    fn read_in_pieces(&self, cookie: u64, offset: u64, data: &mut [u8]) -> io::Result<()> {
        let device = &*self.device;
        let structured = self.session.structured;
        let first = READ_PIECE.min(data.len());
        device.read_at(&mut data[..first], offset)?;
        let mut simple_out = (!structured).then(|| lock(&self.out));
        let mut at = 0;
        while at < data.len() {
            let end = (at + READ_PIECE).min(data.len());
            if at > 0 {
                if let Err(e) = device.read_at(&mut data[at..end], offset + at as u64) {
                    match simple_out {
                        Some(out) => {
                            let _ = out.shutdown(Shutdown::Both);
                        }
                        None => self.send_error_chunk(nbd_errno(&e), cookie),
                    }
                    return Ok(());
                }
            }
            let piece = &data[at..end];
            let sent = match simple_out.as_mut() {
                Some(out) if at == 0 => {
                    write_all_vectored(&mut **out, &[&simple_reply_header(0, cookie), piece])
                }
                Some(out) => write_all_vectored(&mut **out, &[piece]),
                None => {
                    let flags = if end == data.len() {
                        REPLY_FLAG_DONE
                    } else {
                        0
                    };
                    let len = 8 + piece.len() as u32;
                    let header = chunk_header(flags, REPLY_TYPE_OFFSET_DATA, cookie, len);
                    let piece_offset = (offset + at as u64).to_be_bytes();
                    write_all_vectored(&mut *lock(&self.out), &[&header, &piece_offset, piece])
                }
            };
            if sent.is_err() {
                // The client cannot take the reply: the connection is over.
                let out = simple_out.unwrap_or_else(|| lock(&self.out));
                let _ = out.shutdown(Shutdown::Both);
                return Ok(());
            }
            at = end;
        }
        Ok(())
    }

    /// A `base:allocation` reply for `len` bytes (fewer with `REQ_ONE`).
    fn block_status(&self, cookie: u64, flags: u16, len: u32, extents: &[super::Extent]) {
        let mut payload = Vec::with_capacity(4 + 8 * extents.len().max(1));
        payload.extend_from_slice(&ALLOCATION_CONTEXT_ID.to_be_bytes());
        let mut left = u64::from(len);
        for extent in extents {
            let take = extent.len.min(left);
            if take == 0 {
                break;
            }
            let state =
                if extent.hole { STATE_HOLE } else { 0 } | if extent.zero { STATE_ZERO } else { 0 };
            payload.extend_from_slice(&(take as u32).to_be_bytes());
            payload.extend_from_slice(&state.to_be_bytes());
            left -= take;
            if flags & CMD_FLAG_REQ_ONE != 0 {
                break;
            }
        }
        if payload.len() == 4 {
            // A device that answered nothing: all data.
            payload.extend_from_slice(&len.to_be_bytes());
            payload.extend_from_slice(&0u32.to_be_bytes());
        }
        let header = structured_header(REPLY_TYPE_BLOCK_STATUS, cookie, payload.len() as u32);
        self.send(&[&header, &payload]);
    }
}

/// The header of the only (so final) chunk of a structured reply.
fn structured_header(kind: u16, cookie: u64, len: u32) -> [u8; 20] {
    chunk_header(REPLY_FLAG_DONE, kind, cookie, len)
}

/// The header of one chunk of a structured reply.
fn chunk_header(flags: u16, kind: u16, cookie: u64, len: u32) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[..4].copy_from_slice(&STRUCTURED_REPLY_MAGIC.to_be_bytes());
    h[4..6].copy_from_slice(&flags.to_be_bytes());
    h[6..8].copy_from_slice(&kind.to_be_bytes());
    h[8..16].copy_from_slice(&cookie.to_be_bytes());
    h[16..20].copy_from_slice(&len.to_be_bytes());
    h
}

/// Serve requests until the client disconnects or breaks the framing;
/// every request read is answered before this returns.
fn transmission(
    device: Arc<dyn OpenDevice>,
    session: Session,
    reader: BufReader<UnixStream>,
    w: UnixStream,
    watch: UnixStream,
) {
    let conn = Arc::new(Conn {
        device,
        session,
        input: Mutex::new(Input {
            reader,
            done: false,
        }),
        watch,
        out: Mutex::new(w),
        started: AtomicUsize::new(1),
        serving: AtomicUsize::new(0),
        pace: Pace::new(),
        handles: Mutex::default(),
    });
    // This thread is the first worker; then wait for the others.
    conn.work_loop();
    loop {
        let handles = std::mem::take(&mut *lock(&conn.handles));
        if handles.is_empty() {
            break;
        }
        for handle in handles {
            let _ = handle.join();
        }
    }
}

/// Zero a range by writing zeros: `discard` may keep the old data.
fn write_zeroes(device: &dyn OpenDevice, mut offset: u64, mut len: u64) -> io::Result<()> {
    let zeroes = vec![0u8; ZERO_CHUNK.min(len as usize)];
    while len > 0 {
        let n = len.min(ZERO_CHUNK as u64);
        device.write_at(&zeroes[..n as usize], offset)?;
        offset += n;
        len -= n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::memory::{FakeDevice, FakeSet, MemDevice, MemSet};
    use super::*;
    use std::process::{Command, Output};
    use std::sync::atomic::Ordering;
    use std::time::Instant;

    struct Fixture {
        dir: tempfile::TempDir,
        set: Arc<MemSet>,
        server: Option<NbdServer>,
    }

    impl Fixture {
        /// A server over a set of (name, size, read_only) devices.
        fn new(devices: &[(&str, usize, bool)]) -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let set = Arc::new(MemSet::default());
            for &(name, size, ro) in devices {
                set.add(name, size, ro);
            }
            let server = serve(set.clone(), &dir.path().join("nbd.sock")).unwrap();
            Fixture {
                dir,
                set,
                server: Some(server),
            }
        }

        fn sock(&self) -> PathBuf {
            self.dir.path().join("nbd.sock")
        }

        fn uri(&self, export: &str) -> String {
            format!("nbd+unix:///{export}?socket={}", self.sock().display())
        }

        fn dev(&self, name: &str) -> Arc<MemDevice> {
            self.set.devices.lock().unwrap()[name].clone()
        }

        fn client(&self) -> Client {
            Client::connect(&self.sock())
        }

        /// A well-behaved client still gets correct service.
        fn assert_healthy(&self, export: &str) {
            let mut c = self.client();
            let (size, _) = c.go(export).unwrap();
            let pattern: Vec<u8> = (0..4096u32).map(|i| (i * 7 + 3) as u8).collect();
            assert_eq!(c.request(CMD_WRITE, 0, 0, 4096, &pattern).0, 0);
            let (err, data) = c.request(CMD_READ, 0, 0, 4096, &[]);
            assert_eq!(err, 0);
            assert_eq!(data, pattern);
            assert_eq!(size, self.dev(export).bytes.lock().unwrap().len() as u64);
            c.disconnect();
            wait_opens(&self.dev(export), 0);
        }
    }

    /// Wait (bounded) for a device's open count to settle at `want`.
    fn wait_opens(dev: &MemDevice, want: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while dev.opens.load(Ordering::SeqCst) != want {
            assert!(
                Instant::now() < deadline,
                "open count stuck at {}, want {want}",
                dev.opens.load(Ordering::SeqCst)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A hand-rolled client, to play both a correct and a hostile peer.
    struct Client {
        s: UnixStream,
    }

    impl Client {
        /// Connect and read the greeting, without answering it.
        fn raw(path: &Path) -> Client {
            let s = UnixStream::connect(path).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut c = Client { s };
            let mut hello = [0u8; 18];
            c.s.read_exact(&mut hello).unwrap();
            assert_eq!(&hello[..8], b"NBDMAGIC");
            assert_eq!(&hello[8..16], b"IHAVEOPT");
            assert_eq!(
                u16::from_be_bytes([hello[16], hello[17]]),
                FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES
            );
            c
        }

        fn connect(path: &Path) -> Client {
            let mut c = Client::raw(path);
            c.send(&(CLIENT_FIXED_NEWSTYLE | CLIENT_NO_ZEROES).to_be_bytes());
            c
        }

        fn send(&mut self, bytes: &[u8]) {
            self.s.write_all(bytes).unwrap();
        }

        fn send_option(&mut self, option: u32, data: &[u8]) {
            let mut msg = IHAVEOPT.to_be_bytes().to_vec();
            msg.extend_from_slice(&option.to_be_bytes());
            msg.extend_from_slice(&(data.len() as u32).to_be_bytes());
            msg.extend_from_slice(data);
            self.send(&msg);
        }

        /// One option reply: (option, reply type, data).
        fn reply(&mut self) -> (u32, u32, Vec<u8>) {
            assert_eq!(read_u64(&mut self.s).unwrap(), OPT_REPLY_MAGIC);
            let option = read_u32(&mut self.s).unwrap();
            let kind = read_u32(&mut self.s).unwrap();
            let len = read_u32(&mut self.s).unwrap();
            let mut data = vec![0; len as usize];
            self.s.read_exact(&mut data).unwrap();
            (option, kind, data)
        }

        /// Replies up to and including the final one (ACK or an error).
        fn replies(&mut self) -> Vec<(u32, Vec<u8>)> {
            let mut out = Vec::new();
            loop {
                let (_, kind, data) = self.reply();
                out.push((kind, data));
                if kind != REP_INFO && kind != REP_SERVER {
                    return out;
                }
            }
        }

        fn info_request(name: &str, requests: &[u16]) -> Vec<u8> {
            let mut data = (name.len() as u32).to_be_bytes().to_vec();
            data.extend_from_slice(name.as_bytes());
            data.extend_from_slice(&(requests.len() as u16).to_be_bytes());
            for r in requests {
                data.extend_from_slice(&r.to_be_bytes());
            }
            data
        }

        /// NBD_OPT_GO: Ok((size, transmission flags)) or Err(reply type).
        fn go(&mut self, name: &str) -> Result<(u64, u16), u32> {
            self.send_option(OPT_GO, &Client::info_request(name, &[]));
            let replies = self.replies();
            let (last, _) = replies.last().unwrap();
            if *last != REP_ACK {
                return Err(*last);
            }
            let export = replies
                .iter()
                .find(|(kind, d)| *kind == REP_INFO && d[..2] == INFO_EXPORT.to_be_bytes())
                .expect("NBD_INFO_EXPORT");
            let d = &export.1;
            assert_eq!(d.len(), 12);
            Ok((
                u64::from_be_bytes(d[2..10].try_into().unwrap()),
                u16::from_be_bytes([d[10], d[11]]),
            ))
        }

        fn send_request(&mut self, kind: u16, flags: u16, offset: u64, len: u32, payload: &[u8]) {
            let mut msg = REQUEST_MAGIC.to_be_bytes().to_vec();
            msg.extend_from_slice(&flags.to_be_bytes());
            msg.extend_from_slice(&kind.to_be_bytes());
            msg.extend_from_slice(&0x1234_5678_9abc_def0u64.to_be_bytes());
            msg.extend_from_slice(&offset.to_be_bytes());
            msg.extend_from_slice(&len.to_be_bytes());
            msg.extend_from_slice(payload);
            self.send(&msg);
        }

        /// One request and its simple reply: (error, read data).
        fn request(
            &mut self,
            kind: u16,
            flags: u16,
            offset: u64,
            len: u32,
            payload: &[u8],
        ) -> (u32, Vec<u8>) {
            self.send_request(kind, flags, offset, len, payload);
            let mut h = [0u8; 16];
            self.s.read_exact(&mut h).unwrap();
            assert_eq!(h[..4], SIMPLE_REPLY_MAGIC.to_be_bytes());
            assert_eq!(h[8..], 0x1234_5678_9abc_def0u64.to_be_bytes());
            let error = u32::from_be_bytes(h[4..8].try_into().unwrap());
            let mut data = Vec::new();
            if kind == CMD_READ && error == 0 {
                data.resize(len as usize, 0);
                self.s.read_exact(&mut data).unwrap();
            }
            (error, data)
        }

        fn disconnect(mut self) {
            self.send_request(CMD_DISC, 0, 0, 0, &[]);
        }

        /// The server hung up on us (reads reach end of file).
        fn assert_closed(mut self) {
            let mut rest = Vec::new();
            match self.s.read_to_end(&mut rest) {
                Ok(_) => {}
                Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
            }
        }
    }

    /// Whether libnbd's tools are here; if not, say so loudly and skip.
    fn have(tool: &str) -> bool {
        let ok = Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            eprintln!("!!! SKIPPING: {tool} not found (apt-get install -y libnbd-bin qemu-utils)");
        }
        ok
    }

    fn run(cmd: &mut Command) -> Output {
        let out = cmd.output().unwrap();
        if !out.status.success() {
            eprintln!(
                "{cmd:?} failed: {}\nstdout: {}\nstderr: {}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out
    }

    fn pattern(len: usize, seed: u32) -> Vec<u8> {
        let mut x = seed.wrapping_mul(2_654_435_761) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    #[test]
    fn nbdinfo_shows_size_and_name() {
        if !have("nbdinfo") {
            return;
        }
        let f = Fixture::new(&[("vg-lv", 3 << 20, false)]);
        let out = run(Command::new("nbdinfo").arg("--json").arg(f.uri("vg-lv")));
        assert!(out.status.success());
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let export = &json["exports"][0];
        assert_eq!(export["export-name"], "vg-lv");
        assert_eq!(export["export-size"], 3 << 20);
        assert_eq!(export["is_read_only"], false);
        assert_eq!(export["block_size_maximum"], MAX_PAYLOAD);
        assert_eq!(export["can_multi_conn"], true);
        let out = run(Command::new("nbdinfo").arg("--size").arg(f.uri("vg-lv")));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "3145728");
        wait_opens(&f.dev("vg-lv"), 0);
    }

    #[test]
    fn nbdinfo_lists_every_export() {
        if !have("nbdinfo") {
            return;
        }
        let f = Fixture::new(&[
            ("vg-a", 1 << 20, false),
            ("vg-b", 2 << 20, true),
            ("vg-c-cow", 4096, false),
        ]);
        let out = run(Command::new("nbdinfo")
            .args(["--list", "--json"])
            .arg(f.uri("")));
        assert!(out.status.success());
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut names: Vec<(String, u64)> = json["exports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["export-name"].as_str().unwrap().to_string(),
                    e["export-size"].as_u64().unwrap(),
                )
            })
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                ("vg-a".to_string(), 1 << 20),
                ("vg-b".to_string(), 2 << 20),
                ("vg-c-cow".to_string(), 4096)
            ]
        );
    }

    #[test]
    fn nbdcopy_round_trip() {
        if !have("nbdcopy") {
            return;
        }
        let size = 8 << 20;
        let f = Fixture::new(&[("vg-data", size, false)]);
        let data = pattern(size, 1);
        let src = f.dir.path().join("in.img");
        let dst = f.dir.path().join("out.img");
        std::fs::write(&src, &data).unwrap();
        // Four connections of 64 requests in flight each: many at once, out of order.
        assert!(run(Command::new("nbdcopy")
            .args([
                "--flush",
                "--connections=4",
                "--requests=64",
                "--request-size=65536"
            ])
            .arg(&src)
            .arg(f.uri("vg-data")))
        .status
        .success());
        assert!(*f.dev("vg-data").bytes.lock().unwrap() == data);
        assert!(f.dev("vg-data").flushes.load(Ordering::SeqCst) > 0);
        assert!(run(Command::new("nbdcopy").arg(f.uri("vg-data")).arg(&dst))
            .status
            .success());
        assert!(std::fs::read(&dst).unwrap() == data);
        wait_opens(&f.dev("vg-data"), 0);
    }

    #[test]
    fn qemu_sees_the_same_bytes() {
        if !have("qemu-img") || !have("qemu-io") {
            return;
        }
        let size = 4 << 20;
        let f = Fixture::new(&[("vg-q", size, false)]);
        let data = pattern(size, 2);
        f.dev("vg-q").bytes.lock().unwrap().copy_from_slice(&data);
        let raw = f.dir.path().join("raw.img");
        std::fs::write(&raw, &data).unwrap();
        let compare = |raw: &Path| {
            run(Command::new("qemu-img")
                .args(["compare", "-f", "raw", "-F", "raw"])
                .arg(raw)
                .arg(f.uri("vg-q")))
        };
        assert_eq!(compare(&raw).status.code(), Some(0));

        // A write through qemu lands in the device, and compare notices.
        let out = run(Command::new("qemu-io")
            .args([
                "-f",
                "raw",
                "-c",
                "write -P 0x5a 1048576 65536",
                "-c",
                "flush",
            ])
            .arg(f.uri("vg-q")));
        assert!(out.status.success());
        assert!(!String::from_utf8_lossy(&out.stdout).contains("error"));
        assert!(
            f.dev("vg-q").bytes.lock().unwrap()[1 << 20..(1 << 20) + 65536]
                .iter()
                .all(|&b| b == 0x5a)
        );
        assert_eq!(compare(&raw).status.code(), Some(1));
        let mut updated = data.clone();
        updated[1 << 20..(1 << 20) + 65536].fill(0x5a);
        std::fs::write(&raw, &updated).unwrap();
        assert_eq!(compare(&raw).status.code(), Some(0));

        // Zeroing and discarding go through WRITE_ZEROES and TRIM.
        let out = run(Command::new("qemu-io")
            .args(["-f", "raw", "-c", "write -z 0 131072"])
            .arg(f.uri("vg-q")));
        assert!(out.status.success());
        assert!(f.dev("vg-q").bytes.lock().unwrap()[..131072]
            .iter()
            .all(|&b| b == 0));
        wait_opens(&f.dev("vg-q"), 0);
    }

    #[test]
    fn read_only_device_refuses_writes() {
        let f = Fixture::new(&[("vg-ro", 1 << 20, true)]);
        let before = f.dev("vg-ro").bytes.lock().unwrap().clone();
        let mut c = f.client();
        let (_, flags) = c.go("vg-ro").unwrap();
        assert_ne!(flags & TFLAG_READ_ONLY, 0);
        assert_eq!(f.dev("vg-ro").opens.load(Ordering::SeqCst), 1);
        assert_eq!(c.request(CMD_WRITE, 0, 0, 512, &[1; 512]).0, NBD_EPERM);
        assert_eq!(c.request(CMD_WRITE_ZEROES, 0, 0, 512, &[]).0, NBD_EPERM);
        assert_eq!(c.request(CMD_TRIM, 0, 0, 512, &[]).0, NBD_EPERM);
        assert_eq!(c.request(CMD_READ, 0, 0, 512, &[]).0, 0);
        c.disconnect();
        assert!(*f.dev("vg-ro").bytes.lock().unwrap() == before);

        if have("nbdinfo") {
            let out = run(Command::new("nbdinfo")
                .args(["--is", "read-only"])
                .arg(f.uri("vg-ro")));
            assert_eq!(out.status.code(), Some(0));
        }
        if have("nbdcopy") {
            let src = f.dir.path().join("in.img");
            std::fs::write(&src, pattern(1 << 20, 3)).unwrap();
            let out = Command::new("nbdcopy")
                .arg(&src)
                .arg(f.uri("vg-ro"))
                .output()
                .unwrap();
            assert!(!out.status.success());
            assert!(*f.dev("vg-ro").bytes.lock().unwrap() == before);
        }
        wait_opens(&f.dev("vg-ro"), 0);
    }

    #[test]
    fn unknown_export_fails_cleanly() {
        let f = Fixture::new(&[("vg-lv", 1 << 20, false)]);
        let mut c = f.client();
        assert_eq!(c.go("vg-nope"), Err(REP_ERR_UNKNOWN));
        c.send_option(OPT_INFO, &Client::info_request("vg-nope", &[]));
        assert_eq!(c.replies().last().unwrap().0, REP_ERR_UNKNOWN);
        // Haggling goes on: the same connection may still pick a real export.
        assert_eq!(c.go("vg-lv"), Ok((1 << 20, transmission_flags(false))));
        c.disconnect();

        // Old-style selection cannot carry an error: the server hangs up.
        let mut c = f.client();
        c.send_option(OPT_EXPORT_NAME, b"vg-nope");
        c.assert_closed();

        if have("nbdinfo") {
            let out = Command::new("nbdinfo")
                .arg(f.uri("vg-nope"))
                .output()
                .unwrap();
            assert!(!out.status.success());
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("vg-nope"), "{stderr}");
        }
        f.assert_healthy("vg-lv");
    }

    #[test]
    fn open_count_follows_the_connection() {
        let f = Fixture::new(&[("vg-lv", 1 << 20, false)]);
        let dev = f.dev("vg-lv");
        let mut c = f.client();
        // Listing and asking for info open nothing.
        c.send_option(OPT_LIST, &[]);
        let replies = c.replies();
        assert_eq!(replies.len(), 2);
        assert_eq!(replies[0].1, b"\0\0\0\x05vg-lv");
        c.send_option(OPT_INFO, &Client::info_request("vg-lv", &[INFO_NAME]));
        let replies = c.replies();
        assert!(replies
            .iter()
            .any(|(k, d)| *k == REP_INFO && d == b"\0\x01vg-lv"));
        assert_eq!(dev.opens.load(Ordering::SeqCst), 0);
        c.go("vg-lv").unwrap();
        assert_eq!(dev.opens.load(Ordering::SeqCst), 1);
        let mut c2 = f.client();
        c2.go("vg-lv").unwrap();
        assert_eq!(dev.opens.load(Ordering::SeqCst), 2);
        c.disconnect();
        wait_opens(&dev, 1);
        // A client that just vanishes closes its device too.
        drop(c2);
        wait_opens(&dev, 0);
    }

    #[test]
    fn export_name_and_zeroes() {
        let f = Fixture::new(&[("vg-lv", 1 << 20, false)]);
        for no_zeroes in [false, true] {
            let mut c = Client::raw(&f.sock());
            let flags = CLIENT_FIXED_NEWSTYLE | if no_zeroes { CLIENT_NO_ZEROES } else { 0 };
            c.send(&flags.to_be_bytes());
            c.send_option(OPT_EXPORT_NAME, b"vg-lv");
            let mut reply = vec![0u8; if no_zeroes { 10 } else { 134 }];
            c.s.read_exact(&mut reply).unwrap();
            assert_eq!(reply[..8], (1u64 << 20).to_be_bytes());
            assert_eq!(reply[8..10], transmission_flags(false).to_be_bytes());
            assert!(reply[10..].iter().all(|&b| b == 0));
            let (err, data) = c.request(CMD_READ, 0, 4096, 8, &[]);
            assert_eq!((err, data), (0, vec![0; 8]));
            c.disconnect();
        }
        wait_opens(&f.dev("vg-lv"), 0);
    }

    #[test]
    fn requests_sent_behind_the_last_option_are_served() {
        // The client does not wait for NBD_OPT_GO's reply: its first two
        // requests reach the handshake's reader in the same read, so
        // transmission must start from what that reader holds, not from
        // the socket.
        let f = Fixture::new(&[("vg-lv", 1 << 20, false)]);
        let mut c = f.client();
        let mut msg = IHAVEOPT.to_be_bytes().to_vec();
        let go = Client::info_request("vg-lv", &[]);
        msg.extend_from_slice(&OPT_GO.to_be_bytes());
        msg.extend_from_slice(&(go.len() as u32).to_be_bytes());
        msg.extend_from_slice(&go);
        msg.extend_from_slice(&request_bytes(CMD_WRITE, 0, 1, 4096, 4));
        msg.extend_from_slice(b"wxyz");
        msg.extend_from_slice(&request_bytes(CMD_FLUSH, 0, 2, 0, 0));
        c.send(&msg);
        assert_eq!(c.replies().last().unwrap().0, REP_ACK);
        let mut cookies = Vec::new();
        for _ in 0..2 {
            let mut h = [0u8; 16];
            c.s.read_exact(&mut h).unwrap();
            assert_eq!(
                h[..8],
                [&SIMPLE_REPLY_MAGIC.to_be_bytes()[..], &[0; 4]].concat()
            );
            cookies.push(u64::from_be_bytes(h[8..].try_into().unwrap()));
        }
        cookies.sort_unstable();
        assert_eq!(cookies, [1, 2]);
        assert_eq!(c.request(CMD_READ, 0, 4096, 4, &[]).1, b"wxyz");
        c.disconnect();
        wait_opens(&f.dev("vg-lv"), 0);
    }

    #[test]
    fn commands_do_what_they_say() {
        let f = Fixture::new(&[("vg-lv", 1 << 20, false)]);
        let dev = f.dev("vg-lv");
        let mut c = f.client();
        c.go("vg-lv").unwrap();
        let data = pattern(65536, 4);
        assert_eq!(c.request(CMD_WRITE, 0, 8192, 65536, &data).0, 0);
        let flushes = dev.flushes.load(Ordering::SeqCst);
        assert_eq!(c.request(CMD_WRITE, CMD_FLAG_FUA, 0, 4, b"abcd").0, 0);
        assert_eq!(dev.flushes.load(Ordering::SeqCst), flushes + 1);
        assert_eq!(c.request(CMD_FLUSH, 0, 0, 0, &[]).0, 0);
        assert_eq!(dev.flushes.load(Ordering::SeqCst), flushes + 2);
        assert_eq!(c.request(CMD_READ, 0, 8192, 65536, &[]).1, data);
        assert_eq!(c.request(CMD_WRITE_ZEROES, 0, 8192, 4096, &[]).0, 0);
        assert_eq!(c.request(CMD_TRIM, 0, 16384, 4096, &[]).0, 0);
        let bytes = dev.bytes.lock().unwrap().clone();
        assert_eq!(&bytes[..4], b"abcd");
        assert!(bytes[8192..8192 + 4096].iter().all(|&b| b == 0));
        assert_eq!(bytes[12288..16384], data[4096..8192]);
        assert!(bytes[16384..20480].iter().all(|&b| b == 0));
        assert_eq!(bytes[20480..8192 + 65536], data[12288..]);
        // A large zeroing crosses the chunk size.
        assert_eq!(c.request(CMD_WRITE_ZEROES, 0, 0, 1 << 20, &[]).0, 0);
        assert!(dev.bytes.lock().unwrap().iter().all(|&b| b == 0));
        // Unknown commands and flags are refused without losing the connection.
        assert_eq!(c.request(99, 0, 0, 0, &[]).0, NBD_EINVAL);
        assert_eq!(c.request(CMD_WRITE, 1 << 12, 0, 4, b"wxyz").0, NBD_EINVAL);
        assert_eq!(c.request(CMD_READ, 0, 0, 4, &[]).1, [0; 4]);
        c.disconnect();
        wait_opens(&dev, 0);
    }

    #[test]
    fn mixed_sizes_in_one_stream_keep_every_byte() {
        // Sent in one go, so the reader's buffer holds headers and parts of
        // payloads at once, and a worker's buffer is longer than its next request.
        let f = Fixture::new(&[("vg-lv", 4 << 20, false)]);
        let dev = f.dev("vg-lv");
        let mut c = f.client();
        c.go("vg-lv").unwrap();
        let sizes = [1 << 20, 4096, 3, 200_000, 1 << 20, 512];
        let mut stream = Vec::new();
        let mut expected = vec![0u8; 4 << 20];
        let mut at = 0u64;
        for (i, &len) in sizes.iter().enumerate() {
            let data = pattern(len, 10 + i as u32);
            stream.extend(request_bytes(CMD_WRITE, 0, i as u64, at, len as u32));
            stream.extend_from_slice(&data);
            expected[at as usize..at as usize + len].copy_from_slice(&data);
            at += len as u64 + 7;
        }
        c.send(&stream);
        let mut cookies = Vec::new();
        for _ in &sizes {
            let mut h = [0u8; 16];
            c.s.read_exact(&mut h).unwrap();
            assert_eq!(h[..4], SIMPLE_REPLY_MAGIC.to_be_bytes());
            assert_eq!(h[4..8], [0; 4]);
            cookies.push(u64::from_be_bytes(h[8..].try_into().unwrap()));
        }
        cookies.sort_unstable();
        assert_eq!(cookies, (0..sizes.len() as u64).collect::<Vec<_>>());
        assert_eq!(*dev.bytes.lock().unwrap(), expected);
        // Reads of every size, each exactly its own bytes.
        let mut at = 0usize;
        for &len in sizes.iter().rev() {
            let got = c.request(CMD_READ, 0, at as u64, len as u32, &[]).1;
            assert_eq!(got, expected[at..at + len]);
            at += 4096;
        }
        c.disconnect();
        wait_opens(&dev, 0);
    }

    #[test]
    fn options_we_do_not_speak_are_refused() {
        let f = Fixture::new(&[("vg-lv", 1 << 20, false)]);
        let mut c = f.client();
        for option in [5u32, 4, 11, 12345] {
            c.send_option(option, &[]);
            let (got, kind, _) = c.reply();
            assert_eq!((got, kind), (option, REP_ERR_UNSUP));
        }
        c.send_option(OPT_LIST, b"junk");
        assert_eq!(c.reply().1, REP_ERR_INVALID);
        c.send_option(OPT_GO, b"\0\0\0\x09vg");
        assert_eq!(c.reply().1, REP_ERR_INVALID);
        c.send_option(OPT_GO, b"\xff\xff\xff\xffvg-lv\0\0");
        assert_eq!(c.reply().1, REP_ERR_INVALID);
        c.send_option(OPT_ABORT, &[]);
        assert_eq!(c.reply().1, REP_ACK);
        c.assert_closed();
        f.assert_healthy("vg-lv");
    }

    #[test]
    fn hostile_clients_lose_only_their_connection() {
        let f = Fixture::new(&[("vg-lv", 1 << 20, false)]);
        let dev = f.dev("vg-lv");

        // Garbage instead of an option.
        let mut c = f.client();
        c.send(b"GARBAGE!GARBAGE!GARBAGE!");
        c.assert_closed();
        f.assert_healthy("vg-lv");

        // Unknown client flags.
        let mut c = Client::raw(&f.sock());
        c.send(&0xffff_ffffu32.to_be_bytes());
        c.assert_closed();

        // Nothing at all, then hang up mid-greeting.
        drop(Client::raw(&f.sock()));
        let mut c = Client::raw(&f.sock());
        c.send(&[0, 0]);
        drop(c);

        // An option claiming 4 GiB: refused, not allocated.
        let mut c = f.client();
        let mut msg = IHAVEOPT.to_be_bytes().to_vec();
        msg.extend_from_slice(&OPT_GO.to_be_bytes());
        msg.extend_from_slice(&u32::MAX.to_be_bytes());
        msg.extend_from_slice(&[0; 64]);
        c.send(&msg);
        assert_eq!(c.reply().1, REP_ERR_TOO_BIG);
        c.assert_closed();
        f.assert_healthy("vg-lv");

        // A truncated option and a truncated request.
        let mut c = f.client();
        c.send(&IHAVEOPT.to_be_bytes());
        c.send(&OPT_GO.to_be_bytes());
        drop(c);
        let mut c = f.client();
        c.go("vg-lv").unwrap();
        c.send(&REQUEST_MAGIC.to_be_bytes());
        c.send(&[0; 10]);
        drop(c);
        f.assert_healthy("vg-lv");
        // A write whose payload never arrives in full.
        let mut c = f.client();
        c.go("vg-lv").unwrap();
        c.send_request(CMD_WRITE, 0, 0, 65536, &[7; 100]);
        drop(c);
        wait_opens(&dev, 0);
        assert!(dev.bytes.lock().unwrap()[4096..].iter().all(|&b| b == 0));

        // Bad request magic in transmission.
        let mut c = f.client();
        c.go("vg-lv").unwrap();
        c.send(&[0xee; 28]);
        c.assert_closed();

        let mut c = f.client();
        c.go("vg-lv").unwrap();
        // A read of 1 GiB, and reads past the end or wrapping around.
        assert_eq!(c.request(CMD_READ, 0, 0, 1 << 30, &[]).0, NBD_EINVAL);
        assert_eq!(c.request(CMD_READ, 0, 1 << 20, 1, &[]).0, NBD_EINVAL);
        assert_eq!(c.request(CMD_READ, 0, u64::MAX, 2, &[]).0, NBD_EINVAL);
        // Writes past the end, payload sent in full: refused, stream in step.
        let past = pattern(8192, 5);
        assert_eq!(
            c.request(CMD_WRITE, 0, (1 << 20) - 4096, 8192, &past).0,
            NBD_ENOSPC
        );
        assert_eq!(
            c.request(CMD_WRITE, 0, u64::MAX - 10, 8192, &past).0,
            NBD_ENOSPC
        );
        assert_eq!(
            c.request(CMD_WRITE_ZEROES, 0, 1 << 20, 4096, &[]).0,
            NBD_ENOSPC
        );
        assert_eq!(c.request(CMD_TRIM, 0, 1 << 20, 4096, &[]).0, NBD_EINVAL);
        // A write just over the payload limit, sent in full, is skipped.
        let big = vec![0x42u8; MAX_PAYLOAD as usize + 1];
        assert_eq!(
            c.request(CMD_WRITE, 0, 0, MAX_PAYLOAD + 1, &big).0,
            NBD_EINVAL
        );
        // Still in step.
        assert_eq!(c.request(CMD_READ, 0, 4096, 16, &[]).1, [0; 16]);
        c.disconnect();
        assert!(dev.bytes.lock().unwrap()[4096..].iter().all(|&b| b == 0));
        f.assert_healthy("vg-lv");
        if have("nbdinfo") {
            let out = run(Command::new("nbdinfo").arg("--size").arg(f.uri("vg-lv")));
            assert!(out.status.success());
        }
    }

    /// A request header with its own cookie.
    fn request_bytes(kind: u16, flags: u16, cookie: u64, offset: u64, len: u32) -> Vec<u8> {
        let mut msg = REQUEST_MAGIC.to_be_bytes().to_vec();
        msg.extend_from_slice(&flags.to_be_bytes());
        msg.extend_from_slice(&kind.to_be_bytes());
        msg.extend_from_slice(&cookie.to_be_bytes());
        msg.extend_from_slice(&offset.to_be_bytes());
        msg.extend_from_slice(&len.to_be_bytes());
        msg
    }

    /// A structured reply chunk: (flags, type, cookie, payload).
    fn structured_chunk(c: &mut Client) -> (u16, u16, u64, Vec<u8>) {
        let mut h = [0u8; 20];
        c.s.read_exact(&mut h).unwrap();
        assert_eq!(h[..4], STRUCTURED_REPLY_MAGIC.to_be_bytes());
        let mut payload = vec![0u8; u32::from_be_bytes(h[16..20].try_into().unwrap()) as usize];
        c.s.read_exact(&mut payload).unwrap();
        (
            u16::from_be_bytes([h[4], h[5]]),
            u16::from_be_bytes([h[6], h[7]]),
            u64::from_be_bytes(h[8..16].try_into().unwrap()),
            payload,
        )
    }

    /// A client that asked for structured replies and chose `export`.
    fn structured_client(sock: &Path, export: &str) -> Client {
        let mut c = Client::connect(sock);
        c.send_option(OPT_STRUCTURED_REPLY, &[]);
        assert_eq!(c.reply().1, REP_ACK);
        c.go(export).unwrap();
        c
    }

    /// Device I/O that waits for the test (or another request) to let it on.
    #[derive(Default)]
    struct Gate {
        open: Mutex<bool>,
        cond: std::sync::Condvar,
    }

    impl Gate {
        fn open(&self) {
            *self.open.lock().unwrap() = true;
            self.cond.notify_all();
        }

        /// Wait up to 5 s for `open`; EIO if it never comes.
        fn wait(&self) -> io::Result<()> {
            let open = self.open.lock().unwrap();
            let (open, _) = self
                .cond
                .wait_timeout_while(open, Duration::from_secs(5), |o| !*o)
                .unwrap();
            if *open {
                Ok(())
            } else {
                Err(io::Error::from_raw_os_error(libc::EIO))
            }
        }
    }

    /// A device whose reads at offset 0 open `running`, then wait (up to
    /// 5 s) for a write, and fill the buffer with 7s.
    fn latched(running: Arc<Gate>) -> FakeDevice {
        let written = Arc::new(Gate::default());
        let (reads, writes) = (written.clone(), written);
        FakeDevice::new(1 << 20)
            .reads(move |buf, offset| {
                if offset == 0 {
                    running.open();
                    reads.wait()?;
                }
                buf.fill(7);
                Ok(())
            })
            .writes(move |_, _| {
                writes.open();
                Ok(())
            })
    }

    /// The replies to a 4 KiB read of [`latched`] (cookie 1) and the write
    /// it waits for (cookie 2), in either order: both without error.
    fn latched_replies(c: &mut Client) {
        let mut cookies = Vec::new();
        for _ in 0..2 {
            let mut h = [0u8; 16];
            c.s.read_exact(&mut h).unwrap();
            assert_eq!(h[4..8], [0; 4], "no error: the read saw the write");
            let cookie = u64::from_be_bytes(h[8..].try_into().unwrap());
            if cookie == 1 {
                let mut data = vec![0u8; 4096];
                c.s.read_exact(&mut data).unwrap();
                assert!(data.iter().all(|&b| b == 7));
            }
            cookies.push(cookie);
        }
        cookies.sort_unstable();
        assert_eq!(cookies, [1, 2], "both the read and the write are answered");
    }

    #[test]
    fn requests_run_concurrently_and_replies_come_as_they_complete() {
        // The read waits (up to 5 s) for a write: served in order, the
        // read would time out and answer first.
        let device = latched(Arc::default());
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("s");
        let server = serve(FakeSet::new(device), &sock).unwrap();
        let mut c = Client::connect(&sock);
        c.go("latch").unwrap();
        let mut burst = request_bytes(CMD_READ, 0, 1, 0, 4096);
        burst.extend(request_bytes(CMD_WRITE, 0, 2, 0, 4));
        burst.extend_from_slice(b"abcd");
        c.send(&burst);
        // The read can only succeed if the write behind it was served while
        // it waited; once the write lets it go, the two replies race, so
        // either may come first.
        latched_replies(&mut c);
        // Many more than the workers in flight at once, all answered.
        let mut burst = Vec::new();
        for cookie in 0..(4 * MAX_IN_FLIGHT as u64) {
            burst.extend(request_bytes(CMD_READ, 0, 100 + cookie, cookie * 512, 512));
        }
        c.send(&burst);
        let mut seen = std::collections::BTreeSet::new();
        let (mut h, mut data) = ([0u8; 16], [0u8; 512]);
        for _ in 0..4 * MAX_IN_FLIGHT {
            c.s.read_exact(&mut h).unwrap();
            assert_eq!(h[4..8], [0; 4]);
            seen.insert(u64::from_be_bytes(h[8..].try_into().unwrap()));
            c.s.read_exact(&mut data).unwrap();
        }
        assert_eq!(seen.len(), 4 * MAX_IN_FLIGHT);
        c.disconnect();
        server.shutdown();
    }

    #[test]
    fn structured_replies_and_block_status() {
        let f = Fixture::new(&[("vg-lv", 1 << 20, false)]);
        let dev = f.dev("vg-lv");
        dev.bytes.lock().unwrap()[65536..131072].fill(9);
        let mut meta = Vec::new();
        meta.extend_from_slice(&5u32.to_be_bytes());
        meta.extend_from_slice(b"vg-lv");
        meta.extend_from_slice(&1u32.to_be_bytes());
        meta.extend_from_slice(&(ALLOCATION_CONTEXT.len() as u32).to_be_bytes());
        meta.extend_from_slice(ALLOCATION_CONTEXT.as_bytes());
        let mut c = f.client();
        // Meta contexts need structured replies first.
        c.send_option(OPT_SET_META_CONTEXT, &meta);
        assert_eq!(c.reply().1, REP_ERR_INVALID);
        c.send_option(OPT_STRUCTURED_REPLY, &[]);
        assert_eq!(c.reply().1, REP_ACK);
        c.send_option(OPT_SET_META_CONTEXT, &meta);
        let replies = [c.reply(), c.reply()].map(|(_, kind, data)| (kind, data));
        assert_eq!(replies[0].0, REP_META_CONTEXT);
        assert_eq!(replies[0].1[..4], ALLOCATION_CONTEXT_ID.to_be_bytes());
        assert_eq!(&replies[0].1[4..], ALLOCATION_CONTEXT.as_bytes());
        assert_eq!(replies[1].0, REP_ACK);
        c.go("vg-lv").unwrap();
        c.send(&request_bytes(CMD_BLOCK_STATUS, 0, 5, 0, 1 << 20));
        let (flags, kind, cookie, payload) = structured_chunk(&mut c);
        assert_eq!(
            (flags, kind, cookie),
            (REPLY_FLAG_DONE, REPLY_TYPE_BLOCK_STATUS, 5)
        );
        let words: Vec<u32> = payload
            .chunks(4)
            .map(|w| u32::from_be_bytes(w.try_into().unwrap()))
            .collect();
        let hole = STATE_HOLE | STATE_ZERO;
        assert_eq!(
            words,
            [ALLOCATION_CONTEXT_ID, 65536, hole, 65536, 0, 917504, hole]
        );
        c.send(&request_bytes(
            CMD_BLOCK_STATUS,
            CMD_FLAG_REQ_ONE,
            6,
            65536,
            8192,
        ));
        let (_, _, _, payload) = structured_chunk(&mut c);
        assert_eq!(payload[4..], [0, 0, 0x20, 0, 0, 0, 0, 0]);
        // Reads come as one data chunk carrying their offset.
        c.send(&request_bytes(CMD_READ, 0, 7, 65536, 16));
        let (flags, kind, cookie, payload) = structured_chunk(&mut c);
        assert_eq!(
            (flags, kind, cookie),
            (REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_DATA, 7)
        );
        assert_eq!(payload[..8], 65536u64.to_be_bytes());
        assert_eq!(payload[8..], [9; 16]);
        // A read out of range earns a structured error.
        c.send(&request_bytes(CMD_READ, 0, 8, 1 << 20, 16));
        let (flags, kind, cookie, payload) = structured_chunk(&mut c);
        assert_eq!(
            (flags, kind, cookie),
            (REPLY_FLAG_DONE, REPLY_TYPE_ERROR, 8)
        );
        assert_eq!(payload[..4], NBD_EINVAL.to_be_bytes());
        c.disconnect();
        // Without the context, block status is refused.
        let mut c = f.client();
        c.send_option(OPT_STRUCTURED_REPLY, &[]);
        assert_eq!(c.reply().1, REP_ACK);
        c.go("vg-lv").unwrap();
        c.send(&request_bytes(CMD_BLOCK_STATUS, 0, 9, 0, 4096));
        let (_, kind, _, payload) = structured_chunk(&mut c);
        assert_eq!(
            (kind, &payload[..4]),
            (REPLY_TYPE_ERROR, &NBD_EINVAL.to_be_bytes()[..])
        );
        c.disconnect();
        if have("nbdinfo") {
            let out = run(Command::new("nbdinfo").arg("--map").arg(f.uri("vg-lv")));
            assert!(out.status.success());
            let map = String::from_utf8_lossy(&out.stdout);
            let rows: Vec<Vec<&str>> = map
                .lines()
                .map(|l| l.split_whitespace().collect())
                .collect();
            assert_eq!(rows.len(), 3, "{map}");
            assert_eq!(rows[1][..3], ["65536", "65536", "0"], "{map}");
            assert_eq!(rows[2][..3], ["131072", "917504", "3"], "{map}");
        }
        wait_opens(&dev, 0);
    }

    #[test]
    fn requests_one_at_a_time_stay_on_one_thread() {
        // At queue depth 1 the reader serves every request itself: a second
        // worker taking the input in turn would cost each request a wake-up.
        let threads = Arc::new(Mutex::new(std::collections::HashSet::new()));
        let seen = threads.clone();
        let device = FakeDevice::new(1 << 20).reads(move |buf, _| {
            seen.lock().unwrap().insert(std::thread::current().id());
            buf.fill(3);
            Ok(())
        });
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("s");
        let server = serve(FakeSet::new(device), &sock).unwrap();
        let mut c = Client::connect(&sock);
        c.go("one").unwrap();
        for i in 0..200u64 {
            let (error, data) = c.request(CMD_READ, 0, (i % 64) * 4096, 4096, &[]);
            assert_eq!(error, 0);
            assert!(data.iter().all(|&b| b == 3));
        }
        assert_eq!(
            threads.lock().unwrap().len(),
            1,
            "every request served by the reader"
        );
        c.disconnect();
        server.shutdown();
    }

    #[test]
    fn a_request_sent_behind_a_slow_one_is_read_while_it_runs() {
        // The read waits (up to 5 s) for the write, which the client sends
        // only after the read is under way: the reader serves the read
        // itself (queue depth 1 so far), so the spare watching the socket
        // must read the write, or the read times out.
        let started = Arc::new(Gate::default());
        let device = latched(started.clone());
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("s");
        let server = serve(FakeSet::new(device), &sock).unwrap();
        let mut c = Client::connect(&sock);
        c.go("late").unwrap();
        // Requests one at a time first: the connection is at queue depth 1.
        for _ in 0..2 * QUIET_RUN {
            assert_eq!(c.request(CMD_READ, 0, 4096, 512, &[]).0, 0);
        }
        c.send(&request_bytes(CMD_READ, 0, 1, 0, 4096));
        started.wait().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let mut write = request_bytes(CMD_WRITE, 0, 2, 8192, 4);
        write.extend_from_slice(b"abcd");
        let sent = std::time::Instant::now();
        c.send(&write);
        latched_replies(&mut c);
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "the write waited {:?}",
            sent.elapsed()
        );
        c.disconnect();
        server.shutdown();
    }

    #[test]
    fn device_errors_reach_the_client() {
        let fail = |code| -> io::Result<()> { Err(io::Error::from_raw_os_error(code)) };
        let device = FakeDevice::new(1 << 20)
            .reads(move |_, _| fail(libc::EIO))
            .writes(move |_, _| fail(libc::ENOSPC))
            .flushes(move || fail(libc::ESHUTDOWN))
            .discards(move |_, _| fail(libc::EOPNOTSUPP));
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("s");
        let server = serve(FakeSet::refusing(device, &[("busy", libc::EBUSY)]), &sock).unwrap();
        let mut c = Client::connect(&sock);
        assert_eq!(c.go("busy"), Err(REP_ERR_POLICY));
        c.go("bad").unwrap();
        assert_eq!(c.request(CMD_READ, 0, 0, 512, &[]).0, NBD_EIO);
        assert_eq!(c.request(CMD_WRITE, 0, 0, 4, b"abcd").0, NBD_ENOSPC);
        assert_eq!(c.request(CMD_FLUSH, 0, 0, 0, &[]).0, NBD_ESHUTDOWN);
        assert_eq!(c.request(CMD_TRIM, 0, 0, 512, &[]).0, NBD_ENOTSUP);
        c.disconnect();
        server.shutdown();
    }

    #[test]
    fn large_reads_come_in_pieces_and_a_late_error_ends_them() {
        // Bytes name their offset; reads touching 2 MiB or beyond fail.
        const BAD: u64 = 2 << 20;
        let device = FakeDevice::new(4 << 20).read_only().reads(|buf, offset| {
            if offset + buf.len() as u64 > BAD {
                return Err(io::Error::from_raw_os_error(libc::EIO));
            }
            for (i, b) in buf.iter_mut().enumerate() {
                *b = ((offset + i as u64) / 4096) as u8;
            }
            Ok(())
        });
        let expected = |offset: u64, len: usize| -> Vec<u8> {
            (0..len as u64)
                .map(|i| ((offset + i) / 4096) as u8)
                .collect()
        };
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("s");
        let server = serve(FakeSet::new(device), &sock).unwrap();
        // Structured: data chunks in order, the last one DONE; a failure
        // after the first piece is an error chunk that ends the reply.
        let mut c = structured_client(&sock, "half");
        for (offset, fails) in [
            (0u64, false),
            (BAD - (1 << 20), false),
            (BAD - (512 << 10), true),
        ] {
            c.send(&request_bytes(CMD_READ, 0, 5, offset, 1 << 20));
            let mut got = Vec::new();
            loop {
                let (flags, kind, cookie, payload) = structured_chunk(&mut c);
                assert_eq!(cookie, 5);
                if kind == REPLY_TYPE_ERROR {
                    assert!(fails, "read at {offset} failed");
                    assert_eq!(payload[..4], NBD_EIO.to_be_bytes());
                    assert_eq!(flags & REPLY_FLAG_DONE, REPLY_FLAG_DONE);
                    assert_eq!(got, expected(offset, got.len()), "the bytes sent before it");
                    break;
                }
                assert_eq!(kind, REPLY_TYPE_OFFSET_DATA);
                let at = u64::from_be_bytes(payload[..8].try_into().unwrap());
                assert_eq!(at, offset + got.len() as u64, "chunks in order");
                got.extend_from_slice(&payload[8..]);
                if flags & REPLY_FLAG_DONE != 0 {
                    assert!(!fails, "read at {offset} should have failed");
                    assert_eq!(got, expected(offset, 1 << 20));
                    break;
                }
            }
        }
        // DF (don't fragment): one chunk, however large.
        c.send(&request_bytes(CMD_READ, CMD_FLAG_DF, 6, 0, 1 << 20));
        let (flags, kind, cookie, payload) = structured_chunk(&mut c);
        assert_eq!(
            (flags, kind, cookie),
            (REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_DATA, 6)
        );
        assert_eq!(payload[8..], expected(0, 1 << 20));
        c.disconnect();
        // Simple replies: whole bytes, an early error is an error reply, and
        // a late one (the header promised data) ends the connection.
        let mut c = Client::connect(&sock);
        c.go("half").unwrap();
        let (err, data) = c.request(CMD_READ, 0, BAD - (1 << 20), 1 << 20, &[]);
        assert_eq!(err, 0);
        assert_eq!(data, expected(BAD - (1 << 20), 1 << 20));
        assert_eq!(c.request(CMD_READ, 0, BAD, 1 << 20, &[]).0, NBD_EIO);
        c.send_request(CMD_READ, 0, BAD - (512 << 10), 1 << 20, &[]);
        let mut h = [0u8; 16];
        c.s.read_exact(&mut h).unwrap();
        // Read whole (the last request's worker not yet counted out) it
        // fails before anything is sent; in pieces, after the first.
        if h[4..8] == NBD_EIO.to_be_bytes() {
            c.disconnect();
        } else {
            assert_eq!(h[4..8], [0; 4]);
            let mut rest = Vec::new();
            let _ = c.s.read_to_end(&mut rest);
            assert!(rest.len() < 1 << 20, "a failed read is never sent whole");
            assert_eq!(rest, expected(BAD - (512 << 10), rest.len()));
        }
        server.shutdown();
    }

    #[test]
    fn replies_of_other_requests_come_between_the_chunks_of_a_large_read() {
        // The large read's second piece waits (up to 5 s) until the test
        // has the write's reply: a read that kept the output across its
        // pieces would time out and end in an error chunk first.
        let released = Arc::new(Gate::default());
        let gate = released.clone();
        let device = FakeDevice::new(4 << 20).reads(move |buf, offset| {
            if offset >= READ_PIECE as u64 {
                gate.wait()?;
            }
            buf.fill(3);
            Ok(())
        });
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("s");
        let server = serve(FakeSet::new(device), &sock).unwrap();
        let mut c = structured_client(&sock, "gated");
        c.send(&request_bytes(CMD_READ, 0, 1, 0, 1 << 20));
        let (flags, kind, cookie, payload) = structured_chunk(&mut c);
        assert_eq!((flags, kind, cookie), (0, REPLY_TYPE_OFFSET_DATA, 1));
        assert_eq!(payload.len(), 8 + READ_PIECE);
        let mut write = request_bytes(CMD_WRITE, 0, 2, 0, 4);
        write.extend_from_slice(b"abcd");
        c.send(&write);
        let mut h = [0u8; 16];
        c.s.read_exact(&mut h).unwrap();
        assert_eq!(
            h[..4],
            SIMPLE_REPLY_MAGIC.to_be_bytes(),
            "the write's reply, not more of the read"
        );
        assert_eq!((&h[4..8], &h[8..]), (&[0; 4][..], &2u64.to_be_bytes()[..]));
        released.open();
        let mut got = READ_PIECE;
        loop {
            let (flags, kind, cookie, payload) = structured_chunk(&mut c);
            assert_eq!((kind, cookie), (REPLY_TYPE_OFFSET_DATA, 1));
            assert_eq!(payload[..8], (got as u64).to_be_bytes(), "chunks in order");
            assert!(payload[8..].iter().all(|&b| b == 3));
            got += payload.len() - 8;
            if flags & REPLY_FLAG_DONE != 0 {
                break;
            }
        }
        assert_eq!(got, 1 << 20);
        c.disconnect();
        server.shutdown();
    }

    #[test]
    fn socket_life_cycle() {
        let mut f = Fixture::new(&[("vg-lv", 1 << 20, false)]);
        let sock = f.sock();
        let meta = std::fs::metadata(&sock).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        // A live server is not displaced.
        let err = serve(f.set.clone(), &sock).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        // Shutdown ends live connections, closing their devices.
        let mut c = f.client();
        c.go("vg-lv").unwrap();
        assert_eq!(f.dev("vg-lv").opens.load(Ordering::SeqCst), 1);
        f.server.take().unwrap().shutdown();
        assert_eq!(f.dev("vg-lv").opens.load(Ordering::SeqCst), 0);
        assert!(!sock.exists());
        c.assert_closed();
        // A stale socket file (nobody listening) is replaced.
        drop(UnixListener::bind(&sock).unwrap());
        assert!(sock.exists());
        let server = serve(f.set.clone(), &sock).unwrap();
        f.assert_healthy("vg-lv");
        drop(server);
        assert!(!sock.exists());
        // Something that is not a socket is left alone.
        std::fs::write(&sock, b"precious").unwrap();
        assert_eq!(
            serve(f.set.clone(), &sock).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        assert_eq!(std::fs::read(&sock).unwrap(), b"precious");
    }

    /// Throughput of nbdcopy in and out of a 256 MiB device; run with --ignored.
    #[test]
    #[ignore]
    fn nbdcopy_throughput() {
        if !have("nbdcopy") {
            return;
        }
        let size = 256 << 20;
        let f = Fixture::new(&[("vg-big", size, false)]);
        let src = f.dir.path().join("in.img");
        let dst = f.dir.path().join("out.img");
        let data = pattern(size, 6);
        std::fs::write(&src, &data).unwrap();
        for (what, from, to) in [
            ("file -> nbd", src.display().to_string(), f.uri("vg-big")),
            ("nbd -> file", f.uri("vg-big"), dst.display().to_string()),
        ] {
            let t = Instant::now();
            assert!(run(Command::new("nbdcopy").arg(&from).arg(&to))
                .status
                .success());
            let secs = t.elapsed().as_secs_f64();
            eprintln!(
                "nbdcopy {what}: 256 MiB in {secs:.2}s = {:.0} MiB/s",
                256.0 / secs
            );
        }
        assert!(std::fs::read(&dst).unwrap() == data);
    }
}
