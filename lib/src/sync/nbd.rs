//! A minimal NBD client over a unix socket (`nbd+unix:///EXPORT?socket=PATH`),
//! enough to apply a stream to a device the userspace engine (or qemu-nbd,
//! nbdkit) exports: fixed newstyle handshake, `NBD_OPT_GO`, simple replies,
//! read, write and flush.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Mutex;

use super::error::SyncError;
use crate::io::BlockIo;

const NBDMAGIC: u64 = 0x4e42_444d_4147_4943;
const IHAVEOPT: u64 = 0x4948_4156_454f_5054;
const OPT_REPLY_MAGIC: u64 = 0x0003_e889_0455_65a9;
const FLAG_FIXED_NEWSTYLE: u16 = 1;
const FLAG_NO_ZEROES: u16 = 2;
const OPT_GO: u32 = 7;
const REP_ACK: u32 = 1;
const REP_INFO: u32 = 3;
const INFO_EXPORT: u16 = 0;
const TFLAG_READ_ONLY: u16 = 1 << 1;
const REQUEST_MAGIC: u32 = 0x2560_9513;
const SIMPLE_REPLY_MAGIC: u32 = 0x6744_6698;
const CMD_READ: u16 = 0;
const CMD_WRITE: u16 = 1;
const CMD_DISC: u16 = 2;
const CMD_FLUSH: u16 = 3;
/// Requests are split to stay well under every server's payload limit.
const MAX_REQUEST: usize = 4 << 20;

/// `nbd+unix:///EXPORT?socket=PATH` taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NbdUri {
    /// Export name.
    pub export: String,
    /// Unix socket path.
    pub socket: PathBuf,
}

impl NbdUri {
    /// Parse an `nbd+unix://` URI; `None` when `text` is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix("nbd+unix://")?;
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        let (export, query) = rest.split_once('?')?;
        let socket = query.split('&').find_map(|kv| kv.strip_prefix("socket="))?;
        Some(Self {
            export: export.to_string(),
            socket: PathBuf::from(socket),
        })
    }
}

/// One connection to an NBD export, as a [`BlockIo`].
#[derive(Debug)]
pub struct NbdDisk {
    stream: Mutex<UnixStream>,
    size: u64,
    read_only: bool,
    handle: std::sync::atomic::AtomicU64,
}

impl NbdDisk {
    /// Connect and pick the export.
    pub fn connect(uri: &str) -> Result<Self, SyncError> {
        let parsed = NbdUri::parse(uri).ok_or_else(|| SyncError::Nbd {
            uri: uri.into(),
            reason: "not nbd+unix:///EXPORT?socket=PATH".into(),
        })?;
        let fail = |reason: String| SyncError::Nbd {
            uri: uri.into(),
            reason,
        };
        let mut s = UnixStream::connect(&parsed.socket)
            .map_err(|e| SyncError::io(format!("{uri}: connecting"), e))?;
        let io = |e: io::Error| SyncError::io(format!("{uri}: handshake"), e);
        let magic = read_u64(&mut s).map_err(io)?;
        let opt = read_u64(&mut s).map_err(io)?;
        if magic != NBDMAGIC || opt != IHAVEOPT {
            return Err(fail("not a fixed-newstyle NBD server".into()));
        }
        let flags = read_u16(&mut s).map_err(io)?;
        if flags & FLAG_FIXED_NEWSTYLE == 0 {
            return Err(fail("server is not fixed newstyle".into()));
        }
        let client = u32::from(flags & (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES));
        let name = parsed.export.as_bytes();
        let mut req = Vec::new();
        req.extend_from_slice(&client.to_be_bytes());
        req.extend_from_slice(&IHAVEOPT.to_be_bytes());
        req.extend_from_slice(&OPT_GO.to_be_bytes());
        req.extend_from_slice(&(4 + name.len() as u32 + 2).to_be_bytes());
        req.extend_from_slice(&(name.len() as u32).to_be_bytes());
        req.extend_from_slice(name);
        req.extend_from_slice(&0u16.to_be_bytes());
        s.write_all(&req).map_err(io)?;
        let mut size = None;
        let mut read_only = false;
        loop {
            let magic = read_u64(&mut s).map_err(io)?;
            let _opt = read_u32(&mut s).map_err(io)?;
            let kind = read_u32(&mut s).map_err(io)?;
            let len = read_u32(&mut s).map_err(io)?;
            if magic != OPT_REPLY_MAGIC || len > 64 << 10 {
                return Err(fail("malformed option reply".into()));
            }
            let mut data = vec![0u8; len as usize];
            s.read_exact(&mut data).map_err(io)?;
            match kind {
                REP_ACK => break,
                REP_INFO
                    if data.len() >= 12
                        && u16::from_be_bytes([data[0], data[1]]) == INFO_EXPORT =>
                {
                    size = Some(u64::from_be_bytes(data[2..10].try_into().expect("8 bytes")));
                    read_only = u16::from_be_bytes([data[10], data[11]]) & TFLAG_READ_ONLY != 0;
                }
                REP_INFO => {}
                k if k & (1 << 31) != 0 => {
                    return Err(fail(format!(
                        "export \"{}\" refused: {}",
                        parsed.export,
                        String::from_utf8_lossy(&data)
                    )))
                }
                _ => return Err(fail(format!("unexpected option reply {kind}"))),
            }
        }
        let size = size.ok_or_else(|| fail("server gave no export size".into()))?;
        Ok(Self {
            stream: Mutex::new(s),
            size,
            read_only,
            handle: std::sync::atomic::AtomicU64::new(1),
        })
    }

    /// Whether the server exports the device read-only.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    fn request(
        &self,
        cmd: u16,
        offset: u64,
        payload: Option<&[u8]>,
        out: Option<&mut [u8]>,
    ) -> io::Result<()> {
        let len = payload
            .map(|p| p.len())
            .or(out.as_ref().map(|o| o.len()))
            .unwrap_or(0);
        let handle = self
            .handle
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut head = Vec::with_capacity(28);
        head.extend_from_slice(&REQUEST_MAGIC.to_be_bytes());
        head.extend_from_slice(&0u16.to_be_bytes());
        head.extend_from_slice(&cmd.to_be_bytes());
        head.extend_from_slice(&handle.to_be_bytes());
        head.extend_from_slice(&offset.to_be_bytes());
        head.extend_from_slice(&(len as u32).to_be_bytes());
        let mut s = self.stream.lock().unwrap_or_else(|p| p.into_inner());
        s.write_all(&head)?;
        if let Some(p) = payload {
            s.write_all(p)?;
        }
        let magic = read_u32(&mut *s)?;
        let error = read_u32(&mut *s)?;
        let got = read_u64(&mut *s)?;
        if magic != SIMPLE_REPLY_MAGIC || got != handle {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "malformed NBD reply",
            ));
        }
        if error != 0 {
            return Err(io::Error::from_raw_os_error(error as i32));
        }
        if let Some(out) = out {
            s.read_exact(out)?;
        }
        Ok(())
    }
}

impl BlockIo for NbdDisk {
    fn size_bytes(&self) -> io::Result<u64> {
        Ok(self.size)
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        for (i, piece) in buf.chunks_mut(MAX_REQUEST).enumerate() {
            self.request(
                CMD_READ,
                offset + (i * MAX_REQUEST) as u64,
                None,
                Some(piece),
            )?;
        }
        Ok(())
    }

    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        for (i, piece) in buf.chunks(MAX_REQUEST).enumerate() {
            self.request(
                CMD_WRITE,
                offset + (i * MAX_REQUEST) as u64,
                Some(piece),
                None,
            )?;
        }
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        self.request(CMD_FLUSH, 0, None, None)
    }
}

impl Drop for NbdDisk {
    fn drop(&mut self) {
        let mut head = Vec::with_capacity(28);
        head.extend_from_slice(&REQUEST_MAGIC.to_be_bytes());
        head.extend_from_slice(&0u16.to_be_bytes());
        head.extend_from_slice(&CMD_DISC.to_be_bytes());
        head.extend_from_slice(&[0u8; 20]);
        if let Ok(mut s) = self.stream.lock() {
            let _ = s.write_all(&head);
        }
    }
}

fn read_u16(r: &mut impl Read) -> io::Result<u16> {
    let mut b = [0u8; 2];
    r.read_exact(&mut b)?;
    Ok(u16::from_be_bytes(b))
}

fn read_u32(r: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_be_bytes(b))
}

fn read_u64(r: &mut impl Read) -> io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_be_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uris() {
        assert_eq!(
            NbdUri::parse("nbd+unix:///vg-copy?socket=/run/x/nbd.sock"),
            Some(NbdUri {
                export: "vg-copy".into(),
                socket: "/run/x/nbd.sock".into()
            })
        );
        assert_eq!(NbdUri::parse("/dev/vg/copy"), None);
        assert_eq!(NbdUri::parse("nbd+unix:///x"), None);
    }
}
