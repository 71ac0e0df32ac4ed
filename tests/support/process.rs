//! A child process of a test (the server, chromedriver) whose output goes to
//! a log file: the end of that log explains a failure, and the process is
//! killed and reaped when the test lets go of it.

use std::path::PathBuf;
use std::process::{Child, ExitStatus};

pub struct LoggedChild {
    child: Child,
    log_path: PathBuf,
}

impl LoggedChild {
    pub fn new(child: Child, log_path: PathBuf) -> LoggedChild {
        LoggedChild { child, log_path }
    }

    /// The last `lines` lines of the process's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How the process ended, if it already has.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for LoggedChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
