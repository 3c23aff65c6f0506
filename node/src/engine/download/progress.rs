//! A one-line progress display on an interactive stderr.

use std::io::{IsTerminal, Write};
use std::time::Instant;

pub struct Progress {
    enabled: bool,
    total: usize,
    done: usize,
    failed: usize,
    bytes: u64,
    started: Instant,
    last_draw: Option<Instant>,
}

impl Progress {
    pub fn new(enabled: bool, total: usize) -> Self {
        Self {
            enabled: enabled && std::io::stderr().is_terminal(),
            total,
            done: 0,
            failed: 0,
            bytes: 0,
            started: Instant::now(),
            last_draw: None,
        }
    }

    pub fn tick(&mut self, ok: bool, bytes: u64) {
        self.done += 1;
        self.failed += usize::from(!ok);
        self.bytes += bytes;
        if !self.enabled {
            return;
        }
        let due = self
            .last_draw
            .is_none_or(|t| t.elapsed().as_millis() >= 100)
            || self.done == self.total;
        if due {
            self.last_draw = Some(Instant::now());
            self.draw();
        }
    }

    fn draw(&self) {
        let width = 30usize;
        let filled = (self.done * width).checked_div(self.total).unwrap_or(width);
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {}/{} files, {} failed, {:.1} MiB, {:.1} MiB/s ",
            "#".repeat(filled),
            " ".repeat(width - filled),
            self.done,
            self.total,
            self.failed,
            self.bytes as f64 / 1048576.0,
            self.bytes as f64 / 1048576.0 / secs
        );
        if self.done == self.total {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}
