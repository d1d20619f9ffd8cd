//! `rdmd`: one engine per state directory, its devices shown as files under
//! `mapper/` (FUSE) and as NBD exports on `nbd.sock`, driven over the control
//! socket `rdmd.sock` (mode 0600; peers of another user are refused).
//!
//! Tables live only in the daemon, as in the kernel: when it stops, its
//! devices are gone, and activation builds them again from the metadata;
//! persistent COWs keep their snapshots across that.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::{SigSet, Signal};
use thiserror::Error;

use crate::backend::Backend;

use super::engine::Engine;
use super::export::{fuse, nbd, DeviceSet};
use super::protocol::{
    read_frame, write_frame, Hello, Reply, Request, Response, WireError, PROTOCOL_VERSION,
};

/// The files of one state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The state directory.
    pub dir: PathBuf,
}

impl Layout {
    /// The layout of `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }
    /// The control socket.
    pub fn control_socket(&self) -> PathBuf {
        self.dir.join("rdmd.sock")
    }
    /// The NBD socket.
    pub fn nbd_socket(&self) -> PathBuf {
        self.dir.join("nbd.sock")
    }
    /// The FUSE mount point, the twin of `/dev/mapper`.
    pub fn mapper_dir(&self) -> PathBuf {
        self.dir.join("mapper")
    }
    /// The lock that makes the daemon one per directory.
    pub fn lock_file(&self) -> PathBuf {
        self.dir.join("rdmd.lock")
    }
    /// Where a daemon started on demand writes its messages.
    pub fn log_file(&self) -> PathBuf {
        self.dir.join("rdmd.log")
    }
}

/// Why the daemon could not start.
#[derive(Debug, Error)]
pub enum DaemonError {
    /// Another daemon holds the directory.
    #[error("rdmd already runs for {dir}")]
    AlreadyRunning {
        /// The state directory.
        dir: PathBuf,
    },
    /// Setting up failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Why it failed.
        source: io::Error,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> DaemonError {
    let context = context.into();
    move |source| DaemonError::Io { context, source }
}

/// How the daemon shows its devices besides the control socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exports {
    /// Mount the mapper directory.
    pub fuse: bool,
    /// Serve NBD.
    pub nbd: bool,
}

/// Run the daemon in the foreground until SIGTERM, SIGINT or a `Shutdown`
/// request. `ready` is called once the control socket accepts.
pub fn run(dir: &Path, exports: Exports, ready: impl FnOnce()) -> Result<(), DaemonError> {
    let layout = Layout::new(dir);
    std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
    let _lock = take_lock(&layout)?;

    // Signals are taken by one thread with sigwait, so every other thread
    // (FUSE, NBD, connections) must start with them blocked.
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGTERM);
    signals.add(Signal::SIGINT);
    signals.add(Signal::SIGHUP);
    signals
        .thread_block()
        .map_err(|e| io_err("blocking signals")(e.into()))?;

    let engine = Engine::new(&layout.mapper_dir());
    let set: Arc<dyn DeviceSet> = Arc::new(engine.clone());
    let fuse_mount = if exports.fuse {
        match fuse::mount(set.clone(), &layout.mapper_dir()) {
            Ok(mount) => Some(mount),
            Err(e) => {
                eprintln!(
                    "rdmd: WARNING: cannot mount {}: {e}; devices are reachable over NBD only",
                    layout.mapper_dir().display()
                );
                None
            }
        }
    } else {
        None
    };
    let nbd_server = if exports.nbd {
        Some(nbd::serve(set, &layout.nbd_socket()).map_err(io_err("serving NBD"))?)
    } else {
        None
    };

    let socket = layout.control_socket();
    let _ = std::fs::remove_file(&socket);
    let listener =
        UnixListener::bind(&socket).map_err(io_err(format!("binding {}", socket.display())))?;
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
        .map_err(io_err("setting the control socket's mode"))?;

    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    {
        let engine = engine.clone();
        let stop_tx = stop_tx.clone();
        std::thread::Builder::new()
            .name("rdmd-accept".into())
            .spawn(move || accept_loop(listener, engine, stop_tx))
            .map_err(io_err("starting the accept thread"))?;
    }
    std::thread::Builder::new()
        .name("rdmd-signals".into())
        .spawn(move || {
            if signals.wait().is_ok() {
                let _ = stop_tx.send(());
            }
        })
        .map_err(io_err("starting the signal thread"))?;
    ready();
    let _ = stop_rx.recv();

    // Stop taking requests first, then take the devices away from programs.
    let _ = std::fs::remove_file(&socket);
    drop(nbd_server);
    drop(fuse_mount);
    // Not through the devices: one may be suspended, and a flush through it
    // would wait for ever. Every write has already reached the files.
    engine.sync_files();
    engine.release_host_state();
    Ok(())
}

fn take_lock(layout: &Layout) -> Result<File, DaemonError> {
    let path = layout.lock_file();
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(io_err(format!("opening {}", path.display())))?;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(DaemonError::AlreadyRunning {
            dir: layout.dir.clone(),
        });
    }
    Ok(file)
}

fn accept_loop(listener: UnixListener, engine: Engine, stop: std::sync::mpsc::Sender<()>) {
    let own_uid = nix::unistd::geteuid().as_raw();
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let engine = engine.clone();
        let stop = stop.clone();
        let _ = std::thread::Builder::new()
            .name("rdmd-conn".into())
            .spawn(move || {
                let _ = serve_connection(stream, &engine, own_uid, &stop);
            });
    }
}

fn peer_uid(stream: &UnixStream) -> io::Result<u32> {
    let cred = nix::sys::socket::getsockopt(stream, nix::sys::socket::sockopt::PeerCredentials)
        .map_err(io::Error::from)?;
    Ok(cred.uid())
}

fn serve_connection(
    mut stream: UnixStream,
    engine: &Engine,
    own_uid: u32,
    stop: &std::sync::mpsc::Sender<()>,
) -> io::Result<()> {
    let uid = peer_uid(&stream)?;
    let hello: Option<Hello> = read_frame(&mut stream)?;
    if uid != own_uid && uid != 0 {
        let refusal: Response = Err(WireError::PermissionDenied(format!(
            "rdmd belongs to uid {own_uid}; uid {uid} may not drive it"
        )));
        write_frame(&mut stream, &Hello::current())?;
        return write_frame(&mut stream, &refusal);
    }
    match hello {
        Some(hello) if hello.magic == "rdmd" && hello.version == PROTOCOL_VERSION => {
            write_frame(&mut stream, &Hello::current())?;
        }
        Some(hello) => {
            write_frame(&mut stream, &Hello::current())?;
            let refusal: Response = Err(WireError::Other(format!(
                "protocol version {} is not spoken here (rdmd speaks {PROTOCOL_VERSION})",
                hello.version
            )));
            return write_frame(&mut stream, &refusal);
        }
        None => return Ok(()),
    }
    while let Some(request) = read_frame::<Request>(&mut stream)? {
        if let Request::Shutdown { force } = request {
            if let Some(busy) = busy_refusal(engine, force) {
                write_frame(&mut stream, &Err::<Reply, WireError>(busy))?;
                continue;
            }
            write_frame(&mut stream, &Ok::<Reply, WireError>(Reply::Done))?;
            let _ = stop.send(());
            return Ok(());
        }
        let response = execute(engine, request);
        write_frame(&mut stream, &response)?;
    }
    Ok(())
}

/// Why a stop without `force` is refused: the first device a program holds
/// open, as the kernel refuses to remove an open device (`EBUSY`).
fn busy_refusal(engine: &Engine, force: bool) -> Option<WireError> {
    if force {
        return None;
    }
    let open = engine.open_devices();
    let (name, opens) = open.first()?;
    let more = match open.len() {
        1 => String::new(),
        n => format!(
            ", and {} more device{} open",
            n - 1,
            if n == 2 { "" } else { "s" }
        ),
    };
    Some(WireError::DeviceBusy {
        name: name.clone(),
        reason: format!(
            "open count {opens}: a mapper file, NBD client or loop device holds it{more}"
        ),
    })
}

/// Carry out one request on the engine.
pub fn execute(engine: &Engine, request: Request) -> Response {
    let reply = match request {
        Request::DriverVersion => Reply::Version(engine.driver_version()?),
        Request::TargetVersions => Reply::Targets(engine.target_versions()?),
        Request::Create {
            name,
            options,
            minor: None,
        } => Reply::Info(engine.create(&name, &options)?),
        Request::Create {
            name,
            options,
            minor: Some(minor),
        } => Reply::Info(engine.create_numbered(&name, &options, None, minor)?),
        Request::Load { name, table } => {
            engine.load(&name, &table)?;
            Reply::Done
        }
        Request::Clear { name } => {
            engine.clear(&name)?;
            Reply::Done
        }
        Request::Suspend { name, mode } => {
            let warnings = engine.suspend_locking_fs(&name, mode)?;
            if warnings.is_empty() {
                Reply::Done
            } else {
                Reply::Warnings(warnings)
            }
        }
        Request::Resume { name } => Reply::Info(engine.resume(&name)?),
        Request::Remove { name } => {
            engine.remove(&name)?;
            Reply::Done
        }
        Request::Rename { name, new_name } => {
            engine.rename(&name, &new_name)?;
            Reply::Done
        }
        Request::List => Reply::List(engine.list()?),
        Request::Info { name } => Reply::Info(engine.info(&name)?),
        Request::Table { name, slot } => Reply::Lines(engine.table(&name, slot)?),
        Request::Status { name } => Reply::Lines(engine.status(&name)?),
        Request::Deps { name } => Reply::Deps(engine.deps(&name)?),
        Request::Message {
            name,
            sector,
            message,
        } => Reply::Message(engine.message(&name, sector, &message)?),
        Request::WaitEvent {
            name,
            event_nr,
            timeout_ms,
        } => Reply::MaybeInfo(engine.wait_event(
            &name,
            event_nr,
            timeout_ms.map(Duration::from_millis),
        )?),
        Request::Shutdown { .. } => Reply::Done,
    };
    Ok(reply)
}
