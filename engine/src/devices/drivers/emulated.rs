//! `emulated:PATH[,options]`: an image file that answers SCSI commands like
//! a drive (see the emulated recorder).

use crate::devices::driver::{Discovered, Driver};
use crate::devices::{DeviceError, Recorder};
use webburn_emulated::{EmulatedRecorder, EmulatedSpec, spec};

/// The emulated recorder's driver.
#[derive(Debug)]
pub struct EmulatedDriver;

impl Driver for EmulatedDriver {
    fn prefix(&self) -> &'static str {
        spec::PREFIX
    }

    fn kind(&self) -> &'static str {
        "emulated"
    }

    /// Emulated recorders exist only where they are configured.
    fn discover(&self) -> Vec<Discovered> {
        Vec::new()
    }

    fn open(&self, id: &str, _rest: &str) -> Result<Recorder, DeviceError> {
        let spec = EmulatedSpec::parse(id).map_err(DeviceError::driver)?;
        let canonical = spec.id();
        let rec = EmulatedRecorder::open(spec).map_err(DeviceError::driver)?;
        Ok(Recorder::from_transport(canonical, Box::new(rec)))
    }
}
