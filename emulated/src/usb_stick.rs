//! A USB mass-storage stick in software: a [`BulkPipe`] that reads CBWs,
//! runs each CDB on an emulated recorder, moves the data and answers CSWs,
//! keeping the sense of a failed command for the REQUEST SENSE that follows.
//! When the recorder vanishes (its `vanish-at` fault), every later USB
//! operation fails with `NoDevice`, as libusb reports an unplugged stick.
//! Used by the tests and the reliability battery.

use std::collections::VecDeque;
use std::time::Duration;

use super::{EmulatedRecorder, EmulatedSpec, OpenError, SpecError};
use webburn_scsi::sense::Sense;
use webburn_scsi::transport::usb_bot::wrapper::{Cbw, Csw, CswStatus};
use webburn_scsi::transport::usb_bot::{BulkPipe, Endpoint, PipeError};
use webburn_scsi::transport::{
    Completion, DataDirection, ScsiCommand, ScsiStatus, ScsiTransport, TransportError,
};

/// A simulated Bulk-Only stick over an emulated recorder.
#[derive(Debug)]
pub struct SimulatedStick {
    recorder: EmulatedRecorder,
    /// A command waiting for its OUT data.
    pending: Option<Cbw>,
    /// Data and then the CSW to send on bulk IN.
    to_host: VecDeque<Vec<u8>>,
    sense: Option<Sense>,
    unplugged: bool,
}

/// Why a simulated stick could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SimulatedError {
    /// The emulated recorder's spec did not parse.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Its image could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
}

impl SimulatedStick {
    /// A stick over the emulated recorder named `spec` (`emulated:PATH,...`).
    pub fn new(spec: &str) -> Result<Self, SimulatedError> {
        let spec = EmulatedSpec::parse(spec)?;
        Ok(SimulatedStick {
            recorder: EmulatedRecorder::open(spec)?,
            pending: None,
            to_host: VecDeque::new(),
            sense: None,
            unplugged: false,
        })
    }

    fn request_sense(&mut self, buf: &mut [u8]) -> Completion {
        let sense = self
            .sense
            .take()
            .unwrap_or(Sense::new(0, 0, 0))
            .to_fixed_bytes();
        let n = buf.len().min(sense.len());
        buf[..n].copy_from_slice(&sense[..n]);
        Completion {
            status: ScsiStatus::Good,
            sense: None,
            residue: buf.len() - n,
        }
    }

    fn run(&mut self, cbw: &Cbw, out: Option<&[u8]>) -> Result<(), PipeError> {
        let len = cbw.data_len as usize;
        let mut buf = vec![0u8; len];
        let completion = if cbw.cdb.first() == Some(&0x03) {
            self.request_sense(&mut buf)
        } else {
            let data = match out {
                Some(d) => DataDirection::ToDevice(d),
                None if cbw.data_in => DataDirection::FromDevice(&mut buf),
                None => DataDirection::None,
            };
            let command = ScsiCommand {
                cdb: &cbw.cdb,
                data,
                timeout: Duration::from_secs(30),
            };
            match self.recorder.execute(command) {
                Ok(c) => c,
                Err(TransportError::DeviceGone(_)) => {
                    self.unplugged = true;
                    return Err(PipeError::NoDevice);
                }
                Err(e) => return Err(PipeError::Other(e.to_string())),
            }
        };
        if cbw.data_in && len > 0 {
            self.to_host
                .push_back(buf[..len - completion.residue.min(len)].to_vec());
        }
        let status = if completion.status == ScsiStatus::Good {
            CswStatus::Passed
        } else {
            CswStatus::Failed
        };
        self.sense = completion.sense;
        let csw = Csw {
            tag: cbw.tag,
            residue: u32::try_from(completion.residue).unwrap_or(u32::MAX),
            status,
        };
        self.to_host.push_back(csw.encode().to_vec());
        Ok(())
    }

    fn present(&self) -> Result<(), PipeError> {
        if self.unplugged {
            Err(PipeError::NoDevice)
        } else {
            Ok(())
        }
    }
}

impl BulkPipe for SimulatedStick {
    fn bulk_out(&mut self, data: &[u8], _: Duration) -> Result<usize, PipeError> {
        self.present()?;
        if let Some(cbw) = self.pending.take() {
            self.run(&cbw, Some(data))?;
        } else {
            let cbw = Cbw::decode(data).ok_or(PipeError::Stall)?;
            if cbw.data_in || cbw.data_len == 0 {
                self.run(&cbw, None)?;
            } else {
                self.pending = Some(cbw);
            }
        }
        Ok(data.len())
    }

    fn bulk_in(&mut self, buf: &mut [u8], _: Duration) -> Result<usize, PipeError> {
        self.present()?;
        let next = self.to_host.pop_front().ok_or(PipeError::Timeout)?;
        let n = next.len().min(buf.len());
        buf[..n].copy_from_slice(&next[..n]);
        Ok(n)
    }

    fn clear_halt(&mut self, _: Endpoint) -> Result<(), PipeError> {
        self.present()
    }

    fn mass_storage_reset(&mut self) -> Result<(), PipeError> {
        self.present()?;
        self.pending = None;
        self.to_host.clear();
        Ok(())
    }

    fn get_max_lun(&mut self) -> Result<u8, PipeError> {
        self.present()?;
        Ok(0)
    }
}
