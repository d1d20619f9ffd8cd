//! The userspace backend as commands see it: the [`Backend`] trait carried
//! over rdmd's control socket, with the daemon started on demand.

use std::io;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::backend::{
    Backend, BackendError, BackendKind, CreateOptions, DeviceInfo, DeviceSummary, Result,
    SuspendMode, TableSlot, TargetVersion,
};
use crate::dm::{DevRef, RawLine, TableLine};

use super::daemon::Layout;
use super::protocol::{read_frame, timeout_ms, write_frame, Hello, Reply, Request, Response};

/// How long a command waits for a daemon it started to accept.
const START_TIMEOUT: Duration = Duration::from_secs(15);

fn protocol(what: &str, e: impl std::fmt::Display) -> BackendError {
    BackendError::Protocol(format!("{what}: {e}"))
}

/// One open control connection, hello exchanged.
fn connect(socket: &Path) -> io::Result<UnixStream> {
    let mut stream = UnixStream::connect(socket)?;
    write_frame(&mut stream, &Hello::current())?;
    let hello: Option<Hello> = read_frame(&mut stream)?;
    match hello {
        Some(h) if h.magic == "rdmd" => Ok(stream),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the peer is not rdmd",
        )),
    }
}

/// Send one request on `stream` and read its answer.
fn call(stream: &mut UnixStream, request: &Request) -> Result<Reply> {
    write_frame(stream, request).map_err(|e| protocol("sending a request to rdmd", e))?;
    let response: Option<Response> =
        read_frame(stream).map_err(|e| protocol("reading rdmd's answer", e))?;
    match response {
        Some(Ok(reply)) => Ok(reply),
        Some(Err(e)) => Err(e.into()),
        None => Err(BackendError::Protocol(
            "rdmd closed the connection (did it stop?)".into(),
        )),
    }
}

/// Where the `rdmd` program is: `$RLVM_RDMD`, beside the running program,
/// the running multi-call `rlvm` itself (run as `rdmd` by argv[0]), or on `PATH`.
fn rdmd_program() -> PathBuf {
    if let Some(path) = std::env::var_os("RLVM_RDMD").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().ok();
    if let Some(beside) = exe
        .as_ref()
        .and_then(|exe| exe.parent().map(|d| d.join("rdmd")))
        .filter(|p| p.exists())
    {
        return beside;
    }
    match exe {
        Some(exe) if exe.file_name() == Some("rlvm".as_ref()) => exe,
        _ => PathBuf::from("rdmd"),
    }
}

/// Start `rdmd --foreground` for `dir` in its own session, logging to `rdmd.log`.
fn spawn_daemon(layout: &Layout) -> Result<std::process::Child> {
    std::fs::create_dir_all(&layout.dir).map_err(|source| BackendError::Io {
        context: format!("creating {}", layout.dir.display()),
        source,
    })?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(layout.log_file())
        .map_err(|source| BackendError::Io {
            context: format!("opening {}", layout.log_file().display()),
            source,
        })?;
    let log2 = log.try_clone().map_err(|source| BackendError::Io {
        context: "duplicating the log descriptor".into(),
        source,
    })?;
    let program = rdmd_program();
    let mut command = Command::new(&program);
    // The multi-call binary picks its program by argv[0].
    command.arg0("rdmd");
    command
        .arg("--foreground")
        .arg("--dir")
        .arg(&layout.dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .current_dir("/");
    // SAFETY: setsid is async-signal-safe; it detaches the daemon from the
    // command's session so a terminal hang-up does not take the devices away.
    unsafe {
        command.pre_exec(|| {
            nix::unistd::setsid().map_err(io::Error::from)?;
            Ok(())
        });
    }
    command.spawn().map_err(|e| BackendError::Unavailable {
        backend: "userspace",
        reason: format!("cannot start {}: {e}", program.display()),
    })
}

/// Connect to the daemon of `dir`, starting it when none runs.
pub fn connect_or_start(dir: &Path) -> Result<UnixStream> {
    let layout = Layout::new(dir);
    let socket = layout.control_socket();
    if let Ok(stream) = connect(&socket) {
        return Ok(stream);
    }
    let mut child = spawn_daemon(&layout)?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        match connect(&socket) {
            Ok(stream) => {
                // The child is the daemon (or lost a start race and exited);
                // reap it in the background either way.
                std::thread::spawn(move || child.wait());
                return Ok(stream);
            }
            Err(e) => {
                if let Ok(Some(status)) = child.try_wait() {
                    // Another command's daemon may have won the race: try once more.
                    if let Ok(stream) = connect(&socket) {
                        return Ok(stream);
                    }
                    return Err(BackendError::Unavailable {
                        backend: "userspace",
                        reason: format!(
                            "rdmd exited ({status}) before accepting; see {}",
                            layout.log_file().display()
                        ),
                    });
                }
                if Instant::now() >= deadline {
                    return Err(BackendError::Unavailable {
                        backend: "userspace",
                        reason: format!(
                            "rdmd did not accept on {} within {}s: {e}",
                            socket.display(),
                            START_TIMEOUT.as_secs()
                        ),
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Ask the daemon of `dir` to stop; `Ok(false)` when none runs. Without
/// `force` it refuses ([`BackendError::DeviceBusy`], naming the device) while
/// a program holds a device open, as the kernel refuses to remove one.
pub fn stop_daemon(dir: &Path, force: bool) -> Result<bool> {
    let socket = Layout::new(dir).control_socket();
    let Ok(mut stream) = connect(&socket) else {
        return Ok(false);
    };
    call(&mut stream, &Request::Shutdown { force })?;
    // The daemon removes its socket when it has stopped taking requests.
    let deadline = Instant::now() + START_TIMEOUT;
    while socket.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(true)
}

/// The userspace engine behind the [`Backend`] trait, over rdmd's socket.
///
/// The daemon is started only by `create`: while none runs the engine has no
/// devices, so every other request is answered here as an empty engine
/// would answer it, and a report never leaves a daemon behind.
pub struct UserspaceBackend {
    dir: PathBuf,
    stream: Mutex<Option<UnixStream>>,
}

impl UserspaceBackend {
    /// The userspace backend of state directory `dir`; connects when first used.
    pub fn connect(dir: &Path) -> Result<Self> {
        Ok(Self {
            dir: dir.to_path_buf(),
            stream: Mutex::new(None),
        })
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether a daemon runs for this directory now.
    pub fn daemon_running(&self) -> bool {
        let mut stream = self.stream.lock().unwrap_or_else(|p| p.into_inner());
        stream.is_some() || {
            *stream = connect(&Layout::new(&self.dir).control_socket()).ok();
            stream.is_some()
        }
    }

    fn call(&self, request: Request) -> Result<Reply> {
        let mut stream = self.stream.lock().unwrap_or_else(|p| p.into_inner());
        if stream.is_none() {
            *stream = connect(&Layout::new(&self.dir).control_socket()).ok();
        }
        if stream.is_none() {
            if let Some(answer) = answer_without_daemon(&request) {
                return answer;
            }
            *stream = Some(connect_or_start(&self.dir)?);
        }
        let result = call(stream.as_mut().expect("connected above"), &request);
        if matches!(result, Err(BackendError::Protocol(_))) {
            // A daemon that went away is not reused; the next call reconnects.
            *stream = None;
        }
        result
    }
}

/// What an engine with no devices answers, for every request but `create`.
fn answer_without_daemon(request: &Request) -> Option<Result<Reply>> {
    use super::engine::{DRIVER_VERSION, TARGETS};
    let missing = |name: &String| Some(Err(BackendError::NoSuchDevice { name: name.clone() }));
    match request {
        Request::Create { .. } => None,
        Request::DriverVersion => Some(Ok(Reply::Version(DRIVER_VERSION))),
        Request::TargetVersions => Some(Ok(Reply::Targets(
            TARGETS
                .iter()
                .map(|(name, version)| TargetVersion {
                    name: name.to_string(),
                    version: *version,
                })
                .collect(),
        ))),
        Request::List => Some(Ok(Reply::List(Vec::new()))),
        Request::Shutdown { .. } => Some(Ok(Reply::Done)),
        Request::Load { name, .. }
        | Request::Clear { name }
        | Request::Suspend { name, .. }
        | Request::Resume { name }
        | Request::Remove { name }
        | Request::Rename { name, .. }
        | Request::Info { name }
        | Request::Table { name, .. }
        | Request::Status { name }
        | Request::Deps { name }
        | Request::Message { name, .. }
        | Request::WaitEvent { name, .. } => missing(name),
    }
}

fn wrong_major(name: &str, asked: u32, engine: u32) -> BackendError {
    BackendError::InvalidState {
        name: name.to_string(),
        reason: format!("major {asked} is not the engine's; its devices have major {engine}"),
    }
}

fn unexpected(reply: Reply) -> BackendError {
    BackendError::Protocol(format!("unexpected answer {reply:?}"))
}

/// Image paths in a table are made absolute here: the daemon runs in `/`.
fn absolute_paths(table: &[RawLine]) -> Vec<RawLine> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    table
        .iter()
        .map(|raw| match TableLine::from_raw(raw) {
            Ok(line) => TableLine {
                target: line.target.map_devices(|dev| match dev {
                    DevRef::Path(p) if p.is_relative() => DevRef::Path(cwd.join(p)),
                    other => other.clone(),
                }),
                ..line
            }
            .to_raw(),
            Err(_) => raw.clone(),
        })
        .collect()
}

impl Backend for UserspaceBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Userspace
    }

    fn driver_version(&self) -> Result<[u32; 3]> {
        match self.call(Request::DriverVersion)? {
            Reply::Version(v) => Ok(v),
            other => Err(unexpected(other)),
        }
    }

    fn target_versions(&self) -> Result<Vec<TargetVersion>> {
        match self.call(Request::TargetVersions)? {
            Reply::Targets(t) => Ok(t),
            other => Err(unexpected(other)),
        }
    }

    fn create(&self, name: &str, options: &CreateOptions) -> Result<DeviceInfo> {
        match self.call(Request::Create {
            name: name.into(),
            options: options.clone(),
            minor: None,
        })? {
            Reply::Info(i) => Ok(i),
            other => Err(unexpected(other)),
        }
    }

    fn create_numbered(
        &self,
        name: &str,
        options: &CreateOptions,
        major: Option<u32>,
        minor: u32,
    ) -> Result<DeviceInfo> {
        let info = match self.call(Request::Create {
            name: name.into(),
            options: options.clone(),
            minor: Some(minor),
        })? {
            Reply::Info(i) => i,
            other => return Err(unexpected(other)),
        };
        match major {
            Some(major) if major != info.major => {
                let _ = self.remove(name);
                Err(wrong_major(name, major, info.major))
            }
            _ => Ok(info),
        }
    }

    fn load(&self, name: &str, table: &[RawLine]) -> Result<()> {
        self.call(Request::Load {
            name: name.into(),
            table: absolute_paths(table),
        })
        .map(drop)
    }

    fn clear(&self, name: &str) -> Result<()> {
        self.call(Request::Clear { name: name.into() }).map(drop)
    }

    fn suspend(&self, name: &str, mode: SuspendMode) -> Result<()> {
        match self.call(Request::Suspend {
            name: name.into(),
            mode,
        })? {
            Reply::Done => Ok(()),
            Reply::Warnings(warnings) => {
                for warning in warnings {
                    crate::log::warning(warning);
                }
                Ok(())
            }
            other => Err(unexpected(other)),
        }
    }

    fn resume(&self, name: &str) -> Result<DeviceInfo> {
        match self.call(Request::Resume { name: name.into() })? {
            Reply::Info(i) => Ok(i),
            other => Err(unexpected(other)),
        }
    }

    fn remove(&self, name: &str) -> Result<()> {
        self.call(Request::Remove { name: name.into() }).map(drop)
    }

    fn rename(&self, name: &str, new_name: &str) -> Result<()> {
        self.call(Request::Rename {
            name: name.into(),
            new_name: new_name.into(),
        })
        .map(drop)
    }

    fn list(&self) -> Result<Vec<DeviceSummary>> {
        match self.call(Request::List)? {
            Reply::List(l) => Ok(l),
            other => Err(unexpected(other)),
        }
    }

    fn info(&self, name: &str) -> Result<DeviceInfo> {
        match self.call(Request::Info { name: name.into() })? {
            Reply::Info(i) => Ok(i),
            other => Err(unexpected(other)),
        }
    }

    fn table(&self, name: &str, slot: TableSlot) -> Result<Vec<RawLine>> {
        match self.call(Request::Table {
            name: name.into(),
            slot,
        })? {
            Reply::Lines(l) => Ok(l),
            other => Err(unexpected(other)),
        }
    }

    fn status(&self, name: &str) -> Result<Vec<RawLine>> {
        match self.call(Request::Status { name: name.into() })? {
            Reply::Lines(l) => Ok(l),
            other => Err(unexpected(other)),
        }
    }

    fn deps(&self, name: &str) -> Result<Vec<(u32, u32)>> {
        match self.call(Request::Deps { name: name.into() })? {
            Reply::Deps(d) => Ok(d),
            other => Err(unexpected(other)),
        }
    }

    fn message(&self, name: &str, sector: u64, message: &str) -> Result<Option<String>> {
        match self.call(Request::Message {
            name: name.into(),
            sector,
            message: message.into(),
        })? {
            Reply::Message(m) => Ok(m),
            other => Err(unexpected(other)),
        }
    }

    fn wait_event(
        &self,
        name: &str,
        event_nr: u32,
        timeout: Option<Duration>,
    ) -> Result<Option<DeviceInfo>> {
        // A wait may block for long: it gets its own connection so that
        // other calls on this backend go on meanwhile.
        let request = Request::WaitEvent {
            name: name.into(),
            event_nr,
            timeout_ms: timeout_ms(timeout),
        };
        let Ok(mut stream) = connect(&Layout::new(&self.dir).control_socket()) else {
            return answer_without_daemon(&request)
                .expect("a wait never starts the daemon")
                .map(|_| None);
        };
        match call(&mut stream, &request)? {
            Reply::MaybeInfo(i) => Ok(i),
            other => Err(unexpected(other)),
        }
    }

    fn node_path(&self, name: &str) -> PathBuf {
        Layout::new(&self.dir).mapper_dir().join(name)
    }

    fn lv_path(&self, vg: &str, lv: &str) -> PathBuf {
        self.dir.join(vg).join(lv)
    }

    fn read_ahead(&self, _info: &DeviceInfo) -> Option<u32> {
        // The engine's number is not a host block device's: sysfs under it
        // may name another device. The engine reads no ahead of its callers
        // (the FUSE and NBD clients do their own), and reports the kernel's
        // default for a new dm device so reports keep dmsetup's shape.
        Some(super::engine::READ_AHEAD_SECTORS)
    }

    fn mknodes(&self) -> Result<()> {
        Ok(())
    }
}
