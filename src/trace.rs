//! Phase timings for finding where a long command spends its time.

/// Phase timings on stderr when `U4SSC_TRACE` is set: where an import spends its time. All
/// marks share one clock, started by the first `Trace`.
pub struct Trace {
    on: bool,
}

static TRACE_START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

impl Trace {
    pub fn new() -> Trace {
        let on = std::env::var_os("U4SSC_TRACE").is_some();
        if on {
            TRACE_START.get_or_init(std::time::Instant::now);
        }
        Trace { on }
    }
    pub fn mark(&self, what: &str) {
        if let (true, Some(t)) = (self.on, TRACE_START.get()) {
            eprintln!("{:>9.3} s  {what}", t.elapsed().as_secs_f64());
        }
    }
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
}
