//! rdmd's control protocol: one request per dm operation over a unix socket.
//!
//! Every message is a frame: a little-endian u32 length, then that many bytes
//! of JSON. A connection opens with a [`Hello`] each way carrying the protocol
//! version; a server refuses a version it does not speak, so an old command
//! never misreads a new daemon.

use std::io::{self, Read, Write};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::backend::{
    BackendError, CreateOptions, DeviceInfo, DeviceSummary, SuspendMode, TableSlot, TargetVersion,
};
use crate::dm::RawLine;

/// The protocol version this build speaks.
/// (2: `Shutdown` carries `force`.)
pub const PROTOCOL_VERSION: u32 = 2;

/// The largest frame either side accepts (a table of thousands of lines fits easily).
pub const MAX_FRAME: u32 = 16 << 20;

/// The first frame each way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Always `rdmd`, so a stray client of another protocol fails at once.
    pub magic: String,
    /// [`PROTOCOL_VERSION`] of the sender.
    pub version: u32,
}

impl Hello {
    /// This build's hello.
    pub fn current() -> Self {
        Self {
            magic: "rdmd".into(),
            version: PROTOCOL_VERSION,
        }
    }
}

/// One dm operation: the [`crate::backend::Backend`] methods, as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// `driver_version`.
    DriverVersion,
    /// `target_versions`.
    TargetVersions,
    /// `create`.
    Create {
        name: String,
        options: CreateOptions,
        /// The minor asked for (`dmsetup -m`); `None` for the lowest free one.
        #[serde(default)]
        minor: Option<u32>,
    },
    /// `load`.
    Load { name: String, table: Vec<RawLine> },
    /// `clear`.
    Clear { name: String },
    /// `suspend`.
    Suspend { name: String, mode: SuspendMode },
    /// `resume`.
    Resume { name: String },
    /// `remove`.
    Remove { name: String },
    /// `rename`.
    Rename { name: String, new_name: String },
    /// `list`.
    List,
    /// `info`.
    Info { name: String },
    /// `table`.
    Table { name: String, slot: TableSlot },
    /// `status`.
    Status { name: String },
    /// `deps`.
    Deps { name: String },
    /// `message`.
    Message {
        name: String,
        sector: u64,
        message: String,
    },
    /// `wait_event`; `timeout_ms` `None` waits for ever.
    WaitEvent {
        name: String,
        event_nr: u32,
        timeout_ms: Option<u64>,
    },
    /// Stop the daemon (devices go, as at a reboot); refused with
    /// [`WireError::DeviceBusy`] while a program holds a device open, unless `force`.
    Shutdown {
        /// Stop even with devices open (their openers get I/O errors).
        force: bool,
    },
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// Nothing to return.
    Done,
    /// A version triple.
    Version([u32; 3]),
    /// Target versions.
    Targets(Vec<TargetVersion>),
    /// A device's info.
    Info(DeviceInfo),
    /// A device's info, or nothing (a wait that timed out).
    MaybeInfo(Option<DeviceInfo>),
    /// Devices.
    List(Vec<DeviceSummary>),
    /// Table or status lines.
    Lines(Vec<RawLine>),
    /// Dependencies.
    Deps(Vec<(u32, u32)>),
    /// A message's reply.
    Message(Option<String>),
    /// Done, with what could not be done on the way (a suspend's lockfs), one line each.
    Warnings(Vec<String>),
}

/// A failed answer: [`BackendError`] as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireError {
    /// [`BackendError::NoSuchDevice`].
    NoSuchDevice { name: String },
    /// [`BackendError::AlreadyExists`].
    AlreadyExists { name: String },
    /// [`BackendError::DeviceBusy`].
    DeviceBusy { name: String, reason: String },
    /// [`BackendError::InvalidTable`].
    InvalidTable { name: String, reason: String },
    /// [`BackendError::InvalidState`].
    InvalidState { name: String, reason: String },
    /// [`BackendError::MessageRefused`].
    MessageRefused { name: String, reason: String },
    /// [`BackendError::PermissionDenied`].
    PermissionDenied(String),
    /// Anything else, as text.
    Other(String),
}

impl From<BackendError> for WireError {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::NoSuchDevice { name } => WireError::NoSuchDevice { name },
            BackendError::AlreadyExists { name } => WireError::AlreadyExists { name },
            BackendError::DeviceBusy { name, reason } => WireError::DeviceBusy { name, reason },
            BackendError::InvalidTable { name, reason } => WireError::InvalidTable { name, reason },
            BackendError::InvalidState { name, reason } => WireError::InvalidState { name, reason },
            BackendError::MessageRefused { name, reason } => {
                WireError::MessageRefused { name, reason }
            }
            BackendError::PermissionDenied(why) => WireError::PermissionDenied(why),
            other => WireError::Other(other.to_string()),
        }
    }
}

impl From<WireError> for BackendError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::NoSuchDevice { name } => BackendError::NoSuchDevice { name },
            WireError::AlreadyExists { name } => BackendError::AlreadyExists { name },
            WireError::DeviceBusy { name, reason } => BackendError::DeviceBusy { name, reason },
            WireError::InvalidTable { name, reason } => BackendError::InvalidTable { name, reason },
            WireError::InvalidState { name, reason } => BackendError::InvalidState { name, reason },
            WireError::MessageRefused { name, reason } => {
                BackendError::MessageRefused { name, reason }
            }
            WireError::PermissionDenied(why) => BackendError::PermissionDenied(why),
            WireError::Other(text) => BackendError::Protocol(text),
        }
    }
}

/// The answer to one request.
pub type Response = Result<Reply, WireError>;

/// Write one frame holding `value`.
pub fn write_frame<T: Serialize>(out: &mut impl Write, value: &T) -> io::Result<()> {
    let body = serde_json::to_vec(value).map_err(io::Error::other)?;
    let len = u32::try_from(body.len())
        .ok()
        .filter(|&len| len <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "frame too large"))?;
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(&body);
    out.write_all(&frame)?;
    out.flush()
}

/// Read one frame; `Ok(None)` at a clean end of stream.
pub fn read_frame<T: for<'de> Deserialize<'de>>(input: &mut impl Read) -> io::Result<Option<T>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len);
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes exceeds the {MAX_FRAME}-byte limit"),
        ));
    }
    let mut body = vec![0u8; len as usize];
    input.read_exact(&mut body)?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// `Duration` to the wire's milliseconds.
pub fn timeout_ms(timeout: Option<Duration>) -> Option<u64> {
    timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_refuse_oversize() {
        let mut buf = Vec::new();
        let request = Request::Load {
            name: "vg-lv".into(),
            table: vec![RawLine {
                start: 0,
                length: 8,
                target_type: "zero".into(),
                params: String::new(),
            }],
        };
        write_frame(&mut buf, &request).unwrap();
        let back: Request = read_frame(&mut buf.as_slice()).unwrap().unwrap();
        assert_eq!(back, request);
        let none: Option<Request> = read_frame(&mut [].as_slice()).unwrap();
        assert!(none.is_none());
        let mut huge = (MAX_FRAME + 1).to_le_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        assert!(read_frame::<Request>(&mut huge.as_slice()).is_err());
        let garbage = [2u8, 0, 0, 0, b'{', b'x'];
        assert!(read_frame::<Request>(&mut garbage.as_slice()).is_err());
    }

    #[test]
    fn errors_survive_the_wire() {
        let e = BackendError::DeviceBusy {
            name: "vg-lv".into(),
            reason: "open".into(),
        };
        let back: BackendError = WireError::from(e).into();
        assert_eq!(back.to_string(), "vg-lv: device is busy (open)");
    }
}
