//! Which directories may not be a root: the whole filesystem, and the kernel's
//! pseudo-filesystems, told by their file system type.
//!
//! A root on `proc`, `sysfs`, `debugfs`, a `cgroup` hierarchy, `devtmpfs`... would serve the
//! process's memory maps and environment, the machine's settings or its devices. What counts is
//! the file system a directory is on (`statfs`, and for `tmpfs`, whose magic number `devtmpfs`
//! shares, the type in `/proc/self/mountinfo`), not its path: `/dev/shm` is an ordinary `tmpfs`.
//! A root that does not exist on this machine (a configuration generated for another one) is
//! judged by its path instead: below `/proc`, `/sys` or `/dev` it is refused.

use std::path::{Path, PathBuf};

use super::{SETTING, has_nul, normalise_absolute};
use crate::error::ConfigError;

/// What a root setting must be before anything is opened, shared by every check of a root:
/// not empty, no NUL, made absolute and normalised (`.`, `..`, repeated separators), not the
/// whole filesystem, not on (or, where it does not exist here, below the mount points of) a
/// kernel pseudo-filesystem. Returns the normalised absolute path.
pub(crate) fn check_root_setting(path: &Path) -> Result<PathBuf, ConfigError> {
    if path.as_os_str().is_empty() {
        return Err(ConfigError::new(
            SETTING,
            "is empty; set it to the absolute path of the directory files are served from",
        ));
    }
    if has_nul(path) {
        return Err(ConfigError::new(
            SETTING,
            "contains a NUL byte; set it to the absolute path of the directory files are \
             served from",
        ));
    }
    let absolute = std::path::absolute(path).map_err(|e| {
        ConfigError::new(
            SETTING,
            format!(
                "`{}` is relative and the current directory cannot be read ({e}); use an \
                 absolute path",
                path.display()
            ),
        )
    })?;
    let configured = normalise_absolute(&absolute);
    match std::fs::canonicalize(&configured) {
        Ok(real) => refuse_system_directory(&real, &configured)?,
        Err(_) => refuse_by_path(&configured)?,
    }
    Ok(configured)
}

/// Refuses a root whose real directory is the whole filesystem or on a kernel
/// pseudo-filesystem.
pub(super) fn refuse_system_directory(real: &Path, configured: &Path) -> Result<(), ConfigError> {
    if real.parent().is_none() {
        return Err(refusal(configured, "the whole filesystem"));
    }
    match pseudo_filesystem(real) {
        Some(kind) => Err(refusal(
            configured,
            &format!(
                "on a kernel pseudo-filesystem ({kind}: it exposes the process's memory, \
                 environment and descriptors, or the machine's devices and settings)"
            ),
        )),
        None => Ok(()),
    }
}

/// For a root that does not exist here: the whole filesystem, or below the places the
/// kernel's pseudo-filesystems are mounted.
fn refuse_by_path(configured: &Path) -> Result<(), ConfigError> {
    if configured.parent().is_none() {
        return Err(refusal(configured, "the whole filesystem"));
    }
    match ["/proc", "/sys", "/dev"]
        .into_iter()
        .find(|system| configured.starts_with(system))
    {
        Some(system) => Err(refusal(
            configured,
            &format!(
                "below {system}, where the kernel's pseudo-filesystems are mounted (it does \
                 not exist on this machine, so it is judged by its path)"
            ),
        )),
        None => Ok(()),
    }
}

fn refusal(configured: &Path, what: &str) -> ConfigError {
    ConfigError::new(
        SETTING,
        format!(
            "`{}` is {what}, not a directory of files to download; set it to a directory that \
             holds only the files to serve, such as /srv/files",
            configured.display()
        ),
    )
}

/// The kernel pseudo-filesystem `real` is on, if any.
#[cfg(target_os = "linux")]
fn pseudo_filesystem(real: &Path) -> Option<&'static str> {
    const TMPFS: u64 = 0x0102_1994;
    let st = rustix::fs::statfs(real).ok()?;
    // The magic numbers fit in 32 bits; `f_type` is signed and 32 bits wide on some targets.
    #[allow(clippy::cast_sign_loss, reason = "compared on its low 32 bits")]
    let magic = (st.f_type as u64) & 0xffff_ffff;
    let kind = match magic {
        0x9fa0 => "proc",
        0x6265_6572 => "sysfs",
        0x6462_6720 => "debugfs",
        0x7472_6163 => "tracefs",
        0x0027_e0eb => "cgroup",
        0x6367_7270 => "cgroup2",
        0x7363_6673 => "securityfs",
        0xcafe_4a11 => "bpf",
        0x1cd1 => "devpts",
        0x6165_676c => "pstore",
        0xde5e_81e4 => "efivarfs",
        0x6265_6570 => "configfs",
        0xf97c_ff8c => "selinuxfs",
        0x4341_5d53 => "smackfs",
        0x1980_0202 => "mqueue",
        0x4249_4e4d => "binfmt_misc",
        0x6573_5543 => "fusectl",
        0x6e73_6673 => "nsfs",
        0x9584_58f6 => "hugetlbfs",
        TMPFS if mount_type(real).as_deref() == Some("devtmpfs") => "devtmpfs",
        _ => return None,
    };
    Some(kind)
}

/// The file system type `/proc/self/mountinfo` gives for the mount `path` is on.
#[cfg(target_os = "linux")]
fn mount_type(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let dev = std::fs::metadata(path).ok()?.dev();
    let id = format!("{}:{}", rustix::fs::major(dev), rustix::fs::minor(dev));
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw"; the last line for a
    // device is the mount on top.
    mountinfo
        .lines()
        .rev()
        .filter(|l| l.split(' ').nth(2) == Some(id.as_str()))
        .find_map(|l| l.split_once(" - ")?.1.split(' ').next().map(str::to_owned))
}

/// Elsewhere, the mount points of Linux's pseudo-filesystems.
#[cfg(not(target_os = "linux"))]
fn pseudo_filesystem(real: &Path) -> Option<&'static str> {
    ["/proc", "/sys", "/dev"]
        .into_iter()
        .find(|system| real.starts_with(system))
}
