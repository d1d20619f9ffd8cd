//! How a table names a device: `major:minor`, or a path the kernel (or the
//! userspace engine) resolves to one.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use thiserror::Error;

/// A device argument in a table line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DevRef {
    /// `major:minor`, the form the kernel prints tables back in.
    Number {
        /// Major number.
        major: u32,
        /// Minor number.
        minor: u32,
    },
    /// A path (a block device node, a mapper node, or for the userspace
    /// engine an image file).
    Path(PathBuf),
}

/// A device argument that is neither `major:minor` nor a path.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DevRefError {
    /// Empty argument.
    #[error("device is empty")]
    Empty,
    /// Looks like `major:minor` but a part is not a 32-bit number.
    #[error("device \"{0}\" is not major:minor with numbers below 2^32")]
    BadNumber(String),
}

impl FromStr for DevRef {
    type Err = DevRefError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(DevRefError::Empty);
        }
        // The kernel's dm_get_device tries "%u:%u" first and a path otherwise;
        // a leading digit-colon shape is therefore always meant as a number.
        if let Some((major, minor)) = s.split_once(':') {
            if !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()) {
                let major = major
                    .parse()
                    .map_err(|_| DevRefError::BadNumber(s.to_string()))?;
                let minor = minor
                    .parse()
                    .map_err(|_| DevRefError::BadNumber(s.to_string()))?;
                return Ok(DevRef::Number { major, minor });
            }
        }
        Ok(DevRef::Path(PathBuf::from(s)))
    }
}

impl fmt::Display for DevRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DevRef::Number { major, minor } => write!(f, "{major}:{minor}"),
            DevRef::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_and_paths() {
        assert_eq!(
            "254:11".parse::<DevRef>().unwrap(),
            DevRef::Number {
                major: 254,
                minor: 11
            }
        );
        assert_eq!(
            "/dev/mapper/vg-lv".parse::<DevRef>().unwrap(),
            DevRef::Path("/dev/mapper/vg-lv".into())
        );
        assert!(matches!(
            "8:x".parse::<DevRef>(),
            Err(DevRefError::BadNumber(_))
        ));
        assert!(matches!(
            "8:99999999999".parse::<DevRef>(),
            Err(DevRefError::BadNumber(_))
        ));
        assert_eq!("".parse::<DevRef>(), Err(DevRefError::Empty));
    }
}
